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
export function keepStatisticsFresh(database: Database): void {
  database.pragma("optimize=0x10002");
  const timer = setInterval(() => {
    if (database.open) database.pragma("optimize");
    else clearInterval(timer);
  }, statisticsIntervalMs);
  timer.unref();
}
