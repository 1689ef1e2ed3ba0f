import type { Prisma } from "../db/client.js";
import { checkFeature } from "./geo.js";
import { metadataRows } from "./metadata.js";
import { normalizeMimeType } from "./mime.js";
import type { FileFields } from "./types.js";
import { normalizeChecksum, normalizeDirectory, normalizeName } from "./validation.js";

/**
 * Database columns for the (already validated) fields a request sets. Absent fields stay absent
 * (an update or overwrite keeps them); a field given as null is cleared: its column null, or the
 * empty object or list for metadata, assetIds and securityCategories. The name, the content's own
 * fields (mimeType, size, checksum), externalId and scope are never cleared by null.
 */
export function buildFileData(fields: FileFields) {
  const data = {
    mimeType: fields.mimeType == null ? undefined : normalizeMimeType(fields.mimeType),
    size: fields.size == null ? undefined : BigInt(fields.size),
    checksumSha256: fields.checksumSha256 == null ? undefined : normalizeChecksum(fields.checksumSha256),
    externalId: fields.externalId ?? undefined,
    directory: cleared(fields.directory, normalizeDirectory),
    description: fields.description,
    source: fields.source,
    // Validated before it gets here (validateFileFields): a plain object of JSON values.
    metadata: jsonColumn(fields.metadata, "{}"),
    assetIds: jsonColumn(fields.assetIds, "[]"),
    dataSetId: cleared(fields.dataSetId, BigInt),
    securityCategories: jsonColumn(fields.securityCategories, "[]"),
    ...geoColumns(fields.geoLocation),
    scope: fields.scope ?? undefined,
    entityId: fields.entityId ?? undefined,
    sessionId: fields.sessionId ?? undefined,
    sourceCreatedTime: fields.sourceCreatedTime,
    sourceModifiedTime: fields.sourceModifiedTime,
    ...(fields.name == null ? {} : fileName(fields.name)),
  } satisfies Prisma.FileUncheckedUpdateInput;
  return data;
}

/** A given value converted to its column; null (cleared) and undefined (left out) as they are. */
function cleared<T, C>(value: T | null | undefined, column: (value: T) => C): C | null | undefined {
  if (value === null) return null;
  if (value === undefined) return undefined;
  return column(value);
}

/** A JSON text column: the value's JSON, `empty` when cleared, nothing when left out. */
function jsonColumn(value: unknown, empty: string): string | undefined {
  if (value === undefined) return undefined;
  return value === null ? empty : JSON.stringify(value);
}

/**
 * Code points of the folded name the NAME order compares. At 4 bytes each this stays within what
 * one PostgreSQL B-tree entry holds (2704 bytes, the workspace and file ids included), whatever
 * MAX_NAME_LENGTH allows; names alike in their first 512 characters are ordered by id.
 */
const ORDERED_NAME_LENGTH = 512;

/** The geoLocation column and its bounding box's, for a (validated) Feature; all null when cleared, nothing when left out. */
function geoColumns(geoLocation: unknown) {
  if (geoLocation === undefined) return {};
  if (geoLocation === null) {
    return {
      geoLocation: null,
      geoMinLongitude: null,
      geoMinLatitude: null,
      geoMaxLongitude: null,
      geoMaxLatitude: null,
    };
  }
  const box = checkFeature(geoLocation, []).box;
  return {
    geoLocation: JSON.stringify(geoLocation),
    geoMinLongitude: box?.minLongitude ?? null,
    geoMinLatitude: box?.minLatitude ?? null,
    geoMaxLongitude: box?.maxLongitude ?? null,
    geoMaxLatitude: box?.maxLatitude ?? null,
  };
}

/** FileCategory rows (without fileId). */
export function categoryRows(workspaceId: string, categories: unknown): { workspaceId: string; category: bigint }[] {
  return Array.isArray(categories)
    ? categories.map((category) => ({ workspaceId, category: BigInt(category as number) }))
    : [];
}

/** FileAsset rows (without fileId). */
export function assetRows(workspaceId: string, assetIds: unknown): { workspaceId: string; assetId: bigint }[] {
  return Array.isArray(assetIds) ? assetIds.map((id) => ({ workspaceId, assetId: BigInt(id as number) })) : [];
}

