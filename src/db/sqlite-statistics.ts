import type { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import type { Database } from "better-sqlite3";

// Why: SQLite's planner chooses indexes from the statistics ANALYZE stores (sqlite_stat1), and
// nothing refreshes them as the data grows. Migrations end with ANALYZE, but a database
// migrated while empty and grown since has statistics of empty tables: at 1,000,000 files a
// metadata page then walked File (11.8 s) instead of FileMetadata's index (0.5 ms). The SQLite
// documentation (https://sqlite.org/lang_analyze.html#autoanalyze) recommends, for long-lived
// connections, `PRAGMA optimize=0x10002` when a connection opens and `PRAGMA optimize`
// periodically: each analyzes only the tables whose size changed enough since their last
// analysis (since 3.46 within a fixed budget of rows per index), so it costs milliseconds when
// nothing changed, and the statements it affects are prepared again.

/** How often a connection refreshes the statistics of the tables it has queried. */
export const statisticsIntervalMs = 60 * 60 * 1000;

/**
 * Refreshes one connection's statistics at once (every table) and then every
 * `statisticsIntervalMs` (the tables it queried), until it closes.
 */
function keepStatisticsFresh(database: Database): void {
  database.pragma("optimize=0x10002");
  const timer = setInterval(() => {
    if (database.open) database.pragma("optimize");
    else clearInterval(timer);
  }, statisticsIntervalMs);
  timer.unref();
}

/** The adapter factory `factory`, whose connections keep their planner statistics fresh. */
export function withFreshStatistics(factory: PrismaBetterSQLite3): PrismaBetterSQLite3 {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const { client } = adapter as unknown as { client?: Database };
    if (typeof client?.pragma !== "function")
      throw new Error(
        "@prisma/adapter-better-sqlite3 no longer keeps its connection as `client`: update src/db/sqlite-statistics.ts",
      );
    keepStatisticsFresh(client);
    return adapter;
  };
  return factory;
}
