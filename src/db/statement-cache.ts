import type { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import type { Database, Statement } from "better-sqlite3";

// Why this wrapper: Prisma's better-sqlite3 adapter (6.19) prepares every statement again on
// every call (`client.prepare(sql).bind(args)`); SQLite's parse and plan of it cost about 6 % of
// the server's CPU in the flows bench (bench/README.md). Prisma issues the same few SQL texts
// over and over, so the connection's `prepare` is given a cache of prepared statements keyed by
// their SQL. A cached statement cannot be bound twice (better-sqlite3's `bind` is once per
// statement), so `prepare` answers an object with the part of the Statement API the adapter
// uses (`bind`, `reader`, `columns`, `raw().all`, `run`) that passes the arguments at each run.
// It relies on the adapter keeping its connection as `client`: checked at connect, where a
// change would fail the start rather than silently lose the cache.

/** Most distinct SQL texts kept prepared; the least recently used goes first. */
const maxStatements = 500;

/** A cached statement with the arguments of one call. */
class BoundStatement {
  constructor(
    private readonly statement: Statement,
    private readonly args: unknown[] = [],
  ) {}

  bind(args: unknown[]): BoundStatement {
    return new BoundStatement(this.statement, args);
  }

  get reader(): boolean {
    return this.statement.reader;
  }

  columns() {
    return this.statement.columns();
  }

  raw() {
    return { all: () => this.statement.raw(true).all(this.args) };
  }

  run() {
    return this.statement.run(this.args);
  }
}

/** Gives one better-sqlite3 connection a cache of prepared statements, keyed by SQL text. */
function cacheStatements(database: Database): void {
  const prepare = database.prepare.bind(database);
  const prepared = new Map<string, Statement>();
  const cachedPrepare = (sql: string): BoundStatement => {
    let statement = prepared.get(sql);
    if (statement === undefined) {
      statement = prepare(sql);
      if (prepared.size >= maxStatements) prepared.delete(prepared.keys().next().value ?? "");
    } else {
      prepared.delete(sql);
    }
    prepared.set(sql, statement);
    return new BoundStatement(statement);
  };
  // The adapter reads only the members BoundStatement has (see the comment at the top).
  database.prepare = cachedPrepare as unknown as Database["prepare"];
}

/** The adapter factory `factory`, whose connections keep their prepared statements. */
export function withStatementCache(factory: PrismaBetterSQLite3): PrismaBetterSQLite3 {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const { client } = adapter as unknown as { client?: Database };
    if (typeof client?.prepare !== "function")
      throw new Error(
        "@prisma/adapter-better-sqlite3 no longer keeps its connection as `client`: update src/db/statement-cache.ts",
      );
    cacheStatements(client);
    return adapter;
  };
  return factory;
}
