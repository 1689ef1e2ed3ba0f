/**
 * Overwrite in place: `createFile` with the externalId of an existing file and `overwrite: true`
 * changes that file (same id). The fields given replace the stored ones at once; new content
 * replaces the current one only once verified, in one transaction, and the replaced content
 * becomes a FileVersion (its bytes kept for the newest FILE_VERSIONS_KEPT, deleted otherwise).
 */
import { randomUUID } from "node:crypto";
import type { Prisma } from "../db/client.js";
import type { StorageDriver } from "../storage/driver.js";
import { metadataRows } from "./metadata.js";
import { ancestorRows, assetRows, type buildFileData, categoryRows, labelRows, withLabels } from "./records.js";
import type { VerifiedBytes } from "./settle.js";
import type { FileRecord, UploadMethod } from "./types.js";

/** Most FileVersion rows kept for a file; older ones are forgotten. */
const MAX_VERSIONS = 100;

/** Columns an update sets, as buildFileData gives them. */
export type FileData = ReturnType<typeof buildFileData>;

/** The columns of an update that decide child rows, where it sets them. */
type ChildColumns = {
  directory?: string | null;
  metadata?: string;
  assetIds?: string;
  securityCategories?: string;
};

/** An update of a file's columns, child columns included. */
export type FileUpdate = Prisma.FileUncheckedUpdateInput & ChildColumns;

/** Bytes that leave the store once a transaction has committed: replaced content, an abandoned multipart upload. */
export interface ReleasedBytes {
  key: string;
  multipartUploadId: string | null;
}

/** Removes bytes no row refers to any more. */
export async function releaseBytes(storage: StorageDriver, released: ReleasedBytes[]): Promise<void> {
  for (const { key, multipartUploadId } of released) {
    if (multipartUploadId !== null) await storage.abortMultipartUpload(key, multipartUploadId);
    await storage.deleteObject(key);
  }
}

/** New content for a file: where its verified bytes are, and what they were found to be. */
export type NewContent = VerifiedBytes & { storageKey: string; uploadMethod: UploadMethod };

/**
 * The fields of a create request that an overwrite sets on the existing file: all it gives but
 * the content's own (size, checksum and type belong to the new bytes) and the externalId (the
 * same). `scope`, `entityId` and `sessionId` are replaced together: a scope id left out is cleared.
 */
export function overwrittenFields(
  row: FileData & { id: string; workspaceId: string; storageKey: string; uploadMethod: string },
): FileUpdate {
  const { id: _id, workspaceId: _workspaceId, storageKey: _storageKey, uploadMethod: _uploadMethod, ...fields } = row;
  const { size: _size, checksumSha256: _checksum, mimeType: _mimeType, externalId: _externalId, ...given } = fields;
  return { ...given, entityId: row.entityId ?? null, sessionId: row.sessionId ?? null };
}

/**
 * Rewrites a file's child rows for the fields `data` sets: labels (when `labels` is given),
 * FileAncestor rows (directory), FileMetadata (metadata) and FileAsset (assetIds). Fields left out
 * keep their rows (the spatial index follows the geo columns by itself, migration 0013_listing_geo).
 */
async function replaceChildren(
  tx: Prisma.TransactionClient,
  file: { id: string; workspaceId: string; createdAt: Date },
  data: ChildColumns,
  labels: readonly string[] | null | undefined,
): Promise<void> {
  const fileId = file.id;
  const withFile = <T extends object>(rows: T[]) => rows.map((row) => ({ ...row, fileId }));
  // FileMetadata and FileAsset rows carry the file's createdAt, for their ordered indexes.
  const ordered = <T extends object>(rows: T[]) => withFile(rows).map((row) => ({ ...row, createdAt: file.createdAt }));
  if (labels !== undefined) {
    await tx.fileLabel.deleteMany({ where: { fileId } });
    await tx.fileLabel.createMany({ data: withFile(labelRows(file.workspaceId, labels)) });
  }
  if (data.directory !== undefined) {
    await tx.fileAncestor.deleteMany({ where: { fileId } });
    await tx.fileAncestor.createMany({
      data: withFile(ancestorRows(file.workspaceId, data.directory, file.createdAt)),
    });
  }
  if (data.metadata !== undefined) {
    await tx.fileMetadata.deleteMany({ where: { fileId } });
    await tx.fileMetadata.createMany({ data: ordered(metadataRows(file.workspaceId, JSON.parse(data.metadata))) });
  }
  if (data.assetIds !== undefined) {
    await tx.fileAsset.deleteMany({ where: { fileId } });
    await tx.fileAsset.createMany({ data: ordered(assetRows(file.workspaceId, JSON.parse(data.assetIds))) });
  }
  if (data.securityCategories !== undefined) {
    await tx.fileCategory.deleteMany({ where: { fileId } });
    await tx.fileCategory.createMany({
      data: withFile(categoryRows(file.workspaceId, JSON.parse(data.securityCategories))),
    });
  }
}

