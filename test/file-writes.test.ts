import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, type File, Prisma } from "../src/db/client.js";
import { isUniqueViolation } from "../src/db/errors.js";
import { insertFile, type NewFile, updateFileFrom } from "../src/files/file-writes.js";
import { createMigratedDatabase, execute, type MigratedDatabase, testProvider } from "./helpers/database.js";

// src/files/file-writes.ts writes File rows with raw statements instead of Prisma's model
// queries. A row written that way must be the row Prisma writes, byte for byte in the database
// (SQLite keeps a DateTime as text, whose format the adapter chooses; PostgreSQL's timestamp
// and enum columns), or Prisma's later reads and the SQL that compares columns would disagree.

const columns = Object.values(Prisma.FileScalarFieldEnum);
/** Columns that differ between two rows written as alike as possible. */
const ownColumns = new Set(["id", "storageKey", "externalId"]);

describe(`raw File writes as Prisma's (${testProvider})`, () => {
  let database: MigratedDatabase;
  let db: Db;
  beforeAll(async () => {
    database = await createMigratedDatabase("files-writes-");
    db = database.db;
    await db.workspace.create({ data: { id: "w1", slug: "w1", name: "w1" } });
  });
  afterAll(() => database.close());

  /** A row as the database holds it: each column's stored text or number, and its storage type on SQLite. */
  async function stored(id: string): Promise<Record<string, unknown>> {
    if (testProvider === "postgresql") {
      const [row] = await execute(database.url, `SELECT to_jsonb(f) AS "row" FROM "File" f WHERE "id" = $1`, [id]);
      return row?.row as Record<string, unknown>;
    }
    const list = columns.map((column) => `"${column}", typeof("${column}") AS "${column}:type"`).join(", ");
    const [row] = await execute(database.url, `SELECT ${list} FROM "File" WHERE "id" = $1`, [id]);
    return row as Record<string, unknown>;
  }

  const without = (row: Record<string, unknown>, names: Set<string>) =>
    Object.fromEntries(Object.entries(row).filter(([name]) => !names.has(name.replace(/:type$/, ""))));

  /** A new row's columns, every one set (a fractional size of seconds, negative and fractional floats). */
  function fullRow(id: string): NewFile {
    const at = new Date("2026-11-29T17:12:13.456Z");
    return {
      id,
      workspaceId: "w1",
      name: "Ünïcode 100% _x_.bin",
      nameFolded: "ünïcode 100% _x_.bin",
      nameSearch: "ünïcode 100\uE000 \uE001x\uE001.bin",
      mimeType: "application/octet-stream",
      size: 9_007_199_254_740_993n,
      checksumSha256: "a".repeat(64),
      status: "PENDING",
      externalId: `ext-${id}`,
      directory: "/a/b",
      description: "d",
      source: "s",
      metadata: '{"k":58.322791623046875}',
      assetIds: "[1,2]",
      dataSetId: 7n,
      securityCategories: "[3]",
      geoLocation: '{"type":"Feature"}',
      geoMinLongitude: -12.5,
      geoMinLatitude: 0.1,
      geoMaxLongitude: 13,
      geoMaxLatitude: 45.000001,
      scope: "SESSION",
      entityId: "e",
      sessionId: "s1",
      sourceCreatedTime: new Date("1969-12-31T23:59:59.001Z"),
      sourceModifiedTime: new Date("2030-01-01T00:00:00.000Z"),
      width: 640,
      height: 480,
      storageKey: `w1/${id}`,
      uploadMethod: "MULTIPART",
      multipartUploadId: "mp",
      pendingForId: null,
      createdAt: at,
      updatedAt: at,
      uploadedAt: null,
      expiresAt: new Date(at.getTime() + 900_000),
    };
  }

  /** A new row with only the columns without a default. */
  function minimalRow(id: string): NewFile {
    const at = new Date("2026-11-29T17:00:00.000Z");
    return {
      id,
      workspaceId: "w1",
      name: "n",
      nameFolded: "n",
      storageKey: `w1/${id}`,
      uploadMethod: "PUT",
      status: "PENDING",
      createdAt: at,
      updatedAt: at,
    };
  }

  for (const [shape, row] of [
    ["every column set", fullRow],
    ["only the columns without a default", minimalRow],
  ] as const) {
    it(`inserts the row Prisma's create inserts (${shape}), and returns it as Prisma reads it`, async () => {
      const viaPrisma = row(randomUUID());
      const viaRaw = row(randomUUID());
      await db.file.create({ data: viaPrisma });
      const returned = await insertFile(db, viaRaw);
      expect(without(await stored(viaRaw.id), ownColumns)).toEqual(without(await stored(viaPrisma.id), ownColumns));
      expect(returned).toEqual(await db.file.findUnique({ where: { id: viaRaw.id } }));
      expect(without(returned, ownColumns)).toEqual(
        without((await db.file.findUnique({ where: { id: viaPrisma.id } })) as File, ownColumns),
      );
    });
  }

  it("updates a row as Prisma's updateMany does, only from the status named", async () => {
    const viaPrisma = minimalRow(randomUUID());
    const viaRaw = minimalRow(randomUUID());
    await db.file.createMany({ data: [viaPrisma, viaRaw] });
    const now = new Date("2026-11-29T18:01:02.003Z");
    const uploaded = {
      size: 4096n,
      checksumSha256: "b".repeat(64),
      mimeType: "image/png",
      width: 1,
      height: null,
      status: "UPLOADED",
      uploadedAt: now,
      updatedAt: now,
      expiresAt: null,
    } as const;
    const changed = await db.file.updateMany({ where: { id: viaPrisma.id, status: "PENDING" }, data: uploaded });
    expect(changed.count).toBe(1);
    expect(await updateFileFrom(db, viaRaw.id, "PENDING", uploaded)).toBe(true);
    expect(without(await stored(viaRaw.id), ownColumns)).toEqual(without(await stored(viaPrisma.id), ownColumns));
    // Already UPLOADED, and a file that is not there: nothing changes.
    expect(await updateFileFrom(db, viaRaw.id, "PENDING", { status: "FAILED" })).toBe(false);
    expect(await updateFileFrom(db, randomUUID(), "PENDING", { status: "FAILED" })).toBe(false);
    expect((await db.file.findUniqueOrThrow({ where: { id: viaRaw.id } })).status).toBe("UPLOADED");
  });

  it("fails a duplicate as Prisma's create does: a unique violation (P2002)", async () => {
    const first = { ...minimalRow(randomUUID()), externalId: "same" };
    await insertFile(db, first);
    const error = await insertFile(db, { ...minimalRow(randomUUID()), externalId: "same" }).catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
  });

  it("refuses a column the model does not have", async () => {
    const row = { ...minimalRow(randomUUID()), "id) VALUES ('x'); --": "x" } as NewFile;
    await expect(insertFile(db, row)).rejects.toThrow(/File has no column/);
  });
});
