import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { printedSchema, schemaFile } from "../src/schema/printed.js";

it("schema.graphql is the printed schema (run npm run schema:print)", () => {
  expect(readFileSync(schemaFile, "utf8")).toBe(printedSchema());
});