/**
 * Changes a file's fields and child rows in a transaction, taking the row's lock first (the
 * first statement writes, so concurrent changes of one file queue up on both databases: a
 * PostgreSQL row lock, SQLite's write lock), then `then` runs with the row as it is now.
 * Returns the file as it is after the change.
 */
export async function updateFileIn(
  tx: Prisma.TransactionClient,
  id: string,
  data: FileUpdate,
  labels: readonly string[] | null | undefined,
): Promise<FileRecord> {
  const file = await tx.file.update({ where: { id }, data: { ...data, updatedAt: new Date() } });
  await replaceChildren(tx, file, data, labels);
  return tx.file.findUniqueOrThrow({ where: { id }, include: withLabels });
}

/**
 * Inside a transaction: makes `content` the file's content, with the fields `data` sets, and
 * returns the file and the bytes to release once committed. The content it replaces becomes
 * the newest FileVersion when it was uploaded (its bytes released only beyond `versionsKept`);
 * the bytes of a file that never finished uploading are released.
 */
export async function swapContent(
  tx: Prisma.TransactionClient,
  id: string,
  content: NewContent,
  data: FileUpdate,
  labels: readonly string[] | null | undefined,
  versionsKept: number,
): Promise<{ file: FileRecord; released: ReleasedBytes[] }> {
  const now = new Date();
  // Writing first takes the row's lock before the current content is read (see updateFileIn).
  const current = await tx.file.update({
    where: { id },
    data: { updatedAt: now },
    select: {
      storageKey: true,
      status: true,
      size: true,
      checksumSha256: true,
      mimeType: true,
      uploadedAt: true,
      multipartUploadId: true,
    },
  });
  const file = await updateFileIn(
    tx,
    id,
    { ...data, ...content, status: "UPLOADED", uploadedAt: now, expiresAt: null, multipartUploadId: null },
    labels,
  );
  if (
    current.status !== "UPLOADED" ||
    current.size === null ||
    current.checksumSha256 === null ||
    current.uploadedAt === null
  ) {
    return { file, released: [{ key: current.storageKey, multipartUploadId: current.multipartUploadId }] };
  }
  await tx.fileVersion.create({
    data: {
      id: randomUUID(),
      fileId: id,
      storageKey: current.storageKey,
      size: current.size,
      checksumSha256: current.checksumSha256,
      mimeType: current.mimeType,
      uploadedAt: current.uploadedAt,
      replacedAt: now,
    },
  });
  const versions = await tx.fileVersion.findMany({
    where: { fileId: id },
    orderBy: [{ replacedAt: "desc" }, { id: "desc" }],
    select: { id: true, storageKey: true },
  });
  const released = versions
    .slice(versionsKept)
    .flatMap((version) => (version.storageKey === null ? [] : [{ key: version.storageKey, multipartUploadId: null }]));
  if (released.length > 0) {
    const ids = versions.slice(versionsKept).map((version) => version.id);
    await tx.fileVersion.updateMany({ where: { id: { in: ids } }, data: { storageKey: null } });
  }
  if (versions.length > MAX_VERSIONS) {
    await tx.fileVersion.deleteMany({
      where: { id: { in: versions.slice(MAX_VERSIONS).map((version) => version.id) } },
    });
  }
  return { file, released };
}
