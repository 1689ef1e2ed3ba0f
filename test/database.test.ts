import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveSchema, migratedSchemaFile, schemaFileOf, sourceSchemaFile } from "../scripts/prisma-providers.js";
import { getDatamodel } from "../src/db/generated/pothos-types.js";
import { migrate } from "../src/db/migrate.js";
import { createTestDatabase, execute, type TestDatabase, testProvider } from "./helpers/database.js";

describe("derived Prisma schemas", () => {
  it("prisma/postgresql/schema.prisma is derived from prisma/schema.prisma (run npm run generate)", () => {
    const source = readFileSync(sourceSchemaFile, "utf8");
    expect(readFileSync(schemaFileOf("postgresql"), "utf8")).toBe(deriveSchema(source, "postgresql"));
  });

  it("every change to prisma/schema.prisma has its migrations (run npm run db:diff -- <name>)", () => {
    expect(readFileSync(migratedSchemaFile, "utf8")).toBe(readFileSync(sourceSchemaFile, "utf8"));
  });
});

describe(`migrated database against the datamodel (${testProvider})`, () => {
  let dir: string;
  let database: TestDatabase;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "files-drift-"));
    database = await createTestDatabase(dir);
    await migrate(database.url);
  });
  afterAll(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function columnsOf(table: string): Promise<Map<string, boolean>> {
    const rows =
      testProvider === "postgresql"
        ? await execute(
            database.url,
            `SELECT column_name AS "name", is_nullable = 'NO' AS "notNull" FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1`,
            [table],
          )
        : await execute(database.url, `SELECT "name", "notnull" AS "notNull", "pk" FROM pragma_table_info($1)`, [
            table,
          ]);
    // SQLite reports a TEXT primary key as nullable unless declared NOT NULL; ours are.
    return new Map(rows.map((row) => [String(row.name), Boolean(row.notNull) || Boolean(row.pk)]));
  }

  // SQL the datamodel cannot express (WorkspaceFileCount in prisma/schema.prisma): a migration
  // rebuilding File (SQLite's way of changing a table) drops its triggers.
  it("has the triggers that keep each workspace's count of files (and on SQLite the spatial index)", async () => {
    const rows =
      testProvider === "postgresql"
        ? await execute(
            database.url,
            `SELECT tgname AS "name" FROM pg_trigger WHERE tgrelid = '"File"'::regclass AND NOT tgisinternal`,
          )
        : await execute(
            database.url,
            `SELECT "name" FROM sqlite_master WHERE "type" = 'trigger' AND "tbl_name" = 'File'`,
          );
    // On SQLite also those that keep the spatial index (0013_listing_geo), an R*Tree.
    const geo = testProvider === "sqlite" ? ["File_geo_delete", "File_geo_insert", "File_geo_update"] : [];
    expect(rows.map((row) => row.name).sort()).toEqual(
      ["File_count_delete", "File_count_insert", "File_count_update", ...geo].sort(),
    );
  });

  it("has the spatial index geoIntersects reads", async () => {
    const rows =
      testProvider === "postgresql"
        ? await execute(database.url, `SELECT indexname AS "name" FROM pg_indexes WHERE indexname = 'File_geoBox_idx'`)
        : await execute(database.url, `SELECT "name" FROM sqlite_master WHERE "name" = 'FileGeoBox'`);
    expect(rows).toHaveLength(1);
  });

  const models = Object.entries(getDatamodel().datamodel.models);
  for (const [model, { fields }] of models) {
    it(`table ${model} has a column, of the same nullability, for every scalar field`, async () => {
      const columns = await columnsOf(model);
      const expected = fields
        .filter((field) => field.kind === "scalar" || field.kind === "enum")
        .map((field) => [field.name, field.isRequired] as const);
      expect(expected.filter(([name, required]) => columns.get(name) !== required)).toEqual([]);
    });
  }
});
