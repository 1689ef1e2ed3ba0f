import type { Database } from "better-sqlite3";
import type pg from "pg";
import type { Prisma } from "./generated/sqlite/client.js";
import type { SqliteAdapter } from "./sqlite-connection.js";
import type { PrepareCached } from "./statement-cache.js";

// Why: Prisma 6.19 sends even a `$queryRaw` through its request pipeline and its WebAssembly query
// compiler, about a quarter of the server's CPU in the flows bench (bench/README.md, "flows"). The
// hottest raw statements (src/db/raw.ts says which) run here instead, on the driver Prisma itself
// uses: SQLite's one better-sqlite3 connection, with its cached prepared statements, or the pg
// pool. The SQL is the same `Prisma.Sql` they were written as, and each column comes back typed
// as `$queryRaw` types it (a Date, a bigint, a boolean, a number), which test/direct-sql.test.ts
// checks against `$queryRaw` on both providers.

/** Statements run beside Prisma, on its driver, outside any interactive transaction. */
export interface DirectSql {
  /** The rows of a statement, each column typed as `$queryRaw` types it. */
  query<T>(statement: Prisma.Sql): Promise<T[]>;
  /** How many rows a statement changed. */
  execute(statement: Prisma.Sql): Promise<number>;
}

const statementKinds = new Set(["SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK"]);

/** A statement's first keyword (`SELECT`, `INSERT`, `BEGIN`…), or `OTHER`: what metrics and spans name it by. */
export function statementKind(sql: string): string {
  const kind = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? "";
  return statementKinds.has(kind) ? kind : "OTHER";
}

/** Told of each statement run here, as Prisma's query events tell of its own (the metrics). */
export type StatementListener = (sql: string, seconds: number) => void;

