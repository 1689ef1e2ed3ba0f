import { type Db, Prisma, type Provider } from "../db/client.js";
import { type CreationCursor, firstMatching, type OrderedCondition } from "./creation-order.js";
import { type FieldError, ValidationError } from "./errors.js";
import { type BoundingBox, boxErrors, splitAtAntimeridian } from "./geo.js";
import { countFilesInBox, filesNearBox } from "./geo-index.js";
import { metadataRows } from "./metadata.js";
import { searchForm, withLabels } from "./records.js";
import type { FileRecord, FileScope, FileStatus } from "./types.js";
import {
  MAX_DIRECTORY,
  MAX_EXTERNAL_ID,
  MAX_LABEL,
  MAX_LABELS,
  MAX_MIME_TYPE,
  MAX_NAME_LENGTH_CEILING,
  MAX_SCOPE_ID,
  metadataErrors,
  textProblem,
} from "./validation.js";

export interface FileFilter {
  status?: FileStatus | null;
  directory?: string | null;
  directoryPrefix?: string | null;
  mimeType?: string | null;
  labelsAny?: string[] | null;
  labelsAll?: string[] | null;
  externalIdPrefix?: string | null;
  nameContains?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  uploadedAfter?: Date | null;
  uploadedBefore?: Date | null;
  scope?: FileScope | null;
  entityId?: string | null;
  sessionId?: string | null;
  /** Files whose metadata has each of these keys with exactly that JSON value. */
  metadata?: unknown;
  /** Files linked to at least one of these assets. */
  assetIdsAny?: readonly number[] | null;
  /** Files in one of these data sets. */
  dataSetIds?: readonly number[] | null;
  /** Files whose geoLocation's bounding box meets this box (west > east crosses the antimeridian). */
  geoIntersects?: BoundingBox | null;
}

export type FileOrderField = "CREATED_AT" | "UPLOADED_AT" | "NAME" | "SIZE";
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

const column = {
  CREATED_AT: "createdAt",
  UPLOADED_AT: "uploadedAt",
  NAME: "nameFolded",
  SIZE: "size",
} as const satisfies Record<FileOrderField, keyof FileRecord>;

const defaultOrder: FileOrder = { field: "CREATED_AT", direction: "DESC" };
const maxPageSize = 1000;
/** Files in a page when neither `first` nor `last` is given. */
export const defaultPageSize = 100;

/**
 * Most labels `labelsAny` may name, and `labelsAll`: a file holds at most 10 labels, so more
 * could match nothing (and each is a condition PostgreSQL's planner pays for).
 */
const maxFilterLabels = { labelsAny: 100, labelsAll: MAX_LABELS } as const;

/**
 * Bounds on a filter's values: a list of labels is bounded (each one is a condition of the
 * query), and no string is longer than the field it is compared with can be.
 */
function filterErrors(filter: FileFilter): FieldError[] {
  const errors: FieldError[] = [];
  const strings = {
    directory: MAX_DIRECTORY,
    directoryPrefix: MAX_DIRECTORY,
    mimeType: MAX_MIME_TYPE,
    externalIdPrefix: MAX_EXTERNAL_ID,
    nameContains: MAX_NAME_LENGTH_CEILING,
    entityId: MAX_SCOPE_ID,
    sessionId: MAX_SCOPE_ID,
  } as const;
  for (const [field, max] of Object.entries(strings) as [keyof typeof strings, number][]) {
    const value = filter[field];
    if (value != null && [...value].length > max)
      errors.push({ path: ["filter", field], message: `must be at most ${max} characters` });
  }
  for (const field of ["labelsAny", "labelsAll"] as const) {
    const labels = filter[field] ?? [];
    if (labels.length > maxFilterLabels[field]) {
      errors.push({ path: ["filter", field], message: `must have at most ${maxFilterLabels[field]} labels` });
    } else if (labels.some((label) => [...label].length > MAX_LABEL)) {
      errors.push({ path: ["filter", field], message: `labels must be at most ${MAX_LABEL} characters` });
    }
  }
  return errors;
}

/** The directory a `directoryPrefix` names, trailing slashes removed ("" for the root), if any. */
function directoryPrefix(filter: FileFilter | null | undefined): string | undefined {
  return filter?.directoryPrefix?.replace(/\/+$/, "");
}

