import { type Db, Prisma, type Provider } from "../db/client.js";
import { rawRows } from "../db/raw.js";
import { countFilesInBox, countHiddenInBox } from "./geo-index.js";
import { directoryPrefix, type FileFilter, filterMetadata } from "./listing-filter.js";
import { metadataRows } from "./metadata.js";

// The count of a filter of at most one condition that an index answers alone, without the read
// filter: none (the workspace's maintained count), a directory prefix, one metadata pair, assets,
// data sets, a box. Their side rows (FileAncestor, FileMetadata, FileAsset, FileCategory),
// `dataSetId` and the spatial index belong to files only, never to an overwrite's pending row, so
// no read filter is needed: a range of index entries is counted (1% of a million files: about 1 ms
// where checking each file took 60–160 ms), and a box's files the index finds are checked against
// their columns (src/files/geo-index.ts). For a caller from whom security categories hide files,
// the files matching the condition among the hidden ones are subtracted (src/files/listing.ts).
//
// A range is then read once for both counts: each entry counted, and counted again when it is
// among the hidden files (an aggregate's FILTER; the database reads the hidden files once: a list
// SQLite builds, a hashed subplan on PostgreSQL). In a FILTER neither planner can start from the
// hidden files, which on SQLite meant 10,000 random reads of the range's table at 1,000,000 files
// (30–90 ms, where the range and its lookups take 5–20 ms); and the range's count is no second
// statement (through Prisma, 5 of the 21 ms of dataSetIds [7, 8, 9] on SQLite).

/** A filter's count on its index, of every file and without the hidden files. */
export interface IndexedCount {
  /** How many files of the workspace match. */
  all: () => Promise<number>;
  /**
   * How many files of the workspace match that `hidden` does not select: a statement selecting
   * the files' ids as "fileId", perhaps a file more than once (src/access/readable.ts, hiddenFilesIn).
   */
  excluding: (hidden: Prisma.Sql) => Promise<number>;
}

/**
 * The indexed count of a filter of at most one condition (`unfiltered`: none), if its condition
 * has an index; undefined for any other.
 */
export function indexedCount(
  db: Db,
  provider: Provider,
  workspaceId: string,
  filter: FileFilter | null | undefined,
  unfiltered: boolean,
): IndexedCount | undefined {
  if (unfiltered) {
    return lessAmong(
      async () => (await db.workspaceFileCount.findUnique({ where: { workspaceId } }))?.files ?? 0,
      // A file in several of the categories is one file. As a DISTINCT subquery PostgreSQL hashes
      // the ids, where `count(DISTINCT …)` sorted them by collation (29 against 6 ms for 10,000).
      (hidden) =>
        counted(
          db,
          Prisma.sql`SELECT count(*) AS "files" FROM (SELECT DISTINCT h."fileId" FROM (${hidden}) AS h) AS d`,
        ),
    );
  }
  const directory = directoryPrefix(filter);
  if (directory) {
    return inRange(
      db,
      () => db.fileAncestor.count({ where: { workspaceId, directory } }),
      Prisma.sql`"FileAncestor" a WHERE a."workspaceId" = ${workspaceId} AND a."directory" = ${directory}`,
      Prisma.sql`a."fileId"`,
    );
  }
  if (filter?.metadata != null) {
    const [pair, ...others] = metadataRows(workspaceId, filterMetadata(filter.metadata));
    if (pair === undefined || others.length > 0) return undefined;
    const { key, valueHash } = pair;
    return inRange(
      db,
      () => db.fileMetadata.count({ where: { workspaceId, key, valueHash } }),
      Prisma.sql`"FileMetadata" m WHERE m."workspaceId" = ${workspaceId} AND m."key" = ${key} AND m."valueHash" = ${valueHash}`,
      Prisma.sql`m."fileId"`,
    );
  }
  if (filter?.assetIdsAny != null) {
    const assetIds = [...new Set(filter.assetIdsAny)].map(BigInt);
    if (assetIds.length === 0) return noFiles;
    // A file linked to several of the assets is one file.
    return inRange(
      db,
      undefined,
      Prisma.sql`"FileAsset" a WHERE a."workspaceId" = ${workspaceId} AND a."assetId" IN (${Prisma.join(assetIds)})`,
      Prisma.sql`a."fileId"`,
      "distinct",
    );
  }
  if (filter?.dataSetIds != null) {
    const dataSetIds = filter.dataSetIds.map(BigInt);
    if (dataSetIds.length === 0) return noFiles;
    return inRange(
      db,
      () => db.file.count({ where: { workspaceId, dataSetId: { in: dataSetIds } } }),
      Prisma.sql`"File" f WHERE f."workspaceId" = ${workspaceId} AND f."dataSetId" IN (${Prisma.join(dataSetIds)})`,
      Prisma.sql`f."id"`,
    );
  }
  const box = filter?.geoIntersects;
  if (box == null) return undefined;
  return lessAmong(
    () => countFilesInBox(db, provider, workspaceId, box),
    (hidden) => countHiddenInBox(db, provider, workspaceId, box, hidden),
  );
}

/** A condition no file meets (an empty list of assets or data sets). */
const noFiles: IndexedCount = { all: async () => 0, excluding: async () => 0 };

/** Counts of every match and of the matches among the hidden files, two statements apart. */
function lessAmong(all: () => Promise<number>, among: (hidden: Prisma.Sql) => Promise<number>): IndexedCount {
  return {
    all,
    excluding: async (hidden) => {
      const [files, hiddenFiles] = await Promise.all([all(), among(hidden)]);
      return files - hiddenFiles;
    },
  };
}

/**
 * The counts of a range of index entries: `range` is the table with its alias and the range's
 * condition, `fileId` the entries' file (a file once per entry unless `distinct`). `all` through
 * Prisma's count when given (the statement it had), else on the driver.
 */
function inRange(
  db: Db,
  all: (() => Promise<number>) | undefined,
  range: Prisma.Sql,
  fileId: Prisma.Sql,
  distinct?: "distinct",
): IndexedCount {
  const files = distinct === undefined ? Prisma.sql`count(${fileId})` : Prisma.sql`count(DISTINCT ${fileId})`;
  return {
    all: all ?? (() => counted(db, Prisma.sql`SELECT ${files} AS "files" FROM ${range}`)),
    excluding: async (hidden) => {
      const [row] = await rawRows<{ files: bigint | number; hidden: bigint | number }>(
        db,
        Prisma.sql`SELECT ${files} AS "files", ${files} FILTER (WHERE ${fileId} IN (${hidden})) AS "hidden" FROM ${range}`,
      );
      return Number(row?.files ?? 0) - Number(row?.hidden ?? 0);
    },
  };
}

async function counted(db: Db, statement: Prisma.Sql): Promise<number> {
  const [row] = await rawRows<{ files: bigint | number }>(db, statement);
  return Number(row?.files ?? 0);
}
