import type { Prisma } from "../db/generated/sqlite/client.js";
import type { FileFields } from "./types.js";
import { normalizeChecksum, normalizeDirectory, normalizeMimeType, normalizeName } from "./validation.js";

/** Database columns for the (already validated) fields a request sets; absent fields stay absent. */
export function buildFileData(fields: FileFields) {
  const data = {
    mimeType: fields.mimeType == null ? undefined : normalizeMimeType(fields.mimeType),
    size: fields.size == null ? undefined : BigInt(fields.size),
    checksumSha256: fields.checksumSha256 == null ? undefined : normalizeChecksum(fields.checksumSha256),
    externalId: fields.externalId ?? undefined,
    directory: fields.directory == null ? undefined : normalizeDirectory(fields.directory),
    description: fields.description ?? undefined,
    source: fields.source ?? undefined,
    metadata: fields.metadata == null ? undefined : JSON.stringify(fields.metadata),
    scope: fields.scope ?? undefined,
    entityId: fields.entityId ?? undefined,
    sessionId: fields.sessionId ?? undefined,
    sourceCreatedTime: fields.sourceCreatedTime ?? undefined,
    sourceModifiedTime: fields.sourceModifiedTime ?? undefined,
    ...(fields.name == null ? {} : fileName(fields.name)),
  } satisfies Prisma.FileUncheckedUpdateInput;
  return data;
}

/** The name columns: the NFC name, and its folded form for search. */
export function fileName(name: string): { name: string; nameFolded: string } {
  const normalized = normalizeName(name);
  return { name: normalized, nameFolded: foldName(normalized) };
}

/** The form names are compared in for `nameContains`: NFC, lower case. */
export function foldName(name: string): string {
  return name.normalize("NFC").toLowerCase();
}

/** Label rows for a file, duplicates dropped. */
export function labelRows(workspaceId: string, labels: readonly string[] | null | undefined): { workspaceId: string; label: string }[] {
  return [...new Set(labels ?? [])].map((label) => ({ workspaceId, label }));
}