/** How many conditions `filterWhere` added to the read filter. */
function conditionCount(conditions: Prisma.FileWhereInput): number {
  return Array.isArray(conditions.AND) ? conditions.AND.length - 1 : 0;
}

/** Prisma conditions for a filter, within the files of a workspace the caller can read. */
function filterWhere(readable: Prisma.FileWhereInput, filter: FileFilter | null | undefined): Prisma.FileWhereInput {
  const and: Prisma.FileWhereInput[] = [readable];
  if (!filter) return { AND: and };
  if (filter.status) and.push({ status: filter.status });
  if (filter.directory != null) and.push({ directory: filter.directory });
  const prefix = directoryPrefix(filter);
  if (prefix !== undefined) {
    // Every directory is under the root, which has no FileAncestor rows of its own.
    and.push(prefix === "" ? { directory: { not: null } } : { ancestors: { some: { directory: prefix } } });
  }
  if (filter.mimeType != null) {
    const type = filter.mimeType.toLowerCase();
    and.push(type.endsWith("/*") ? { mimeType: startsWith(type.slice(0, -1)) } : { mimeType: type });
  }
  if (filter.labelsAny?.length) and.push({ labels: { some: { label: { in: filter.labelsAny } } } });
  for (const label of new Set(filter.labelsAll)) and.push({ labels: { some: { label } } });
  if (filter.externalIdPrefix != null) and.push({ externalId: startsWith(filter.externalIdPrefix) });
  if (filter.nameContains != null) and.push({ nameSearch: { contains: searchForm(filter.nameContains) } });
  if (filter.createdAfter) and.push({ createdAt: { gt: filter.createdAfter } });
  if (filter.createdBefore) and.push({ createdAt: { lt: filter.createdBefore } });
  if (filter.uploadedAfter) and.push({ uploadedAt: { gt: filter.uploadedAfter } });
  if (filter.uploadedBefore) and.push({ uploadedAt: { lt: filter.uploadedBefore } });
  if (filter.scope) and.push({ scope: filter.scope });
  if (filter.entityId != null) and.push({ entityId: filter.entityId });
  if (filter.sessionId != null) and.push({ sessionId: filter.sessionId });
  if (filter.assetIdsAny != null) {
    and.push({ assets: { some: { assetId: { in: idList(filter.assetIdsAny, "assetIdsAny").map(BigInt) } } } });
  }
  if (filter.dataSetIds != null) and.push({ dataSetId: { in: idList(filter.dataSetIds, "dataSetIds").map(BigInt) } });
  if (filter.geoIntersects != null) and.push(geoIntersects(filter.geoIntersects));
  if (filter.metadata != null) {
    for (const { key, valueHash } of metadataRows("", filterMetadata(filter.metadata))) {
      and.push({ metadataEntries: { some: { key, valueHash } } });
    }
  }
  return { AND: and };
}

/** Most ids an `assetIdsAny` or `dataSetIds` filter may list. */
const maxFilterIds = 100;

function idList(ids: readonly number[], field: string): readonly number[] {
  if (ids.length > maxFilterIds)
    throw ValidationError.field(["filter", field], `must list at most ${maxFilterIds} ids`);
  return ids;
}

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

/** A `geoIntersects` box, checked. */
function checkedBox(box: BoundingBox): BoundingBox {
  const problems = boxErrors(box, ["filter", "geoIntersects"]);
  if (problems.length > 0) throw new ValidationError(problems);
  return box;
}

/**
 * Files whose bounding box meets `box`, by the box columns; a box across the antimeridian is two
 * boxes. The spatial index narrows the files down beforehand when few match (candidateIds); when
 * many do, comparing the columns of each file in order costs less than reading every match.
 */
function geoIntersects(box: BoundingBox): Prisma.FileWhereInput {
  return {
    OR: splitAtAntimeridian(checkedBox(box)).map((part) => {
      return {
        AND: [
          { geoMinLongitude: { lte: part.maxLongitude } },
          { geoMaxLongitude: { gte: part.minLongitude } },
          { geoMinLatitude: { lte: part.maxLatitude } },
          { geoMaxLatitude: { gte: part.minLatitude } },
        ],
      };
    }),
  };
}

