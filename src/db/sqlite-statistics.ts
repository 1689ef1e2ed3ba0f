import type { Database } from "better-sqlite3";

// Why: SQLite's planner chooses indexes from the statistics ANALYZE stores (sqlite_stat1), and
// nothing refreshes them as the data grows. Migrations end with ANALYZE, but a database
// migrated while empty and grown since has statistics of empty tables: at 1,000,000 files a
// metadata page then walked File (11.8 s) instead of FileMetadata's index (0.5 ms). The SQLite
// documentation (https://sqlite.org/lang_analyze.html#autoanalyze) recommends, for long-lived
// connections, `PRAGMA optimize=0x10002` when a connection opens and `PRAGMA optimize`
// periodically: each analyzes only the tables whose size changed tenfold since their last
// analysis (or with an index lacking statistics), so it costs milliseconds when nothing changed,
// and the statements it affects are prepared again.
//
// Every minute rather than every hour: a connection keeps the statistics it loaded, even after
// another connection's ANALYZE rewrote sqlite_stat1, and its own bulk writes change nothing
// until an optimize. Right after 1,000,000 files were loaded beside a running server, a page of
// one asset's files read File first (365 ms) instead of FileAsset's index (8 ms), and would have
// for up to an hour. A periodic optimize that finds nothing to do takes 0.2–0.3 ms; one that
// analyzes (a table grew or shrank tenfold) reads the whole table: at 1,000,000 files 1.6 s for
// File, 1.2 s for FileAncestor's 3,000,000 rows, 0.3–0.5 s for each other side table (2.9 s for
// all of them, as at open on a grown database without statistics), once per tenfold growth.

/**
 * `PRAGMA optimize`'s default mask (0xfffe) without 0x10, the limit of 2,000 rows per index that
 * its ANALYZE otherwise reads (since SQLite 3.46). A sampled ANALYZE stops after those rows and
 * extrapolates: a table of 1,000,000 files in one workspace read as 2,001 files a workspace, and a
 * 10° box's page walked the creation order (77–84 ms instead of 17). Without the limit a table is
 * analyzed in full, which optimize does only when the table's size changed tenfold since its last
 * analysis (or an index has no statistics): rare, and then the statistics are right.
 * `optimize=0x10002` at open sets no limit either.
 */
const periodicOptimizations = 0xfffe & ~0x10;

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
    else if (!database.inTransaction) database.pragma(`optimize=${periodicOptimizations}`);
  }, statisticsIntervalMs);
  timer.unref();
}
