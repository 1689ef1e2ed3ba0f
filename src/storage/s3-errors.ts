import { S3ServiceException } from "@aws-sdk/client-s3";
import { StorageError } from "./driver.js";

// The boundary where the SDK's failures become ours: a caller sees StorageError, never an SDK class.

/** The S3 error code (`NoSuchKey`, `InvalidPart`, …) of an SDK failure, if it is one. */
export function s3Code(error: unknown): string | undefined {
  if (error instanceof S3ServiceException) return error.name;
  return undefined;
}

/** A missing object (a HEAD answers a bare 404: it has no body to name the error in). */
export function isNotFound(error: unknown): boolean {
  const code = s3Code(error);
  return (
    code === "NoSuchKey" ||
    code === "NotFound" ||
    (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404)
  );
}

/** S3 refused a conditional request (If-Match, If-None-Match, x-amz-copy-source-if-match): 412. */
export function preconditionFailed(error: unknown): boolean {
  return (
    s3Code(error) === "PreconditionFailed" ||
    (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412)
  );
}

/**
 * The SDK failures a caller can act on as StorageError (NoSuchUpload and 404 → NOT_FOUND,
 * InvalidPart, InvalidPartOrder and EntityTooSmall → INVALID_PART); anything else unchanged,
 * for the caller to throw.
 */
export function converted(error: unknown, what: string): unknown {
  const code = s3Code(error);
  if (code === "NoSuchUpload") return new StorageError(`no such multipart upload (${what})`, "NOT_FOUND");
  if (code === "InvalidPart" || code === "InvalidPartOrder" || code === "EntityTooSmall") {
    return new StorageError(`${what}: ${code}: ${(error as Error).message}`, "INVALID_PART");
  }
  if (code === "EntityTooLarge") return new StorageError(`${what}: ${(error as Error).message}`, "TOO_LARGE");
  if (isNotFound(error)) return new StorageError(`${what}: not found`, "NOT_FOUND");
  return error;
}
