// Writes the printed GraphQL schema to schema.graphql (`npm run schema:print`).
import { writeFileSync } from "node:fs";
import { printedSchema, schemaFile } from "../src/schema/printed.js";

writeFileSync(schemaFile, printedSchema());
console.log(`wrote ${schemaFile}`);