/** A value as SQLite's adapter binds it (its `mapArg`): a Date as ISO text, a boolean as 0/1. */
function sqliteArg(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace("Z", "+00:00");
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

/** A SQLite value (integers as bigint: the adapter's connection uses safe integers) by its column's declared type. */
function sqliteValue(value: unknown, declaredType: string | null): unknown {
  if (value === null) return null;
  switch (declaredType?.toUpperCase()) {
    case "DATETIME":
      return typeof value === "string" ? new Date(value) : new Date(Number(value));
    case "BOOLEAN":
      return Number(value) !== 0;
    case "INTEGER":
    case "INT":
    case "REAL":
    case "FLOAT":
    case "DOUBLE":
      return Number(value);
    default:
      return value;
  }
}

/**
 * SQLite's connection is the one Prisma's adapter opened (src/db/sqlite-connection.ts hands it
 * over). The adapter serializes its interactive transactions with a mutex of its own, but not the
 * statements outside them: one run while a transaction is open runs inside it (it sees that
 * transaction's uncommitted rows, and a write is rolled back with it). So every statement outside
 * a transaction, these and Prisma's own (the adapter's `queryRaw` and `executeRaw` are wrapped at
 * connect), waits until none is open, checked synchronously just before it runs, so no BEGIN can
 * come between the check and the statement.
 */
export class SqliteDirectSql implements DirectSql {
  private database: Database | undefined;
  private prepare: PrepareCached | undefined;
  private transactionEnded: { promise: Promise<void>; resolve: () => void } | undefined;

  /** `connect` makes Prisma open its connection (which it does lazily), calling `attach`. */
  constructor(
    private readonly connect: () => Promise<void>,
    private readonly listener?: StatementListener,
  ) {}

  /** The connection Prisma's adapter opened, its statement cache, and the adapter to watch and wrap. */
  attach(database: Database, prepare: PrepareCached, adapter: SqliteAdapter): void {
    this.database = database;
    this.prepare = prepare;
    const start = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (...args) => {
      const transaction = await start(...args);
      const { commit, rollback } = transaction;
      transaction.commit = () => commit.call(transaction).finally(() => this.ended());
      transaction.rollback = () => rollback.call(transaction).finally(() => this.ended());
      return transaction;
    };
    const queryRaw = adapter.queryRaw.bind(adapter);
    const executeRaw = adapter.executeRaw.bind(adapter);
    adapter.queryRaw = (query) => this.whenIdle(() => queryRaw(query));
    adapter.executeRaw = (query) => this.whenIdle(() => executeRaw(query));
  }

  private ended(): void {
    const waiting = this.transactionEnded;
    this.transactionEnded = undefined;
    waiting?.resolve();
  }

  /**
   * `run`'s result, `run` called synchronously once no interactive transaction is open on the
   * connection (a transaction that began while this waited is waited for too).
   */
  private async whenIdle<R>(run: (prepare: PrepareCached) => R): Promise<Awaited<R>> {
    if (this.database === undefined) await this.connect();
    for (;;) {
      const { database, prepare } = this;
      if (database === undefined || prepare === undefined)
        throw new Error("the SQLite connection was not handed over (src/db/sqlite-connection.ts)");
      if (!database.inTransaction) return await run(prepare);
      if (this.transactionEnded === undefined) {
        let resolve = () => {};
        const promise = new Promise<void>((done) => {
          resolve = done;
        });
        this.transactionEnded = { promise, resolve };
      }
      await this.transactionEnded.promise;
    }
  }

  query<T>(statement: Prisma.Sql): Promise<T[]> {
    return this.whenIdle((prepare) => {
      const started = performance.now();
      const prepared = prepare(statement.sql);
      const rows = prepared.statement.raw(true).all(statement.values.map(sqliteArg)) as unknown[][];
      const columns = prepared.columns;
      const result = rows.map((row) => {
        const object: Record<string, unknown> = {};
        for (let index = 0; index < columns.length; index++) {
          const column = columns[index];
          if (column !== undefined) object[column.name] = sqliteValue(row[index], column.type);
        }
        return object as T;
      });
      this.listener?.(statement.sql, (performance.now() - started) / 1000);
      return result;
    });
  }

  execute(statement: Prisma.Sql): Promise<number> {
    return this.whenIdle((prepare) => {
      const started = performance.now();
      const { changes } = prepare(statement.sql).statement.run(statement.values.map(sqliteArg));
      this.listener?.(statement.sql, (performance.now() - started) / 1000);
      return changes;
    });
  }
}

/** A Date as PostgreSQL's adapter binds it to a `timestamp(3)`: UTC, without a zone. */
function postgresArg(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace("T", " ").replace("Z", "");
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** pg's type ids of the results typed otherwise than pg's defaults do. */
const INT8 = 20;
const TIMESTAMP = 1114;

/** int8 as a bigint and `timestamp` (UTC without a zone, as Prisma writes it) as a Date; the rest as pg parses it. */
function postgresParser(types: typeof pg.types) {
  return (oid: number, format?: "text" | "binary") => {
    if (oid === INT8) return (text: string) => BigInt(text);
    if (oid === TIMESTAMP) return (text: string) => new Date(`${text.replace(" ", "T")}Z`);
    return format === "binary" ? types.getTypeParser(oid, "binary") : types.getTypeParser(oid);
  };
}

/**
 * PostgreSQL's statements run on the pool Prisma's adapter uses (so the connection limit is
 * the pool's), each on whichever connection is free: outside a transaction, as on SQLite.
 */
export class PostgresDirectSql implements DirectSql {
  private readonly types: { getTypeParser: ReturnType<typeof postgresParser> };

  constructor(
    private readonly pool: pg.Pool,
    types: typeof pg.types,
    private readonly listener?: StatementListener,
  ) {
    this.types = { getTypeParser: postgresParser(types) };
  }

  private async run(statement: Prisma.Sql): Promise<pg.QueryResult> {
    const started = performance.now();
    // pg's QueryConfig types `types` for its own parsers' signatures, which these match at run time.
    const result = await this.pool.query({
      text: statement.text,
      values: statement.values.map(postgresArg),
      types: this.types as unknown as pg.CustomTypesConfig,
    });
    this.listener?.(statement.text, (performance.now() - started) / 1000);
    return result;
  }

  async query<T>(statement: Prisma.Sql): Promise<T[]> {
    return (await this.run(statement)).rows as T[];
  }

  async execute(statement: Prisma.Sql): Promise<number> {
    return (await this.run(statement)).rowCount ?? 0;
  }
}
