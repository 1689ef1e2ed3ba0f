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
//
// Every minute rather than every hour: a connection keeps the statistics it loaded, even after
// another connection's ANALYZE rewrote sqlite_stat1, and its own bulk writes change nothing
// until an optimize. Right after 1,000,000 files were loaded beside a running server, a page of
// one asset's files read File first (365 ms) instead of FileAsset's index (8 ms), and would have
// for up to an hour. A periodic optimize that finds nothing to do takes 0.2–0.3 ms; one that
// analyzes (a table grew or shrank manyfold) 25–40 ms at 100,000 files, which is rare.

/** How often a connection refreshes the statistics of the tables it has queried. */
const statisticsIntervalMs = 60 * 1000;

/**
 * Refreshes one connection's statistics at once (every table) and then every
 * `statisticsIntervalMs` (the tables it queried), until it closes.
 */
export function keepStatisticsFresh(database: Database): void {
  database.pragma("optimize=0x10002");
  const timer = setInterval(() => {
    if (!database.open) clearInterval(timer);
    // Never inside a transaction Prisma has open on the connection: the ANALYZE would join it
    // (and be rolled back with it). The next tick refreshes them.
    else if (!database.inTransaction) database.pragma("optimize");
  }, statisticsIntervalMs);
  timer.unref();
}
