import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // graphql@16 ships CommonJS (main) and ESM (module) builds. Node loads the CommonJS one for
    // every dependency; Vite would hand our sources the ESM one, and two copies of graphql
    // refuse each other's types ("from another module or realm"). Pin ours to Node's choice.
    alias: { graphql: createRequire(import.meta.url).resolve("graphql") },
  },
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start servers and write to disk; two cores do best with two workers.
    maxWorkers: 2,
    // One copy of graphql: without inlining, Pothos and graphql-scalars (CommonJS) load
    // graphql's CommonJS build while the tests load its ES module build, and printSchema
    // rejects the scalars as coming "from another module or realm".
    server: { deps: { inline: [/graphql/, /@pothos/] } },
  },
});
