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
// the same condition is counted among the hidden files and subtracted (src/files/listing.ts):
// the condition's index range is read and each entry looked up among the hidden files, which the
// database reads once. `(id || '') IN (…)` keeps SQLite from reading the hidden files first and
// looking each one up in the range's table: 10,000 random reads at 1,000,000 files (30–90 ms)
// where the range and its lookups take 5–20 ms; PostgreSQL hashes the hidden ids either way.

/** The files among `hidden` (ids as "fileId"), as a condition on a column holding file ids. */
function amongHidden(column: Prisma.Sql, hidden: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(${column} || '') IN (${hidden})`;
}

/** A filter's count on its index, of every file and of the hidden files. */
export interface IndexedCount {
  /** How many files of the workspace match. */
  all: () => Promise<number>;
  /**
   * How many of the files `hidden` selects match: a statement selecting the files' ids as
   * "fileId", perhaps a file more than once (src/access/readable.ts, hiddenFilesIn).
   */
  among: (hidden: Prisma.Sql) => Promise<number>;
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
    return {
      all: async () => (await db.workspaceFileCount.findUnique({ where: { workspaceId } }))?.files ?? 0,
      // A file in several of the categories is one file. As a DISTINCT subquery PostgreSQL hashes
      // the ids, where `count(DISTINCT …)` sorted them by collation (29 against 6 ms for 10,000).
      among: (hidden) =>
        counted(
          db,
          Prisma.sql`SELECT count(*) AS "files" FROM (SELECT DISTINCT h."fileId" FROM (${hidden}) AS h) AS d`,
        ),
    };
  }
  const directory = directoryPrefix(filter);
  if (directory) {
    const where = Prisma.sql`a."workspaceId" = ${workspaceId} AND a."directory" = ${directory}`;
    return {
      all: () => db.fileAncestor.count({ where: { workspaceId, directory } }),
      among: (hidden) =>
        counted(
          db,
          Prisma.sql`SELECT count(*) AS "files" FROM "FileAncestor" a WHERE ${where} AND ${amongHidden(Prisma.sql`a."fileId"`, hidden)}`,
        ),
    };
  }
  if (filter?.metadata != null) {
    const [pair, ...others] = metadataRows(workspaceId, filterMetadata(filter.metadata));
    if (pair === undefined || others.length > 0) return undefined;
    const { key, valueHash } = pair;
    const where = Prisma.sql`m."workspaceId" = ${workspaceId} AND m."key" = ${key} AND m."valueHash" = ${valueHash}`;
    return {
      all: () => db.fileMetadata.count({ where: { workspaceId, key, valueHash } }),
      among: (hidden) =>
        counted(
          db,
          Prisma.sql`SELECT count(*) AS "files" FROM "FileMetadata" m WHERE ${where} AND ${amongHidden(Prisma.sql`m."fileId"`, hidden)}`,
        ),
    };
  }
  if (filter?.assetIdsAny != null) {
    const assetIds = [...new Set(filter.assetIdsAny)].map(BigInt);
    // A file linked to several of the assets is one file.
    const files = (hidden: Prisma.Sql) =>
      assetIds.length === 0
        ? Promise.resolve(0)
        : counted(
            db,
            Prisma.sql`SELECT count(DISTINCT a."fileId") AS "files" FROM "FileAsset" a
              WHERE a."workspaceId" = ${workspaceId} AND a."assetId" IN (${Prisma.join(assetIds)})${hidden}`,
          );
    return {
      all: () => files(Prisma.empty),
      among: (hidden) => files(Prisma.sql` AND ${amongHidden(Prisma.sql`a."fileId"`, hidden)}`),
    };
  }
  if (filter?.dataSetIds != null) {
    const dataSetIds = filter.dataSetIds.map(BigInt);
    return {
      all: () => db.file.count({ where: { workspaceId, dataSetId: { in: dataSetIds } } }),
      among: (hidden) =>
        dataSetIds.length === 0
          ? Promise.resolve(0)
          : counted(
              db,
              Prisma.sql`SELECT count(*) AS "files" FROM "File" f WHERE f."workspaceId" = ${workspaceId}
                AND f."dataSetId" IN (${Prisma.join(dataSetIds)}) AND ${amongHidden(Prisma.sql`f."id"`, hidden)}`,
            ),
    };
  }
  const box = filter?.geoIntersects;
  if (box == null) return undefined;
  return {
    all: () => countFilesInBox(db, provider, workspaceId, box),
    among: (hidden) => countHiddenInBox(db, provider, workspaceId, box, hidden),
  };
}

async function counted(db: Db, statement: Prisma.Sql): Promise<number> {
  const [row] = await rawRows<{ files: bigint | number }>(db, statement);
  return Number(row?.files ?? 0);
}
