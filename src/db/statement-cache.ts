import type { ColumnDefinition, Database, Statement } from "better-sqlite3";

// Why this wrapper: Prisma's better-sqlite3 adapter (6.19) prepares every statement again on
// every call (`client.prepare(sql).bind(args)`); SQLite's parse and plan of it cost about 6 % of
// the server's CPU in the flows bench (bench/README.md). Prisma issues the same few SQL texts
// over and over, so the connection's `prepare` is given a cache of prepared statements keyed by
// their SQL. A cached statement cannot be bound twice (better-sqlite3's `bind` is once per
// statement), so `prepare` answers an object with the part of the Statement API the adapter
// uses (`bind`, `reader`, `columns`, `raw().all`, `run`) that passes the arguments at each run.
// The statements' result columns are read once too: only a schema change could change them, and
// migrations run before the server connects. The connection comes from src/db/sqlite-connection.ts;
// the statements run beside Prisma (src/db/direct-sql.ts) take theirs from the same cache.

/** Most distinct SQL texts kept prepared; the least recently used goes first. */
const maxStatements = 500;

/** A prepared statement and its result columns, read once (a native call that builds new objects each time). */
export class PreparedStatement {
  private columnList: ColumnDefinition[] | undefined;

  constructor(readonly statement: Statement) {}

  get columns(): ColumnDefinition[] {
    this.columnList ??= this.statement.columns();
    return this.columnList;
  }
}

/** A cached statement with the arguments of one call. */
class BoundStatement {
  constructor(
    private readonly prepared: PreparedStatement,
    private readonly args: unknown[] = [],
  ) {}

  private get statement(): Statement {
    return this.prepared.statement;
  }

  bind(args: unknown[]): BoundStatement {
    return new BoundStatement(this.prepared, args);
  }

  get reader(): boolean {
    return this.statement.reader;
  }

  columns(): ColumnDefinition[] {
    return this.prepared.columns;
  }

  raw() {
    return { all: () => this.statement.raw(true).all(this.args) };
  }

  run() {
    return this.statement.run(this.args);
  }
}

/** The prepared statement of a SQL text, from the connection's cache. */
export type PrepareCached = (sql: string) => PreparedStatement;

/**
 * Gives one better-sqlite3 connection a cache of prepared statements, keyed by SQL text, and
 * returns the cache's own lookup.
 */
export function cacheStatements(database: Database): PrepareCached {
  const prepare = database.prepare.bind(database);
  const prepared = new Map<string, PreparedStatement>();
  const cached = (sql: string): PreparedStatement => {
    let statement = prepared.get(sql);
    if (statement === undefined) {
      statement = new PreparedStatement(prepare(sql));
      if (prepared.size >= maxStatements) prepared.delete(prepared.keys().next().value ?? "");
    } else {
      prepared.delete(sql);
    }
    prepared.set(sql, statement);
    return statement;
  };
  // The adapter reads only the members BoundStatement has (see the comment at the top).
  database.prepare = ((sql: string) => new BoundStatement(cached(sql))) as unknown as Database["prepare"];
  return cached;
}
