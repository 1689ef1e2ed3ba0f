import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql has no "exports" map: Node loads its CommonJS build for every dependency (Pothos,
    // graphql-scalars, graphql-upload-minimal), while Vite would give our sources the .mjs build
    // through the "module" field, and graphql refuses to mix types from the two ("another realm").
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    // The AWS SDK warns once per process (each test worker) that its 2027 releases need Node 22;
    // the servers the tests start would repeat it a dozen times. Production keeps the warning.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    hookTimeout: 60_000,
    // Integration tests start servers and write to disk; two cores do best with two workers.
    maxWorkers: 2,
    // One copy of graphql: without inlining, Pothos and graphql-scalars (CommonJS) load
    // graphql's CommonJS build while the tests load its ES module build, and printSchema
    // rejects the scalars as coming "from another module or realm".
    server: { deps: { inline: [/graphql/, /@pothos/] } },
  },
});
