/**
 * How the Azure driver maps multipart uploads onto a block blob's uncommitted blocks. Azure has
 * no multipart upload object: a blob has one list of uncommitted blocks, named by ids the writer
 * chooses, until Put Block List commits some of them (and discards the rest) or, after a week,
 * Azure discards them. So an upload is a random id carried inside each of its block ids:
 *
 * - `o` (opened): a one-byte block staged by createMultipartUpload; the upload exists while it does;
 * - `p` (part): part n's bytes, staged by the client through its part URL;
 * - `x` (aborted): a one-byte block staged by abortMultipartUpload; the upload is gone once it exists.
 *
 * Committing discards every uncommitted block, so a completed upload is gone as well. Every block
 * id of a blob must have the same length: ours decode to 48 characters, the length the SDK's own
 * `uploadStream` uses, so both kinds can meet on one blob.
 */
import { randomBytes } from "node:crypto";

export type BlockKind = "o" | "p" | "x";

/** Characters of a decoded block id (64 once base64-encoded), as the SDK's uploadStream makes them. */
const BLOCK_ID_CHARS = 48;
const uploadIdPattern = /^[A-Za-z0-9_-]{22}$/;
const blockPattern = /^([A-Za-z0-9_-]{22})([opx])(\d{25})$/;

/** A fresh upload id: 16 random bytes, base64url. */
export function newUploadId(): string {
  return randomBytes(16).toString("base64url");
}

/** Whether `uploadId` has the shape newUploadId gives (anything else names no upload). */
export function isUploadId(uploadId: string): boolean {
  return uploadIdPattern.test(uploadId);
}

/** The base64 block id of block `kind` number `n` of an upload. */
export function blockId(uploadId: string, kind: BlockKind, n: number): string {
  const raw = `${uploadId}${kind}${String(n).padStart(BLOCK_ID_CHARS - uploadId.length - 1, "0")}`;
  return Buffer.from(raw, "utf8").toString("base64");
}

/** The upload, kind and number a block id names; undefined for blocks that are not ours. */
export function parseBlockId(id: string): { uploadId: string; kind: BlockKind; n: number } | undefined {
  const match = blockPattern.exec(Buffer.from(id, "base64").toString("utf8"));
  if (match === null) return undefined;
  return { uploadId: match[1]!, kind: match[2] as BlockKind, n: Number(match[3]) };
}
