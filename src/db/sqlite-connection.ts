import type { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import type { Database } from "better-sqlite3";

// Why: Prisma's better-sqlite3 adapter (6.19) keeps its connection private (as `client`) and
// tells nobody when it opens one, while the statement cache (statement-cache.ts) and the planner
// statistics (sqlite-statistics.ts) both need that connection, and the statements run beside
// Prisma (direct-sql.ts) need it and the adapter's transactions. Reaching in is checked at connect,
// where a change of the adapter fails the start instead of silently losing either.

/** What the adapter factory's `connect` gives Prisma. */
export type SqliteAdapter = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;

/**
 * The adapter factory `factory`, which gives each better-sqlite3 connection it opens to `setUp`,
 * with the adapter on it, before Prisma has it.
 */
export function onConnect(
  factory: PrismaBetterSQLite3,
  setUp: (connection: Database, adapter: SqliteAdapter) => void,
): PrismaBetterSQLite3 {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const { client } = adapter as unknown as { client?: Database };
    if (typeof client?.prepare !== "function" || typeof client.pragma !== "function")
      throw new Error(
        "@prisma/adapter-better-sqlite3 no longer keeps its connection as `client`: update src/db/sqlite-connection.ts",
      );
    setUp(client, adapter);
    return adapter;
  };
  return factory;
}
