import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { knownMigrations, migrate } from "../src/db/migrate.js";
import { createTestDatabase, execute, type TestDatabase, testProvider } from "./helpers/database.js";
import { completeUpload, sha256 } from "./helpers/files.js";
import { startServer } from "./helpers/server.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function emptyDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "files-migrations-"));
  const database = await createTestDatabase(dir);
  cleanups.push(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });
  return database;
}

const known = knownMigrations(testProvider);

/** A database migrated to the schema before migration `next`, with workspace w1 (slug `default`). */
async function databaseBefore(next: string): Promise<TestDatabase> {
  const database = await emptyDatabase();
  await migrate(
    database.url,
    known.filter((migration) => migration.name < next),
  );
  await execute(database.url, `INSERT INTO "Workspace" ("id", "slug", "name") VALUES ('w1', 'default', 'Default')`);
  return database;
}

describe(`migrations (${testProvider})`, () => {
  it("brings an empty database to the newest schema, then has nothing left to apply", async () => {
    const database = await emptyDatabase();
    expect(await migrate(database.url)).toEqual(known.map((migration) => migration.name));
    expect(await migrate(database.url)).toEqual([]);
    const rows = await execute(database.url, `SELECT "name" FROM "_migrations" ORDER BY "name"`);
    expect(rows.map((row) => row.name)).toEqual(known.map((migration) => migration.name));
  });

  it("upgrades the previous release's database (0001 only), keeping its files and labels", async () => {
    expect(known.length).toBeGreaterThan(1);
    const database = await emptyDatabase();
    await migrate(database.url, known.slice(0, 1));
    const now = new Date().toISOString();
    await execute(database.url, `INSERT INTO "Workspace" ("id", "slug", "name") VALUES ('w1', 'w1', 'W')`);
    await execute(
      database.url,
      `INSERT INTO "File" ("id", "workspaceId", "name", "nameFolded", "status", "directory", "storageKey", "uploadMethod", "createdAt", "updatedAt")
       VALUES ('f1', 'w1', '100%_Done\\.TXT', '100%_done\\.txt', 'UPLOADED', '/Old/files', 'w1/f1', 'PUT', $1, $1)`,
      [testProvider === "postgresql" ? new Date(now) : now],
    );
    await execute(
      database.url,
      `INSERT INTO "FileLabel" ("fileId", "workspaceId", "label") VALUES ('f1', 'w1', 'kept')`,
    );
    for (const [id, directory] of [
      ["f2", "/"],
      ["f3", null],
      ["f4", "/a/b c/é"],
    ]) {
      await execute(
        database.url,
        `INSERT INTO "File" ("id", "workspaceId", "name", "nameFolded", "status", "directory", "storageKey", "uploadMethod", "createdAt", "updatedAt")
         VALUES ($1, 'w1', 'x', 'x', 'UPLOADED', $2, $1, 'PUT', $3, $3)`,
        [id, directory, testProvider === "postgresql" ? new Date(now) : now],
      );
    }

    expect(await migrate(database.url)).toEqual(known.slice(1).map((migration) => migration.name));
    const [file] = await execute(
      database.url,
      `SELECT "name", "nameSearch", "directory" FROM "File" WHERE "id" = 'f1'`,
    );
    expect(file).toEqual({
      name: "100%_Done\\.TXT",
      nameSearch: "100\uE000\uE001done\uE002.txt",
      directory: "/Old/files",
    });
    const labels = await execute(database.url, `SELECT "label" FROM "FileLabel" WHERE "fileId" = 'f1'`);
    expect(labels).toEqual([{ label: "kept" }]);
    // 0003 lists each file under its directory and every ancestor but the root.
    const ancestors = await execute(
      database.url,
      `SELECT "fileId", "directory" FROM "FileAncestor" ORDER BY "fileId", "directory"`,
    );
    expect(ancestors).toEqual([
      { fileId: "f1", directory: "/Old" },
      { fileId: "f1", directory: "/Old/files" },
      { fileId: "f4", directory: "/a" },
      { fileId: "f4", directory: "/a/b c" },
      { fileId: "f4", directory: "/a/b c/é" },
    ]);
  });

  it("upgrades a database of the schema before 0006 with files: their metadata is kept, as JSON, and filterable", async () => {
    const database = await databaseBefore("0006");
    const now = new Date();
    const at = testProvider === "postgresql" ? now : now.toISOString();
    // Escapes in the stored JSON text: the hash of each value must be the one the server computes.
    const metadata = { note: 'line\nbreak\u0001 "quoted" \\ é', plain: "x" };
    for (const [id, stored] of [
      ["f1", JSON.stringify(metadata)],
      ["f2", JSON.stringify({ plain: "y" })],
      ["f3", "{}"],
    ] as const) {
      await execute(
        database.url,
        `INSERT INTO "File" ("id", "workspaceId", "name", "nameFolded", "nameSearch", "status", "metadata", "storageKey", "uploadMethod", "createdAt", "updatedAt")
         VALUES ($1, 'w1', $1, $1, $1, 'UPLOADED', $2, $1, 'PUT', $3, $3)`,
        [id, stored, at],
      );
    }
    const server = await startServer({ DATABASE_URL: database.url });
    cleanups.push(() => server.close());
    const files = await server.graphql<{ files: { edges: { node: { name: string; metadata: unknown } }[] } }>(
      `query ($filter: FileFilter) { files(workspaceId: "default", filter: $filter) { edges { node { name metadata } } } }`,
      { filter: { metadata: { note: metadata.note } } },
    );
    expect(files.data.files.edges).toEqual([{ node: { name: "f1", metadata } }]);
    const byPlain = await server.graphql<{ files: { edges: { node: { name: string } }[] } }>(
      `{ files(workspaceId: "default", filter: { metadata: { plain: "y" } }) { edges { node { name } } } }`,
    );
    expect(byPlain.data.files.edges).toEqual([{ node: { name: "f2" } }]);
  });

  it("upgrades a database of the schema before 0013 with located files into the spatial index", async () => {
    const database = await databaseBefore("0013");
    const at = testProvider === "postgresql" ? new Date() : new Date().toISOString();
    // g3 is an overwrite's pending row of g1: no file of its own, whatever its columns say.
    for (const [id, longitude, pendingFor] of [
      ["g1", 5, null],
      ["g2", 50, null],
      ["g3", 6, "g1"],
    ] as const) {
      await execute(
        database.url,
        `INSERT INTO "File" ("id", "workspaceId", "name", "nameFolded", "nameSearch", "status", "storageKey", "uploadMethod",
           "createdAt", "updatedAt", "geoMinLongitude", "geoMaxLongitude", "geoMinLatitude", "geoMaxLatitude", "pendingForId")
         VALUES ($1, 'w1', $1, $1, $1, 'UPLOADED', $1, 'PUT', $2, $2, $3, $3, 1, 1, $4)`,
        [id, at, longitude, pendingFor],
      );
    }
    const server = await startServer({ DATABASE_URL: database.url });
    cleanups.push(() => server.close());
    const listed = await server.graphql<{ files: { totalCount: number; edges: { node: { name: string } }[] } }>(
      `{ files(workspaceId: "default", filter: { geoIntersects: { minLongitude: 0, minLatitude: 0, maxLongitude: 10, maxLatitude: 10 } }) {
        totalCount edges { node { name } } } }`,
    );
    expect(listed.data.files).toEqual({ totalCount: 1, edges: [{ node: { name: "g1" } }] });
  });

  it("upgrades an overwrite in flight under the previous schema into the file's pending upload", async () => {
    const database = await databaseBefore("0006_c");
    const at = testProvider === "postgresql" ? new Date() : new Date().toISOString();
    const insert = `INSERT INTO "File" ("id", "workspaceId", "name", "nameFolded", "nameSearch", "status", "externalId", "size", "checksumSha256",
        "storageKey", "uploadMethod", "replacesId", "pendingExternalId", "createdAt", "updatedAt", "uploadedAt")
      VALUES ($1, 'w1', $1, $1, $1, $2, $3, $4, $5, $6, 'PUT', $7, $8, $9, $9, $10)`;
    const old = Buffer.from("old");
    await execute(database.url, insert, ["x", "UPLOADED", "doc", 3, sha256(old), "w1/x", null, null, at, at]);
    await execute(database.url, insert, ["n", "PENDING", null, 3, null, "w1/n", "x", "doc", at, null]);
    await execute(database.url, `INSERT INTO "FileLabel" ("fileId", "workspaceId", "label") VALUES ('n', 'w1', 'new')`);

    const server = await startServer({ DATABASE_URL: database.url });
    cleanups.push(() => server.close());
    await server.app.storage.putObject("w1/x", Readable.from([old]), { contentType: "text/plain" });
    await server.app.storage.putObject("w1/n", Readable.from([Buffer.from("new")]), { contentType: "text/plain" });
    const query = `{ fileByExternalId(workspaceId: "default", externalId: "doc") { id name checksumSha256 pendingUpload { size } }
      files(workspaceId: "default") { totalCount } }`;
    const before = await server.graphql<{ fileByExternalId: { id: string }; files: { totalCount: number } }>(query);
    expect(before.data).toMatchObject({
      fileByExternalId: { name: "x", checksumSha256: sha256(old), pendingUpload: { size: 3 } },
      files: { totalCount: 1 },
    });
    const done = await completeUpload(server, before.data.fileByExternalId.id);
    expect(done.file).toMatchObject({ name: "x", checksumSha256: sha256(Buffer.from("new")) });
    const labels = await execute(database.url, `SELECT "label" FROM "FileLabel"`);
    expect(labels).toEqual([]);
  });

  it("upgrades a database of the schema before 0008 to enums, keeping every value and what reads them", async () => {
    const database = await databaseBefore("0008");
    const at = testProvider === "postgresql" ? new Date() : new Date().toISOString();
    const key = "upgrade-0008-key";
    await execute(database.url, `INSERT INTO "Principal" ("id", "kind", "subject") VALUES ('p1', 'API_KEY', 'old')`);
    await execute(database.url, `INSERT INTO "ApiKey" ("id", "hash", "principalId") VALUES ('k1', $1, 'p1')`, [
      createHash("sha256").update(key).digest("hex"),
    ]);
    await execute(
      database.url,
      `INSERT INTO "Membership" ("principalId", "workspaceId", "role") VALUES ('p1', 'w1', 'WRITER')`,
    );
    const insert = `INSERT INTO "File" ("id", "workspaceId", "name", "nameFolded", "nameSearch", "status", "scope", "entityId",
        "storageKey", "uploadMethod", "createdAt", "updatedAt", "expiresAt")
      VALUES ($1, 'w1', $1, $1, $1, $2, $3, $4, $1, $5, $6, $6, $7)`;
    const later =
      testProvider === "postgresql" ? new Date(Date.now() + 3600_000) : new Date(Date.now() + 3600_000).toISOString();
    await execute(database.url, insert, ["a", "UPLOADED", "WORKSPACE", null, "PUT", at, null]);
    await execute(database.url, insert, ["b", "PENDING", "ENTITY", "e1", "MULTIPART", at, later]);
    await execute(database.url, insert, ["c", "FAILED", "SESSION", null, "POST", at, null]);
    await execute(
      database.url,
      `INSERT INTO "Webhook" ("id", "workspaceId", "url", "events", "secret", "createdAt") VALUES ('h1', 'w1', 'http://127.0.0.1:9/', 'UPLOADED,DELETED', 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', $1)`,
      [at],
    );
    await execute(
      database.url,
      `INSERT INTO "WebhookDelivery" ("webhookId", "eventId", "eventType", "fileId", "payload", "status", "nextAttemptAt", "retryUntil", "createdAt", "deliveredAt")
       VALUES ('h1', 'e1', 'UPLOAD_ABORTED', 'a', '{}', 'DELIVERED', $1, $1, $1, $1)`,
      [at],
    );

    expect(await migrate(database.url)).toEqual(
      known.filter((migration) => migration.name >= "0008").map((migration) => migration.name),
    );
    const files = await execute(
      database.url,
      `SELECT "id", "status", "scope", "uploadMethod" FROM "File" ORDER BY "id"`,
    );
    expect(files).toEqual([
      { id: "a", status: "UPLOADED", scope: "WORKSPACE", uploadMethod: "PUT" },
      { id: "b", status: "PENDING", scope: "ENTITY", uploadMethod: "MULTIPART" },
      { id: "c", status: "FAILED", scope: "SESSION", uploadMethod: "POST" },
    ]);

    const server = await startServer({ DATABASE_URL: database.url });
    cleanups.push(() => server.close());
    // The key's grant is read by raw SQL comparing the kind and reading the role.
    const listing = await server.graphql<{
      files: { edges: { node: { name: string; status: string; scope: string } }[] };
    }>(
      `{ files(workspaceId: "default", filter: { status: PENDING, scope: ENTITY }) { edges { node { name status scope } } } }`,
      {},
      { authorization: `Bearer ${key}` },
    );
    expect(listing.data.files.edges).toEqual([{ node: { name: "b", status: "PENDING", scope: "ENTITY" } }]);
    const created = await server.graphql<{ createFile: { file: { status: string; scope: string } } }>(
      `mutation { createFile(input: { workspaceId: "default", name: "new.txt", scope: SESSION, sessionId: "00000000-0000-4000-8000-000000000000" }) { ... on CreateFilePayload { file { status scope } } } }`,
      {},
      { authorization: `Bearer ${key}` },
    );
    expect(created.data.createFile.file).toEqual({ status: "PENDING", scope: "SESSION" });
    const deliveries = await execute(database.url, `SELECT "eventType", "status" FROM "WebhookDelivery"`);
    expect(deliveries).toEqual([{ eventType: "UPLOAD_ABORTED", status: "DELIVERED" }]);
  });

  it("stops the 0008 upgrade at a value outside its enum, and leaves the database as it was", async () => {
    const database = await emptyDatabase();
    const before = known.filter((migration) => migration.name < "0008");
    await migrate(database.url, before);
    const at = testProvider === "postgresql" ? new Date() : new Date().toISOString();
    await execute(database.url, `INSERT INTO "Workspace" ("id", "slug", "name") VALUES ('w1', 'default', 'Default')`);
    await execute(
      database.url,
      `INSERT INTO "File" ("id", "workspaceId", "name", "nameFolded", "nameSearch", "status", "storageKey", "uploadMethod", "createdAt", "updatedAt")
       VALUES ('a', 'w1', 'a', 'a', 'a', 'UPLOADED,PENDING', 'a', 'PUT', $1, $1)`,
      [at],
    );
    await expect(migrate(database.url)).rejects.toThrow(/0008_enums/);
    const applied = await execute(database.url, `SELECT "name" FROM "_migrations" ORDER BY "name"`);
    expect(applied.map((row) => row.name)).toEqual(before.map((migration) => migration.name));
    expect(await execute(database.url, `SELECT "status" FROM "File"`)).toEqual([{ status: "UPLOADED,PENDING" }]);
  });

  it("refuses to start against a database that is newer than the code", async () => {
    const database = await emptyDatabase();
    await migrate(database.url);
    await execute(
      database.url,
      `INSERT INTO "_migrations" ("name", "checksum", "appliedAt") VALUES ('9999_from_the_future', 'x', '2030-01-01')`,
    );
    await expect(migrate(database.url)).rejects.toThrow(/9999_from_the_future.*newer than this code/);
    await expect(startServer({ DATABASE_URL: database.url })).rejects.toThrow(/newer than this code/);
  });

  it("refuses a database whose applied migration was changed afterwards", async () => {
    const database = await emptyDatabase();
    await migrate(database.url);
    await execute(database.url, `UPDATE "_migrations" SET "checksum" = 'edited' WHERE "name" = $1`, [known[0]!.name]);
    await expect(migrate(database.url)).rejects.toThrow(/was changed after it was applied/);
  });
});
