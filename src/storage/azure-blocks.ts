/**
 * How the Azure driver maps multipart uploads onto blocks. Azure has no multipart upload object:
 * a block blob has one list of uncommitted blocks, named by ids the writer chooses, until Put
 * Block List commits some of them (and discards the rest). A SAS that allows Put Block also
 * allows replacing the whole blob, so part URLs must never be signed for an object's own key.
 *
 * So each upload stages its blocks on a blob of its own, `.multipart/<key>/<uploadId>`, created
 * empty when the upload starts (an upload exists while its staging blob does). Completion commits
 * the blocks there in part order and copies the result to `<key>` inside the store; aborting
 * deletes the staging blob, and its uncommitted blocks with it.
 */
import { randomBytes } from "node:crypto";

/** Prefix of every staging blob; object keys (`<workspace>/<file id>`) never start with it. */
export const STAGING_PREFIX = ".multipart/";
/**
 * Characters of a decoded block id: ids are base64 of the part number padded to 48 digits, 64
 * characters once encoded, the length the SDK's own uploadStream uses. Azure requires every
 * block id of a blob to have the same length.
 */
const BLOCK_ID_DIGITS = 48;
const uploadIdPattern = /^[A-Za-z0-9_-]{22}$/;

/** A fresh upload id: 16 random bytes, base64url. */
export function newUploadId(): string {
  return randomBytes(16).toString("base64url");
}

/** Whether `uploadId` has the shape newUploadId gives (anything else names no upload). */
export function isUploadId(uploadId: string): boolean {
  return uploadIdPattern.test(uploadId);
}

/** The blob an upload's blocks are staged on. */
export function stagingKey(key: string, uploadId: string): string {
  return `${STAGING_PREFIX}${key}/${uploadId}`;
}

/** The base64 block id of part `partNumber`. */
export function blockId(partNumber: number): string {
  return Buffer.from(String(partNumber).padStart(BLOCK_ID_DIGITS, "0"), "utf8").toString("base64");
}

/** The part number a block id names; undefined for a block that is not a part's. */
export function partNumberOf(id: string): number | undefined {
  const decoded = Buffer.from(id, "base64").toString("utf8");
  return new RegExp(`^\\d{${BLOCK_ID_DIGITS}}$`).test(decoded) ? Number(decoded) : undefined;
}