/** The name columns: the NFC name, its folded form for ordering, and its search form. */
export function fileName(name: string): { name: string; nameFolded: string; nameSearch: string } {
  const normalized = normalizeName(name);
  const folded = foldName(normalized);
  const ordered = folded.length <= ORDERED_NAME_LENGTH ? folded : [...folded].slice(0, ORDERED_NAME_LENGTH).join("");
  return { name: normalized, nameFolded: ordered, nameSearch: searchForm(normalized) };
}

/** The form names are ordered in: NFC, lower case. */
function foldName(name: string): string {
  return name.normalize("NFC").toLowerCase();
}

/**
 * LIKE's wildcards (`%`, `_`) and PostgreSQL's LIKE escape character (`\`), each mapped to a
 * private-use code point. Prisma passes a `contains` value into LIKE unescaped, and SQLite's
 * LIKE has no escape character unless the query names one, so a literal `%` cannot be searched
 * for; with these characters mapped in both the column and the search term, `contains` matches
 * literally on every provider. Migration 0002 applies the same mapping in SQL.
 */
const likeSpecials: Record<string, string> = { "%": "\uE000", _: "\uE001", "\\": "\uE002" };

/** The form names are searched in for `nameContains`: folded, LIKE's special characters mapped. */
export function searchForm(name: string): string {
  return foldName(name).replace(/[%_\\]/g, (character) => likeSpecials[character] ?? character);
}

/** The Prisma include that loads a file's labels, making a row a FileRecord. */
export const withLabels = { labels: { select: { label: true } } } as const;

/**
 * FileAncestor rows for a file in `directory` (normalized): the directory and each of its
 * ancestors but the root, "/a/b" → "/a", "/a/b". None for "/" or no directory.
 */
export function ancestorRows(
  workspaceId: string,
  directory: string | null | undefined,
  createdAt: Date,
): { workspaceId: string; directory: string; createdAt: Date }[] {
  if (directory == null || directory === "/") return [];
  const segments = directory.split("/").slice(1);
  return segments.map((_, index) => ({
    workspaceId,
    directory: `/${segments.slice(0, index + 1).join("/")}`,
    createdAt,
  }));
}

/** What a new file's child rows are made from: its labels and the (validated) columns of its row. */
export type FileChildren = {
  labels: readonly string[];
  directory?: string | null;
  /** JSON text, as in the row. */
  metadata?: string;
  /** JSON text, as in the row. */
  assetIds?: string;
  /** JSON text, as in the row. */
  securityCategories?: string;
};

/**
 * The nested creates of a new file's labels, FileAncestor and FileMetadata rows, each left out
 * when empty: Prisma runs a statement for a nested create even when it creates nothing.
 */
export function newFileChildren(workspaceId: string, children: FileChildren, createdAt: Date) {
  const { labels, directory, metadata, assetIds } = children;
  const ancestors = ancestorRows(workspaceId, directory, createdAt);
  const entries = metadataRows(workspaceId, metadata === undefined ? undefined : JSON.parse(metadata)).map((row) => ({
    ...row,
    createdAt,
  }));
  const assets = assetRows(workspaceId, assetIds === undefined ? undefined : JSON.parse(assetIds)).map((row) => ({
    ...row,
    createdAt,
  }));
  const categories = categoryRows(
    workspaceId,
    children.securityCategories === undefined ? undefined : JSON.parse(children.securityCategories),
  );
  return {
    ...(categories.length > 0 ? { categories: { create: categories } } : {}),
    ...(assets.length > 0 ? { assets: { create: assets } } : {}),
    ...(labels.length > 0 ? { labels: { create: labels.map((label) => ({ workspaceId, label })) } } : {}),
    ...(ancestors.length > 0 ? { ancestors: { create: ancestors } } : {}),
    ...(entries.length > 0 ? { metadataEntries: { create: entries } } : {}),
  };
}

/** Label rows for a file, duplicates dropped. */
export function labelRows(
  workspaceId: string,
  labels: readonly string[] | null | undefined,
): { workspaceId: string; label: string }[] {
  return [...new Set(labels ?? [])].map((label) => ({ workspaceId, label }));
}
