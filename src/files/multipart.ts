/**
 * MULTIPART uploads in the domain: how a declared size is cut into parts, what a client is told
 * to send (fresh URLs for the parts not received yet, so an interrupted upload resumes), and
 * joining the parts once the client says they are all there.
 */
import type { Db } from "../db/client.js";
import { MAX_PARTS, type StorageDriver, StorageError, type StoredPart } from "../storage/driver.js";
import { UploadIncompleteError } from "./errors.js";
import { defaultContentType, type FileRow, type UploadTarget } from "./types.js";

const MiB = 1024 * 1024;
/** Smallest part we ask for; S3 needs at least 5 MiB for every part but the last. */
const MIN_PART_SIZE = 8 * MiB;

/** The part size for a file of `size` bytes, and how many parts that makes (at least one). */
function partLayout(size: number): { partSize: number; partCount: number } {
  const partSize = Math.max(MIN_PART_SIZE, Math.ceil(Math.ceil(size / MAX_PARTS) / MiB) * MiB);
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** The size part `partNumber` must have: `partSize`, except the last, which holds the rest. */
function expectedPartSize(size: number, partNumber: number): number {
  const { partSize, partCount } = partLayout(size);
  return partNumber < partCount ? partSize : size - partSize * (partCount - 1);
}

/** A MULTIPART file's declared size; the service refuses MULTIPART without one. */
function declaredSize(file: FileRow): number {
  if (file.size === null) throw new Error(`MULTIPART file ${file.id} has no declared size`);
  return Number(file.size);
}

export interface MultipartDeps {
  db: Db;
  storage: StorageDriver;
}

/**
 * The multipart upload of a PENDING file, started when there is none: after a completed join
 * whose bytes failed verification (they were deleted), or when the store has forgotten it.
 */
async function currentUpload(
  { db, storage }: MultipartDeps,
  file: FileRow,
): Promise<{ uploadId: string; received: StoredPart[] }> {
  if (file.multipartUploadId !== null) {
    try {
      return {
        uploadId: file.multipartUploadId,
        received: await storage.listParts(file.storageKey, file.multipartUploadId),
      };
    } catch (error) {
      if (!(error instanceof StorageError && error.code === "NOT_FOUND")) throw error;
    }
  }
  const uploadId = await storage.createMultipartUpload(file.storageKey, {
    contentType: file.mimeType ?? defaultContentType,
  });
  const claimed = await db.file.updateMany({
    where: { id: file.id, status: "PENDING", multipartUploadId: file.multipartUploadId },
    data: { multipartUploadId: uploadId },
  });
  if (claimed.count === 0) {
    // Another request restarted it first (or the file changed state): use theirs.
    await storage.abortMultipartUpload(file.storageKey, uploadId);
    const fresh = await db.file.findUniqueOrThrow({ where: { id: file.id }, select: { multipartUploadId: true } });
    if (fresh.multipartUploadId === null) throw new UploadIncompleteError(`file ${file.id} has no upload in progress`);
    return {
      uploadId: fresh.multipartUploadId,
      received: await storage.listParts(file.storageKey, fresh.multipartUploadId),
    };
  }
  return { uploadId, received: [] };
}

/**
 * What a client needs to finish a MULTIPART upload: the parts already received (with their ETags,
 * for completeUpload) and freshly signed URLs for the others. A received part of the wrong size
 * counts as missing, so the client sends it again.
 */
export async function multipartTarget(
  deps: MultipartDeps,
  file: FileRow,
  expiresAt: Date,
  known?: { uploadId: string; received: StoredPart[] },
): Promise<UploadTarget> {
  const size = declaredSize(file);
  const { partSize, partCount } = partLayout(size);
  const { uploadId, received } = known ?? (await currentUpload(deps, file));
  const receivedParts = received.filter(
    (part) => part.partNumber <= partCount && part.size === expectedPartSize(size, part.partNumber),
  );
  const done = new Set(receivedParts.map((part) => part.partNumber));
  const missing = Array.from({ length: partCount }, (_, index) => index + 1).filter((n) => !done.has(n));
  const parts = await Promise.all(
    missing.map(async (partNumber) => {
      // Each part's size is signed, so a store that checks signatures refuses bytes beyond the declared size.
      const bytes = expectedPartSize(size, partNumber);
      const signed = await deps.storage.signUploadPart(file.storageKey, uploadId, partNumber, expiresAt, bytes);
      return {
        partNumber,
        url: signed.url,
        headers: [{ name: "Content-Length", value: String(bytes) }],
        etag: signed.etag ?? null,
      };
    }),
  );
  return {
    method: "MULTIPART",
    url: null,
    headers: [],
    fields: [],
    parts,
    receivedParts,
    partSize,
    expiresAt,
    maxSize: size,
  };
}

/**
 * Joins the parts the client lists into the file's object. Every part 1..N must be listed in order
 * and have arrived with its expected size; otherwise, or when the store refuses an ETag, this
 * throws UploadIncompleteError and the upload stays as it was, ready to resume. Returns without
 * joining when the store no longer knows the upload (a concurrent completion joined it), leaving
 * the caller to find the object.
 */
export async function joinParts(
  { db, storage }: MultipartDeps,
  file: FileRow,
  parts: { partNumber: number; etag: string }[] | null | undefined,
): Promise<void> {
  const uploadId = file.multipartUploadId;
  if (uploadId === null) return;
  if (parts == null || parts.length === 0) {
    throw new UploadIncompleteError("a MULTIPART upload is completed with the partNumber and ETag of every part");
  }
  const size = declaredSize(file);
  const { partCount } = partLayout(size);
  let received: StoredPart[];
  try {
    received = await storage.listParts(file.storageKey, uploadId);
  } catch (error) {
    if (error instanceof StorageError && error.code === "NOT_FOUND") return;
    throw error;
  }
  const listed = parts.map((part) => part.partNumber);
  if (listed.length !== partCount || listed.some((partNumber, index) => partNumber !== index + 1)) {
    throw new UploadIncompleteError(`list every part from 1 to ${partCount}, in order, with its ETag`);
  }
  const sizes = new Map(received.map((part) => [part.partNumber, part.size]));
  for (const partNumber of listed) {
    const arrived = sizes.get(partNumber);
    const expected = expectedPartSize(size, partNumber);
    if (arrived === undefined)
      throw new UploadIncompleteError(`part ${partNumber} has not arrived; send it and complete again`);
    if (arrived !== expected) {
      throw new UploadIncompleteError(
        `part ${partNumber} has ${arrived} bytes but must have ${expected}; send it again`,
      );
    }
  }
  try {
    await storage.completeMultipartUpload(file.storageKey, uploadId, parts);
  } catch (error) {
    if (error instanceof StorageError && error.code === "INVALID_PART") {
      throw new UploadIncompleteError(
        `the store refused the parts (${error.message}); check the ETags and complete again`,
      );
    }
    if (error instanceof StorageError && error.code === "NOT_FOUND") return;
    throw error;
  }
  await db.file.updateMany({ where: { id: file.id, multipartUploadId: uploadId }, data: { multipartUploadId: null } });
}
