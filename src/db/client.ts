import { mkdirSync } from "node:fs";
import path from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PostgresDirectSql, SqliteDirectSql, type StatementListener, statementKind } from "./direct-sql.js";
import { PrismaClient as PostgresClient } from "./generated/postgresql/client.js";
import { PrismaClient } from "./generated/sqlite/client.js";
import { runsDirectly } from "./raw.js";
import { onConnect } from "./sqlite-connection.js";
import { keepStatisticsFresh } from "./sqlite-statistics.js";
import { cacheStatements } from "./statement-cache.js";

/**
 * The Prisma client the code is typed against. Both providers' clients are generated from one
 * datamodel (prisma/schema.prisma); the SQLite one names the type.
 */
export type Db = PrismaClient;

/** The datamodel as Pothos' Prisma plugin reads it (src/schema/builder.ts), the same for both providers. */
export type { default as PothosPrismaTypes } from "./generated/pothos-types.js";
export { getDatamodel } from "./generated/pothos-types.js";
/**
 * Prisma's query and row types, named once here so the rest of the code names no provider
 * (both providers' clients share them, as `Db` explains).
 */
export type { File, FileLabel, FileVersion, Folder } from "./generated/sqlite/client.js";
export { Prisma } from "./generated/sqlite/client.js";
/** The schema's enums: each both the object of its values and their union type. */
export {
  FileScope,
  FileStatus,
  PrincipalKind,
  Role,
  UploadMethod,
  WebhookDeliveryStatus,
  WebhookEventType,
} from "./generated/sqlite/enums.js";
export type Provider = "sqlite" | "postgresql";

export function providerOf(databaseUrl: string): Provider {
  return /^postgres(ql)?:\/\//.test(databaseUrl) ? "postgresql" : "sqlite";
}

/** Path of the SQLite database file named by a `file:` URL, relative to the working directory. */
export function sqlitePath(databaseUrl: string): string {
  return path.resolve(databaseUrl.replace(/^file:/, "").replace(/\?.*$/, ""));
}

/** What a database client reports while it runs (the metrics at /metrics). */
export interface DbObserver {
  /** One SQL statement ran: its first keyword (`SELECT`, `INSERT`, `BEGIN`…) and how long it took. */
  statement(kind: string, seconds: number): void;
  /** The PostgreSQL connection pool exists; `sample` reads its current sizes. */
  pool(sample: () => PoolSample): void;
}

export interface PoolSample {
  /** Connections open. */
  total: number;
  /** Open and not in use. */
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

/** Tells `observer` of a statement by its first keyword. */
function statementListener(observer: DbObserver): StatementListener {
  return (sql, seconds) => observer.statement(statementKind(sql), seconds);
}

/** Statement durations from Prisma's query events, in seconds. */
function observeStatements(
  client: { $on(event: "query", listener: (event: { query: string; duration: number }) => void): void },
  listener: StatementListener,
): void {
  client.$on("query", (event) => listener(event.query, event.duration / 1000));
}

/**
 * A transaction waits up to 10 s for a connection (PostgreSQL: the pool's; SQLite: its one
 * writer) and may run 20 s: Prisma's defaults (2 s and 5 s) turned a burst of changes on a busy
 * server into internal errors.
 */
const transactionOptions = { maxWait: 10_000, timeout: 20_000 };

/**
 * Pages SQLite's write-ahead log may hold before a commit copies them into the database file
 * (SQLite's default: 1,000). That checkpoint runs inside the committing statement, on the event
 * loop (better-sqlite3 is synchronous), and copies every page changed since the last one: at
 * 4 KiB presigned flows one came every few dozen flows, copying the same hot pages (the File
 * table's ten indexes) each time. At 10,000 it comes a tenth as often (the server's CPU per flow
 * fell from 4.6–4.7 to 3.8–4.0 ms in the flows bench, bench/README.md); the log file grows to
 * about 40 MB. Durability is of the same kind (WAL with synchronous=NORMAL, better-sqlite3's
 * default: a commit survives a crash of the process; an OS crash or power loss may roll back
 * what was committed since the log was last synced, which checkpoints do, now a longer stretch).
 */
const walCheckpointPages = 10_000;

/** Opens the Prisma client for the database the URL names; `observer` receives its metrics. */
export function createDb(databaseUrl: string, observer?: DbObserver): Db {
  const log = observer === undefined ? [] : [{ emit: "event" as const, level: "query" as const }];
  const listener = observer === undefined ? undefined : statementListener(observer);
  if (providerOf(databaseUrl) === "postgresql") {
    // No JIT compilation: PostgreSQL compiles any plan costing over `jit_above_cost` (100,000),
    // which a count over a large workspace reaches, and compiling took 90–230 ms of such counts
    // at 1,000,000 files (bench/README.md) for statements that run once. An `options` parameter
    // in DATABASE_URL replaces this one.
    const pool = new pg.Pool({ connectionString: databaseUrl, options: "-c jit=off" });
    observer?.pool(() => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }));
    const client = new PostgresClient({
      adapter: new PrismaPg(pool, { disposeExternalPool: true }),
      log,
      transactionOptions,
    });
    if (listener !== undefined) observeStatements(client, listener);
    runsDirectly(client as unknown as Db, new PostgresDirectSql(pool, pg.types, listener));
    // The one place the PostgreSQL client passes as the SQLite client's type. Sound because
    // both are generated by the same Prisma version from the same datamodel (only the
    // datasource provider differs, scripts/prisma-providers.ts): the same models, fields,
    // inputs and results. The types differ only where the providers' capabilities do
    // (e.g. `mode: "insensitive"` and `createManyAndReturn` options exist only for
    // PostgreSQL), which this code does not use; the test suite runs on both providers.
    return client as unknown as Db;
  }
  const file = sqlitePath(databaseUrl);
  mkdirSync(path.dirname(file), { recursive: true });
  const direct = new SqliteDirectSql(() => client.$connect(), listener);
  // A writer waits up to 10 s for another connection's lock instead of failing at once.
  const adapter = onConnect(
    new PrismaBetterSQLite3({ url: `file:${file}`, timeout: 10_000 }),
    (connection, connected) => {
      direct.attach(connection, cacheStatements(connection), connected);
      keepStatisticsFresh(connection);
      connection.pragma(`wal_autocheckpoint = ${walCheckpointPages}`);
    },
  );
  const client = new PrismaClient({ adapter, log, transactionOptions });
  if (listener !== undefined) observeStatements(client, listener);
  runsDirectly(client, direct);
  return client;
}
