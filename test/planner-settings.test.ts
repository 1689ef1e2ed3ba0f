import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createDb } from "../src/db/client.js";
import { migrate } from "../src/db/migrate.js";
import { createTestDatabase, execute, type TestDatabase, testProvider } from "./helpers/database.js";

// The settings the server gives each database's planner (src/db/client.ts). SQLite's needs
// statistics of the data as it is (src/db/sqlite-statistics.ts).
describe.runIf(testProvider === "sqlite")("SQLite's write-ahead log", () => {
  it("is checkpointed every 10,000 pages, not inside every few dozen commits", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "files-wal-"));
    const database = await createTestDatabase(dir, "sqlite");
    await migrate(database.url);
    const db = createDb(database.url);
    try {
      expect(await db.$queryRawUnsafe("PRAGMA wal_autocheckpoint")).toEqual([{ wal_autocheckpoint: 10_000n }]);
    } finally {
      await db.$disconnect();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(testProvider === "sqlite")("SQLite planner statistics", () => {
  let dir: string;
  let database: TestDatabase;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "files-stats-"));
    database = await createTestDatabase(dir, "sqlite");
    await migrate(database.url);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** Adds `files` files (2,000 unless told) to the database, behind the back of any open connection. */
  const growFiles = async (files = 2000): Promise<void> => {
    await execute(database.url, `INSERT INTO "Workspace" ("id", "slug", "name") VALUES ('w', 'w', 'w')`);
    await execute(
      database.url,
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${files})
       INSERT INTO "File" ("id", "workspaceId", "name", "nameFolded", "status", "storageKey", "uploadMethod",
         "dataSetId", "updatedAt")
       SELECT 'f' || i, 'w', 'a', 'a', 'UPLOADED', 'k' || i, 'PUT', i % 10, '2026-01-01T00:00:00.000+00:00' FROM n`,
    );
  };
  /** The statistics of File's dataSetId index: none until something analyzes the table. */
  const dataSetIdStat = () =>
    execute(database.url, `SELECT "stat" FROM "sqlite_stat1" WHERE "tbl" = 'File' AND "idx" LIKE '%dataSetId%'`);

  it("are refreshed when the server connects to a database that grew since it was migrated", async () => {
    await growFiles();
    // The migration analyzed the tables while they were empty.
    expect(await dataSetIdStat()).toEqual([]);
    const db = createDb(database.url);
    try {
      await db.$queryRawUnsafe("SELECT 1");
      expect(await dataSetIdStat()).toEqual([{ stat: expect.stringMatching(/^2000 /) }]);
    } finally {
      await db.$disconnect();
    }
  });

  it("are refreshed within a minute when the database grew beside a running server's open connection", async () => {
    vi.useFakeTimers({ toFake: ["setInterval"] });
    const db = createDb(database.url);
    try {
      await db.$queryRawUnsafe(`SELECT count(*) FROM "File"`);
      await growFiles();
      expect(await dataSetIdStat()).toEqual([]);
      vi.advanceTimersByTime(60_000);
      expect(await dataSetIdStat()).toEqual([{ stat: expect.stringMatching(/^2000 /) }]);
    } finally {
      vi.useRealTimers();
      await db.$disconnect();
    }
  });

  it("are of every row, not a sample, when a table grew manyfold beside a running server's open connection", async () => {
    // SQLite's default `PRAGMA optimize` analyzes at most 2,000 rows of each index and
    // extrapolates: every file in one workspace read as 2,001 files a workspace, with which a
    // 10° box's page at 1,000,000 files walked the creation order (77–84 ms against 17).
    vi.useFakeTimers({ toFake: ["setInterval"] });
    const db = createDb(database.url);
    try {
      await db.$queryRawUnsafe(`SELECT count(*) FROM "File" WHERE "workspaceId" = 'w'`);
      await growFiles(20_000);
      vi.advanceTimersByTime(60_000);
      expect(
        await execute(
          database.url,
          `SELECT "stat" FROM "sqlite_stat1" WHERE "idx" = 'File_workspaceId_pendingForId_id_idx'`,
        ),
      ).toEqual([{ stat: expect.stringMatching(/^20000 20000 20000 1$/) }]);
    } finally {
      vi.useRealTimers();
      await db.$disconnect();
    }
  });
});

describe.runIf(testProvider === "postgresql")("PostgreSQL planner settings", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase("", "postgresql");
  });
  afterAll(() => database.drop());

  it("compile no plan with JIT on the server's connections", async () => {
    const db = createDb(database.url);
    try {
      expect(await db.$queryRawUnsafe("SHOW jit")).toEqual([{ jit: "off" }]);
    } finally {
      await db.$disconnect();
    }
  });
});
