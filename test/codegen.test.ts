import { readFile } from "node:fs/promises";
import path from "node:path";
import { generate } from "@graphql-codegen/cli";
import { expect, it } from "vitest";
import config from "../codegen.js";

const root = path.resolve(import.meta.dirname, "..");

it("src/client/generated is what graphql-codegen makes of schema.graphql and the operations (run npm run codegen)", async () => {
  const outputs = await generate({ ...config, cwd: root, silent: true }, false);
  expect(outputs.length).toBeGreaterThan(0);
  for (const output of outputs) {
    expect(await readFile(path.resolve(root, output.filename), "utf8"), output.filename).toBe(output.content);
  }
}, 60_000);