/** Most keys a `metadata` filter may name. */
const maxMetadataFilterKeys = 16;

/** The `metadata` filter, checked: an object of JSON values naming at most 16 keys. */
function filterMetadata(metadata: unknown): Record<string, unknown> {
  const problems = metadataErrors(metadata, ["filter", "metadata"]);
  if (problems.length > 0) throw new ValidationError(problems);
  const entries = Object.entries(metadata as Record<string, unknown>);
  if (entries.length > maxMetadataFilterKeys) {
    throw ValidationError.field(["filter", "metadata"], `must name at most ${maxMetadataFilterKeys} keys`);
  }
  return Object.fromEntries(entries);
}

/**
 * "Starts with `prefix`" as a range: the strings from `prefix` up to, not including, `prefix`
 * with its last code point incremented. Prisma's `startsWith` is a LIKE that leaves `%` and `_`
 * in the value as wildcards and is case-insensitive on SQLite; the range is exact on both
 * providers and uses a B-tree index. It relies on code-point order, which SQLite's BINARY
 * collation and PostgreSQL's "C" collation (migration 0002 sets it on these columns) both give.
 */
function startsWith(prefix: string): { gte: string; lt?: string } {
  const points = [...prefix];
  const last = points.pop()?.codePointAt(0);
  if (last === undefined || last === 0x10ffff) return { gte: prefix };
  // The code points after U+D7FF are surrogates, which no well-formed string holds.
  const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
  return { gte: prefix, lt: points.join("") + String.fromCodePoint(next) };
}

type SortValue = string | number | null;

/** A cursor holds the row's sort value and id, so pages stay stable while rows are inserted. */
function encodeCursor(field: FileOrderField, file: FileRecord): string {
  const raw = file[column[field]];
  const value: SortValue = raw instanceof Date ? raw.toISOString() : typeof raw === "bigint" ? Number(raw) : raw;
  return Buffer.from(JSON.stringify([field, value, file.id])).toString("base64url");
}

/** Whether `value` is a sort value `field` can hold: what encodeCursor writes for it. */
function sortValueOf(field: FileOrderField, value: unknown): value is SortValue {
  switch (field) {
    case "CREATED_AT":
      return typeof value === "string" && !Number.isNaN(Date.parse(value));
    case "UPLOADED_AT":
      return value === null || (typeof value === "string" && !Number.isNaN(Date.parse(value)));
    case "SIZE":
      return value === null || (Number.isSafeInteger(value) && (value as number) >= 0);
    case "NAME":
      return typeof value === "string" && textProblem(value) === undefined;
  }
}

/** Longest cursor accepted: one holds a name of 255 characters (up to 4 bytes each), an id and a field, base64. */
const maxCursorLength = 2048;

function decodeCursor(field: FileOrderField, cursor: string, argument: string): { value: SortValue; id: string } {
  if (cursor.length <= maxCursorLength) {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
      if (Array.isArray(parsed) && parsed.length === 3 && parsed[0] === field && sortValueOf(field, parsed[1])) {
        const id: unknown = parsed[2];
        if (typeof id === "string" && id.length <= maxCursorLength && textProblem(id) === undefined)
          return { value: parsed[1], id };
      }
    } catch {
      // fall through to the error below
    }
  }
  throw ValidationError.field([argument], "is not a cursor of this listing (was the order changed?)");
}

function nullable(field: FileOrderField): boolean {
  return field === "UPLOADED_AT" || field === "SIZE";
}

function columnValue(field: FileOrderField, value: SortValue): Date | bigint | string | null {
  if (value === null) return null;
  if (field === "CREATED_AT" || field === "UPLOADED_AT") return new Date(value);
  if (field === "SIZE") return BigInt(value);
  return String(value);
}

/**
 * Rows strictly after the cursor in the reading order. Listings sort nulls last; reading
 * backward reverses that order, nulls first, so the two directions mirror each other.
 */
