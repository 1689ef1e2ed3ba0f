import type { Prisma } from "../db/client.js";
import { type FieldError, ValidationError } from "./errors.js";
import { type BoundingBox, boxErrors, splitAtAntimeridian } from "./geo.js";
import { metadataRows } from "./metadata.js";
import { searchForm } from "./records.js";
import type { FileScope, FileStatus } from "./types.js";
import {
  MAX_DIRECTORY,
  MAX_EXTERNAL_ID,
  MAX_LABEL,
  MAX_LABELS,
  MAX_MIME_TYPE,
  MAX_NAME_LENGTH_CEILING,
  MAX_SCOPE_ID,
  metadataErrors,
} from "./validation.js";

// A listing's filter: its bounds, and its conditions as Prisma conditions within the caller's
// read filter (src/files/listing.ts reads pages and counts with them).

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

/**
 * Most labels `labelsAny` may name, and `labelsAll`: a file holds at most 10 labels, so more
 * could match nothing (and each is a condition PostgreSQL's planner pays for).
 */
const maxFilterLabels = { labelsAny: 100, labelsAll: MAX_LABELS } as const;

/**
 * Bounds on a filter's values: a list of labels is bounded (each one is a condition of the
 * query), and no string is longer than the field it is compared with can be.
 */
export function filterErrors(filter: FileFilter): FieldError[] {
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
export function directoryPrefix(filter: FileFilter | null | undefined): string | undefined {
  return filter?.directoryPrefix?.replace(/\/+$/, "");
}

/** How many conditions `filterWhere` added to the read filter. */
export function conditionCount(conditions: Prisma.FileWhereInput): number {
  return Array.isArray(conditions.AND) ? conditions.AND.length - 1 : 0;
}

/** Prisma conditions for a filter, within the files of a workspace the caller can read. */
export function filterWhere(
  readable: Prisma.FileWhereInput,
  filter: FileFilter | null | undefined,
): Prisma.FileWhereInput {
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

export function idList(ids: readonly number[], field: string): readonly number[] {
  if (ids.length > maxFilterIds)
    throw ValidationError.field(["filter", field], `must list at most ${maxFilterIds} ids`);
  return ids;
}

/** A `geoIntersects` box, checked. */
export function checkedBox(box: BoundingBox): BoundingBox {
  const problems = boxErrors(box, ["filter", "geoIntersects"]);
  if (problems.length > 0) throw new ValidationError(problems);
  return box;
}

/**
 * Files whose bounding box meets `box`, by the box columns; a box across the antimeridian is two
 * boxes. The spatial index narrows the files down beforehand when few match (candidateIds in
 * src/files/listing.ts); when many do, comparing the columns of each file in order costs less
 * than reading every match.
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
export function filterMetadata(metadata: unknown): Record<string, unknown> {
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
