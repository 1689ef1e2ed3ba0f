import { fileURLToPath } from "node:url";
import { printSchema } from "graphql";
import { schema } from "./index.js";

/** The committed copy of the printed schema at the repository root. */
export const schemaFile = fileURLToPath(new URL("../../schema.graphql", import.meta.url));

export function printedSchema(): string {
  return `${printSchema(schema)}\n`;
}
