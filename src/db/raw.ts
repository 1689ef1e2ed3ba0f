import { inSpan } from "../telemetry/spans.js";
import type { Db, Prisma } from "./client.js";
import { type DirectSql, statementKind } from "./direct-sql.js";

// The raw statements of the hot paths (a file read by id, a workspace's webhooks, an API key's
// grants, createFile's INSERT and completeUpload's UPDATE) run through these two functions. Given
// the client `createDb` made, they run on its driver directly (src/db/direct-sql.ts says why);
// given a transaction's client, through Prisma in that transaction, which is the only way into
// it. Either way the statement and its result are the same (test/direct-sql.test.ts). A statement
// run directly has a span of its own, `db.query` with its kind, where Prisma's have theirs (no SQL
// text on either).

const direct = new WeakMap<object, DirectSql>();

/** Runs the raw statements given `db` on `sql` (called once, by `createDb`). */
export function runsDirectly(db: Db, sql: DirectSql): void {
  direct.set(db, sql);
}

/** The rows of `statement` on `db` (the client or a transaction's), typed as `$queryRaw` types them. */
export function rawRows<T>(db: Pick<Db, "$queryRaw">, statement: Prisma.Sql): Promise<T[]> {
  const sql = direct.get(db);
  if (sql === undefined) return db.$queryRaw<T[]>(statement);
  return inSpan("db.query", { "db.operation": statementKind(statement.sql) }, () => sql.query<T>(statement));
}

/** How many rows `statement` changed on `db` (the client or a transaction's). */
export function rawChanges(db: Pick<Db, "$executeRaw">, statement: Prisma.Sql): Promise<number> {
  const sql = direct.get(db);
  if (sql === undefined) return db.$executeRaw(statement);
  return inSpan("db.query", { "db.operation": statementKind(statement.sql) }, () => sql.execute(statement));
}