function afterCursor(
  field: FileOrderField,
  ascending: boolean,
  nullsLast: boolean,
  cursor: { value: SortValue; id: string },
  idColumn: "id" | "fileId" = "id",
): Prisma.FileWhereInput {
  const name = column[field];
  const idAfter = { [idColumn]: ascending ? { gt: cursor.id } : { lt: cursor.id } };
  if (cursor.value === null) {
    const nullsAfter = { AND: [{ [name]: null }, idAfter] };
    return nullsLast ? nullsAfter : { OR: [nullsAfter, { [name]: { not: null } }] };
  }
  const value = columnValue(field, cursor.value);
  const beyond: Prisma.FileWhereInput[] = [
    { [name]: ascending ? { gt: value } : { lt: value } },
    { AND: [{ [name]: value }, idAfter] },
  ];
  // Only nullable columns have nulls to page into; Prisma rejects `null` for a required one.
  return { OR: nullsLast && nullable(field) ? [...beyond, { [name]: null }] : beyond };
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
 * A page in creation order (after `after`, when given) read among the first files `condition`
 * matches after it, when that is sure to be the page; else undefined. It is when the page is
 * full (every file the whole filter matches before its last one matches `condition`, so it is
 * among those files) or when they are all the files `condition` matches after the cursor.
 * `where` holds the whole filter and the cursor's condition.
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
 * How many files the listing matches. Unfiltered, for a caller who can read every file of the
 * workspace, that is the workspace's count, which triggers on File keep (WorkspaceFileCount,
 * migration 0012_listing_counts): counting a million index entries took 0.2–2 s. Otherwise the
 * matches are counted, through the driver's index when there is one.
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
  if (indexed !== undefined && (await workspace.readsEveryFile())) return indexed();
  return count();
}

/**
 * The count of a filter of at most one condition (`unfiltered`: none) that an index answers
 * alone, for a caller who can read every file, if it has one: none (the workspace's maintained
 * count), a directory prefix, one metadata pair, assets, data sets, a box. Their side rows (FileAncestor, FileMetadata,
 * FileAsset), `dataSetId` and the spatial index belong to files only, never to an overwrite's
 * pending row, so no read filter is needed: a range of index entries is counted (1% of a million
 * files: about 1 ms where checking each file took 60–160 ms), and a box's files the index finds
 * are checked against their columns (src/files/geo-index.ts).
 */
function indexedCount(
  db: Db,
  provider: Provider,
  workspaceId: string,
  filter: FileFilter | null | undefined,
  unfiltered: boolean,
): (() => Promise<number>) | undefined {
  if (unfiltered) return async () => (await db.workspaceFileCount.findUnique({ where: { workspaceId } }))?.files ?? 0;
  const directory = directoryPrefix(filter);
  if (directory) return () => db.fileAncestor.count({ where: { workspaceId, directory } });
  if (filter?.metadata != null) {
    const [pair, ...others] = metadataRows(workspaceId, filterMetadata(filter.metadata));
    if (pair === undefined || others.length > 0) return undefined;
    return () => db.fileMetadata.count({ where: { workspaceId, key: pair.key, valueHash: pair.valueHash } });
  }
  if (filter?.assetIdsAny != null) {
    const assetIds = [...new Set(filter.assetIdsAny)].map(BigInt);
    // A file linked to several of the assets is one file.
    return async () => {
      if (assetIds.length === 0) return 0;
      const [row] = await db.$queryRaw<{ files: bigint | number }[]>`
        SELECT count(DISTINCT "fileId") AS "files" FROM "FileAsset"
        WHERE "workspaceId" = ${workspaceId} AND "assetId" IN (${Prisma.join(assetIds)})`;
      return Number(row?.files ?? 0);
    };
  }
  if (filter?.dataSetIds != null) {
    const dataSetId = { in: filter.dataSetIds.map(BigInt) };
    return () => db.file.count({ where: { workspaceId, dataSetId } });
  }
  const box = filter?.geoIntersects;
  if (box != null) return () => countFilesInBox(db, provider, workspaceId, box);
  return undefined;
}

/** The workspace a listing reads, as the caller may read it (src/access/readable.ts). */
export interface ListedWorkspace {
  id: string;
  /** The caller's read filter in the workspace. */
  readable: Prisma.FileWhereInput;
  /** Whether that filter admits every file of the workspace (asked only for a count an index answers alone). */
  readsEveryFile: () => Promise<boolean>;
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
    pageAmong(db, workspace.id, condition, withCursor(unnarrowed), {
      sort,
      take,
      after: cursor && { createdAt: new Date(String(cursor.value)), id: cursor.id },
    });
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
