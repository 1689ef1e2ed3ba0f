import type { Db, Prisma, Provider } from "../db/client.js";
import { type CreationCursor, firstMatching, type OrderedCondition } from "./creation-order.js";
import { ValidationError } from "./errors.js";
import { filesNearBox } from "./geo-index.js";
import { indexedCount } from "./indexed-count.js";
import { afterCursor, column, decodeCursor, encodeCursor, type FileOrderField, nullable } from "./listing-cursor.js";
import {
  checkedBox,
  conditionCount,
  directoryPrefix,
  type FileFilter,
  filterErrors,
  filterMetadata,
  filterWhere,
  idList,
} from "./listing-filter.js";
import { metadataRows } from "./metadata.js";
import { withLabels } from "./records.js";
import type { FileRecord } from "./types.js";

export interface FileOrder {
  field: FileOrderField;
  direction: "ASC" | "DESC";
}

export interface PageRequest {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface FilePage {
  edges: { cursor: string; node: FileRecord }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => Promise<number>;
}

const defaultOrder: FileOrder = { field: "CREATED_AT", direction: "DESC" };

const maxPageSize = 1000;

/** Files in a page when neither `first` nor `last` is given. */
export const defaultPageSize = 100;

/**
 * Most files a filter on a side table may match for the listing to name them by id: each id is a
 * bound parameter, and Prisma's SQLite adapter refuses a statement of more than 999 (at 5000, an
 * `assetIdsAny` matching 1000 files was an internal error).
 */
const maxCandidates = 500;

/**
 * The ids of the files that `assetIdsAny` (of several assets), `geoIntersects` and `metadata`
 * can match when no side table drives the listing (driverOf), read from those filters' own indexes, when one of them matches at most `maxCandidates` (the intersection
 * of those that do); undefined when none is given or each matches more. Without it both
 * databases' planners walk the creation-order index and probe each file, which reads thousands
 * of files for each match when matches are rare (0.1% and fewer); with it, they read the few
 * candidates by id. The filters' own conditions still decide.
 */
async function candidateIds(
  db: Db,
  provider: Provider,
  workspaceId: string,
  filter: FileFilter | null | undefined,
): Promise<string[] | undefined> {
  if (!filter) return undefined;
  const take = maxCandidates + 1;
  const lookups: Promise<string[]>[] = [];
  const fileIds = (rows: { fileId: string }[]) => rows.map((row) => row.fileId);
  if (filter.assetIdsAny != null) {
    // Counted first: with `take`, Prisma orders the rows by FileAsset's key, and PostgreSQL read
    // and sorted the 10,000 links of ten assets to return 501 of them (13 ms) only to drop them.
    const where = { workspaceId, assetId: { in: idList(filter.assetIdsAny, "assetIdsAny").map(BigInt) } };
    if ((await db.fileAsset.count({ where, take })) <= maxCandidates)
      lookups.push(db.fileAsset.findMany({ where, select: { fileId: true }, take }).then(fileIds));
  }
  if (filter.geoIntersects != null) {
    // The spatial index finds the files near the box and stops at `take` (src/files/geo-index.ts).
    lookups.push(filesNearBox(db, provider, workspaceId, checkedBox(filter.geoIntersects), take));
  }
  if (filter.metadata != null) {
    for (const { key, valueHash } of metadataRows(workspaceId, filterMetadata(filter.metadata))) {
      lookups.push(
        db.fileMetadata
          .findMany({ where: { workspaceId, key, valueHash }, select: { fileId: true }, take })
          .then(fileIds),
      );
    }
  }
  const bounded = (await Promise.all(lookups)).filter((ids) => ids.length <= maxCandidates).map((ids) => new Set(ids));
  const [first, ...others] = bounded;
  if (first === undefined) return undefined;
  return [...first].filter((id) => others.every((set) => set.has(id)));
}

/**
 * A side table whose index yields the files matching one condition of the filter in creation
 * order, with what that condition names: FileAncestor `(workspaceId, directory, createdAt,
 * fileId)` for a directoryPrefix, FileMetadata `(workspaceId, key, valueHash, createdAt, fileId)`
 * for a metadata key, FileAsset `(workspaceId, assetId, createdAt, fileId)` for one asset.
 */
type Driver =
  | { table: "ancestor"; directory: string }
  | { table: "metadata"; key: string; valueHash: string }
  | { table: "asset"; assetId: bigint };

/**
 * The side table to read a filter's files from, if it names one: a directory below the root, else
 * its first metadata key, else `assetIdsAny` of one asset. Reading it costs the page's own rows
 * (and those the rest of the filter skips) however rare or common the condition, where walking
 * File's creation order probes every file until the page is full: thousands for each match of
 * a 0.1% condition.
 */
function driverOf(filter: FileFilter | null | undefined, workspaceId: string): Driver | undefined {
  const directory = directoryPrefix(filter) || undefined;
  if (directory !== undefined) return { table: "ancestor", directory };
  if (filter?.metadata != null) {
    const [first] = metadataRows(workspaceId, filterMetadata(filter.metadata));
    if (first !== undefined) return { table: "metadata", key: first.key, valueHash: first.valueHash };
  }
  const assets = filter?.assetIdsAny == null ? [] : [...new Set(filter.assetIdsAny)];
  const [assetId] = assets;
  if (assets.length === 1 && assetId !== undefined) return { table: "asset", assetId: BigInt(assetId) };
  return undefined;
}

/**
 * A page in creation order of the files a driver's index yields that match `where`: the index
 * gives them in order, so the page costs its own rows (and those `where` skips), not every file
 * the driver's condition matches. `after` is a cursor condition on createdAt and fileId.
 */
async function pageThrough(
  db: Db,
  workspaceId: string,
  driver: Driver,
  where: Prisma.FileWhereInput,
  page: { sort: "asc" | "desc"; take: number; after: Prisma.FileWhereInput | undefined },
): Promise<FileRecord[]> {
  // The cursor condition names createdAt and fileId only, which each side table holds as File does.
  const after = page.after === undefined ? [] : [page.after as Record<string, unknown>];
  const read = {
    orderBy: [{ createdAt: page.sort }, { fileId: page.sort }],
    take: page.take,
    include: { file: { include: withLabels } },
  };
  const rows =
    driver.table === "ancestor"
      ? await db.fileAncestor.findMany({
          where: { AND: [{ workspaceId, directory: driver.directory, file: { is: where } }, ...after] },
          ...read,
        })
      : driver.table === "metadata"
        ? await db.fileMetadata.findMany({
            where: {
              AND: [{ workspaceId, key: driver.key, valueHash: driver.valueHash, file: { is: where } }, ...after],
            },
            ...read,
          })
        : await db.fileAsset.findMany({
            where: { AND: [{ workspaceId, assetId: driver.assetId, file: { is: where } }, ...after] },
            ...read,
          });
  return rows.map((row) => row.file);
}

/** How many files a driver's index yields that match `where`. */
function countThrough(db: Db, workspaceId: string, driver: Driver, where: Prisma.FileWhereInput): Promise<number> {
  const file = { is: where };
  switch (driver.table) {
    case "ancestor":
      return db.fileAncestor.count({ where: { workspaceId, directory: driver.directory, file } });
    case "metadata":
      return db.fileMetadata.count({ where: { workspaceId, key: driver.key, valueHash: driver.valueHash, file } });
    case "asset":
      return db.fileAsset.count({ where: { workspaceId, assetId: driver.assetId, file } });
  }
}

/**
 * The filter without the condition its driver's rows already meet, so the database is not asked
 * (and does not estimate) it twice: on PostgreSQL the repeated metadata condition made it expect
 * 1% of a key's files to match and plan a parallel walk, whose workers took 33 of its 40 ms.
 */
function withoutDriver(filter: FileFilter | null | undefined, driver: Driver): FileFilter {
  switch (driver.table) {
    case "ancestor":
      return { ...filter, directoryPrefix: null };
    case "asset":
      return { ...filter, assetIdsAny: null };
    case "metadata": {
      const { [driver.key]: _driven, ...others } = filterMetadata(filter?.metadata);
      return { ...filter, metadata: others };
    }
  }
}

/**
 * `assetIdsAny` of several assets, as a condition whose first files a page in creation order is
 * read among (src/files/creation-order.ts): their ranges cost the page whatever they match.
 */
function severalAssets(filter: FileFilter | null | undefined): OrderedCondition | undefined {
  const assets = [...new Set(filter?.assetIdsAny ?? [])];
  return assets.length > 1 ? { kind: "assets", assetIds: assets.map(BigInt) } : undefined;
}

/** A box (whose matches were too many to name by id) as a condition a page is read among. */
function largeBox(filter: FileFilter | null | undefined): OrderedCondition | undefined {
  return filter?.geoIntersects == null ? undefined : { kind: "box", box: filter.geoIntersects };
}

/**
 * The filter without the condition a page is read among: its first files meet it already
 * (firstMatching compares the same columns, or reads the assets' own links), so the page's
 * statement neither checks it again on each file nor makes Prisma compile it.
 */
function withoutOrdered(filter: FileFilter | null | undefined, condition: OrderedCondition): FileFilter {
  return condition.kind === "assets" ? { ...filter, assetIdsAny: null } : { ...filter, geoIntersects: null };
}

/**
 * A page in creation order (after `after`, when given) read among the first files `condition`
 * matches after it, when that is sure to be the page; else undefined. It is when the page is
 * full (every file the whole filter matches before its last one matches `condition`, so it is
 * among those files) or when they are all the files `condition` matches after the cursor.
 * `where` holds the rest of the filter (withoutOrdered), the read filter and the cursor's condition.
 */
async function pageAmong(
  db: Db,
  workspaceId: string,
  condition: OrderedCondition,
  where: Prisma.FileWhereInput,
  page: { sort: "asc" | "desc"; take: number; after: CreationCursor | undefined },
): Promise<FileRecord[] | undefined> {
  const { sort, take } = page;
  // Twice the page, for files the rest of the filter or the read filter leaves out; each id is a
  // bound parameter (maxCandidates).
  const limit = Math.min(maxCandidates, 2 * (take + 1));
  if (take + 1 > limit) return undefined;
  const first = await firstMatching(db, workspaceId, condition, sort, limit, page.after);
  const rows = await db.file.findMany({
    where: { AND: [where, { id: { in: first.ids } }] },
    orderBy: [{ createdAt: sort }, { id: sort }],
    take: take + 1,
    include: withLabels,
  });
  return rows.length === take + 1 || first.all ? rows : undefined;
}

/**
 * How many files the listing matches. With at most one condition that an index counts
 * (src/files/indexed-count.ts), that count, less the files matching it among those security
 * categories hide from the caller when there are any: counted from FileCategory's index, where
 * checking the read filter on each match took 43–883 ms at 1,000,000 files. Otherwise the matches
 * are counted, through the driver's index when there is one.
 */
async function countMatches(
  db: Db,
  provider: Provider,
  workspace: ListedWorkspace,
  filter: FileFilter | null | undefined,
  conditions: number,
  count: () => Promise<number>,
): Promise<number> {
  const indexed = conditions <= 1 ? indexedCount(db, provider, workspace.id, filter, conditions === 0) : undefined;
  if (indexed === undefined) return count();
  const hidden = await workspace.hiddenFiles();
  return hidden === null ? indexed.all() : indexed.excluding(hidden);
}

/** The workspace a listing reads, as the caller may read it (src/access/readable.ts). */
export interface ListedWorkspace {
  id: string;
  /** The caller's read filter in the workspace. */
  readable: Prisma.FileWhereInput;
  /**
   * The workspace's files that filter leaves out for their security categories (asked only for a
   * count an index answers): a statement selecting their ids, or null when there are none
   * (src/access/readable.ts, hiddenFilesIn).
   */
  hiddenFiles: () => Promise<Prisma.Sql | null>;
}

/** One page of a Relay connection over a workspace's files (keyset pagination). */
export async function listFiles(
  db: Db,
  provider: Provider,
  workspace: ListedWorkspace,
  filter: FileFilter | null | undefined,
  order: FileOrder | null | undefined,
  page: PageRequest,
): Promise<FilePage> {
  const { field, direction } = order ?? defaultOrder;
  for (const name of ["first", "last"] as const) {
    const count = page[name];
    if (count != null && (count < 0 || count > maxPageSize)) {
      throw ValidationError.field([name], `must be between 0 and ${maxPageSize}`);
    }
  }
  if (page.first != null && page.last != null) throw ValidationError.field(["last"], "cannot be combined with first");
  const badFilter = filter == null ? [] : filterErrors(filter);
  if (badFilter.length > 0) throw new ValidationError(badFilter);
  const backward = page.last != null || (page.before != null && page.first == null);
  const take = (backward ? page.last : page.first) ?? defaultPageSize;
  const cursorText = backward ? page.before : page.after;
  // Walking backward means reading in the opposite order, then reversing the page.
  const ascending = (direction === "ASC") !== backward;
  // The filter is checked (filterWhere throws on a bad one) before a driver or candidates are looked for.
  const unnarrowed = filterWhere(workspace.readable, filter);
  const driver = driverOf(filter, workspace.id);
  const cursor = cursorText == null ? undefined : decodeCursor(field, cursorText, backward ? "before" : "after");
  const sort = ascending ? "asc" : "desc";
  const after = cursor === undefined ? undefined : afterCursor(field, ascending, !backward, cursor);
  const withCursor = (where: Prisma.FileWhereInput) => (after === undefined ? where : { AND: [where, after] });
  const among = (condition: OrderedCondition) =>
    pageAmong(
      db,
      workspace.id,
      condition,
      withCursor(filterWhere(workspace.readable, withoutOrdered(filter, condition))),
      {
        sort,
        take,
        after: cursor && { createdAt: new Date(String(cursor.value)), id: cursor.id },
      },
    );
  const inCreationOrder = driver === undefined && field === "CREATED_AT";
  // Several assets' page is read among their first files before any candidate is looked up.
  const assets = inCreationOrder ? severalAssets(filter) : undefined;
  const amongAssets = assets === undefined ? undefined : await among(assets);
  // The candidates (candidateIds) are looked up once, when the page or a count needs them.
  let lookup: Promise<string[] | undefined> | undefined;
  const narrowed = async (): Promise<{ where: Prisma.FileWhereInput; named: boolean }> => {
    lookup ??= driver === undefined ? candidateIds(db, provider, workspace.id, filter) : Promise.resolve(undefined);
    const candidates = await lookup;
    return candidates === undefined
      ? { where: unnarrowed, named: false }
      : { where: { AND: [unnarrowed, { id: { in: candidates } }] }, named: true };
  };
  const readPage = async (): Promise<FileRecord[]> => {
    // A driver's index finds the files in creation order; the whole filter is still checked on
    // each (but the condition the driver's rows meet).
    if (driver !== undefined && field === "CREATED_AT") {
      return pageThrough(db, workspace.id, driver, filterWhere(workspace.readable, withoutDriver(filter, driver)), {
        sort,
        take: take + 1,
        after: cursor && afterCursor(field, ascending, !backward, cursor, "fileId"),
      });
    }
    const { where, named } = await narrowed();
    const box = inCreationOrder && assets === undefined && !named ? largeBox(filter) : undefined;
    const amongBox = box === undefined ? undefined : await among(box);
    return (
      amongBox ??
      db.file.findMany({
        where: withCursor(where),
        orderBy: [
          { [column[field]]: nullable(field) ? { sort, nulls: backward ? "first" : "last" } : sort },
          { id: sort },
        ],
        take: take + 1,
        include: withLabels,
      })
    );
  };
  const rows = amongAssets ?? (await readPage());
  const hasMore = rows.length > take;
  const nodes = rows.slice(0, take);
  if (backward) nodes.reverse();
  const edges = nodes.map((node) => ({ cursor: encodeCursor(field, node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: backward ? cursorText != null : hasMore,
      hasPreviousPage: backward ? hasMore : cursorText != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: () =>
      countMatches(db, provider, workspace, filter, conditionCount(unnarrowed), async () =>
        driver === undefined
          ? db.file.count({ where: (await narrowed()).where })
          : countThrough(db, workspace.id, driver, filterWhere(workspace.readable, withoutDriver(filter, driver))),
      ),
  };
}
