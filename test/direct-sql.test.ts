import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeyGrants, hashApiKey } from "../src/access/grants.js";
import { type Db, Prisma } from "../src/db/client.js";
import { rawRows } from "../src/db/raw.js";
import { readFileById } from "../src/files/file-reads.js";
import { insertFile, type NewFile } from "../src/files/file-writes.js";
import { createMigratedDatabase, type MigratedDatabase, testProvider } from "./helpers/database.js";

// The hot raw statements run on the driver directly (src/db/direct-sql.ts), outside Prisma. What
// they answer must be what Prisma's `$queryRaw` answers for the same statement, value for value
// and type for type (a Date, a bigint, a boolean, a number), and one run beside an interactive
// transaction must neither join it nor see what it has not committed.

const fileColumns = Object.values(Prisma.FileScalarFieldEnum);

describe(`raw statements on the driver, as Prisma's $queryRaw (${testProvider})`, () => {
  let database: MigratedDatabase;
  let db: Db;
  beforeAll(async () => {
    database = await createMigratedDatabase("files-direct-");
    db = database.db;
    await db.workspace.create({ data: { id: "w1", slug: "w1", name: "w1", public: true } });
    await db.principal.create({
      data: {
        id: "p1",
        kind: "API_KEY",
        apiKeys: { create: { id: "k1", hash: hashApiKey("key-1") } },
        memberships: { create: { workspaceId: "w1", role: "WRITER", categories: "[3,4]" } },
      },
    });
    await db.webhook.create({
      data: { id: "h1", workspaceId: "w1", url: "http://127.0.0.1:9/", events: "CREATED", secret: "s" },
    });
  });
  afterAll(() => database.close());

  function row(id: string): NewFile {
    const at = new Date("2026-11-29T17:12:13.456Z");
    return {
      id,
      workspaceId: "w1",
      name: "n",
      nameFolded: "n",
      size: 9_007_199_254_740_993n,
      dataSetId: 7n,
      geoMinLongitude: -12.5,
      width: 640,
      storageKey: `w1/${id}`,
      uploadMethod: "PUT",
      status: "PENDING",
      sourceCreatedTime: new Date("1969-12-31T23:59:59.001Z"),
      createdAt: at,
      updatedAt: at,
      expiresAt: new Date(at.getTime() + 900_000),
    };
  }

  it("answers a file with its labels and workspace as $queryRaw does, every column typed alike", async () => {
    const id = randomUUID();
    await db.file.create({ data: { ...row(id), labels: { create: [{ workspaceId: "w1", label: "a" }] } } });
    const statement = Prisma.sql`
      SELECT ${Prisma.raw(fileColumns.map((column) => `f."${column}"`).join(", "))},
        w."public" AS "workspacePublic", l."label" AS "label", COUNT(*) OVER () AS "rows"
      FROM "File" f JOIN "Workspace" w ON w."id" = f."workspaceId"
      LEFT JOIN "FileLabel" l ON l."fileId" = f."id" WHERE f."id" = ${id}`;
    const direct = await rawRows(db, statement);
    expect(direct).toHaveLength(1);
    expect(direct).toEqual(await db.$queryRaw(statement));
    expect(await readFileById(db, id)).toEqual({
      file: { ...(await db.file.findUnique({ where: { id } })), labels: [{ label: "a" }] },
      workspacePublic: true,
    });
  });

  it("answers an API key's grants and a workspace's webhooks as $queryRaw does", async () => {
    const grants = Prisma.sql`
      SELECT k."principalId", m."workspaceId", w."slug", w."public", m."role", m."categories", k."revokedAt"
      FROM "ApiKey" k LEFT JOIN "Membership" m ON m."principalId" = k."principalId"
      LEFT JOIN "Workspace" w ON w."id" = m."workspaceId" WHERE k."hash" = ${hashApiKey("key-1")}`;
    expect(await rawRows(db, grants)).toEqual(await db.$queryRaw(grants));
    expect(await apiKeyGrants(db, "key-1")).toEqual({
      principalId: "p1",
      grants: [{ workspaceId: "w1", slug: "w1", role: "WRITER", public: true, categories: [3, 4] }],
    });
    const webhooks = Prisma.sql`SELECT "id", "events", "createdAt" FROM "Webhook" WHERE "workspaceId" = ${"w1"}`;
    expect(await rawRows(db, webhooks)).toEqual(await db.$queryRaw(webhooks));
  });

  it("writes in a transaction through Prisma, and what it writes there is the same row", async () => {
    const inTransaction = await db.$transaction((tx) => insertFile(tx, row(randomUUID())));
    const direct = await insertFile(db, row(randomUUID()));
    const { id: _a, storageKey: _b, ...a } = inTransaction;
    const { id: _c, storageKey: _d, ...b } = direct;
    expect(b).toEqual(a);
  });

  /**
   * Opens an interactive transaction that creates workspace `id`, holds it open 200 ms and rolls
   * it back; resolves once the workspace is written in it, with the transaction's outcome to await
   * (wrapped: an async function's promise would wait for it).
   */
  async function openTransactionCreating(id: string): Promise<{ rolledBack: Promise<unknown> }> {
    let entered = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const rolledBack = db
      .$transaction(async (tx) => {
        await tx.workspace.create({ data: { id, slug: id, name: "u" } });
        entered();
        await new Promise((resolve) => setTimeout(resolve, 200));
        throw new Error("rolled back");
      })
      .catch((error: unknown) => error);
    await inside;
    return { rolledBack };
  }

  it("neither joins an open interactive transaction nor sees what it has not committed", async () => {
    const { rolledBack } = await openTransactionCreating("w-uncommitted");
    const id = randomUUID();
    const [written, seen] = await Promise.all([
      insertFile(db, row(id)),
      rawRows(db, Prisma.sql`SELECT "id" FROM "Workspace" WHERE "id" = ${"w-uncommitted"}`),
      rolledBack,
    ]);
    expect(written.id).toBe(id);
    expect(seen).toEqual([]);
    expect(await rolledBack).toBeInstanceOf(Error);
    expect(await db.file.findUnique({ where: { id }, select: { id: true } })).toEqual({ id });
  });

  it("keeps Prisma's own statements outside an open interactive transaction: a write there is not rolled back with it", async () => {
    const { rolledBack } = await openTransactionCreating("w-uncommitted-2");
    const [written, seen] = await Promise.all([
      db.workspace.create({ data: { id: "w-outside", slug: "w-outside", name: "o" } }),
      db.workspace.findUnique({ where: { id: "w-uncommitted-2" } }),
      rolledBack,
    ]);
    expect(written.id).toBe("w-outside");
    expect(seen).toBeNull();
    expect(await rolledBack).toBeInstanceOf(Error);
    expect(await db.workspace.findUnique({ where: { id: "w-outside" }, select: { id: true } })).toEqual({
      id: "w-outside",
    });
  });
});
