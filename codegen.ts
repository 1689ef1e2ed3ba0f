// graphql-codegen: the types of src/client and src/web's operations, from schema.graphql
// (`npm run codegen`; a test fails when src/client/generated is stale).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: ["src/client/**/*.ts", "src/web/**/*.ts", "!src/client/generated/**"],
  ignoreNoDocuments: false,
  // Relative imports with .js, as NodeNext and browsers resolve them.
  emitLegacyCommonJSImports: false,
  generates: {
    "src/client/generated/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        // Operations are typed strings: no GraphQL library in the browser bundle.
        documentMode: "string",
        useTypeImports: true,
        enumsAsTypes: true,
        strictScalars: true,
        scalars: { DateTime: "string", JSON: "unknown", SafeInt: "number", Upload: "File | Blob" },
      },
    },
  },
};

export default config;
