import { S3ServiceException } from "@aws-sdk/client-s3";
import { StorageError } from "./driver.js";

// The boundary where the SDK's failures become ours: every SDK call of the S3 driver passes what it
// throws through `converted`, so a caller sees StorageError, never an SDK class.

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

/** A short reason for a message: the S3 error code, else the message's first line. */
function reason(error: unknown): string {
  const code = s3Code(error);
  if (code !== undefined) return `${code}: ${firstLine((error as Error).message)}`;
  return error instanceof Error ? firstLine(error.message) : String(error);
}

function firstLine(message: string): string {
  return message.split("\n", 1)[0] ?? message;
}

/**
 * A failure of `what` as StorageError: NoSuchUpload and a 404 → NOT_FOUND; InvalidPart,
 * InvalidPartOrder and EntityTooSmall → INVALID_PART; EntityTooLarge → TOO_LARGE; anything else
 * (unreachable store, refused credentials, throttling) → FAILED, with the SDK's error as `cause`
 * for the log.
 */
export function converted(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const code = s3Code(error);
  const message = `${what}: ${reason(error)}`;
  if (code === "NoSuchUpload")
    return new StorageError(`no such multipart upload (${what})`, "NOT_FOUND", { cause: error });
  if (code === "InvalidPart" || code === "InvalidPartOrder" || code === "EntityTooSmall") {
    return new StorageError(message, "INVALID_PART", { cause: error });
  }
  if (code === "EntityTooLarge") return new StorageError(message, "TOO_LARGE", { cause: error });
  if (isNotFound(error)) return new StorageError(`${what}: not found`, "NOT_FOUND", { cause: error });
  if (preconditionFailed(error)) return new StorageError(`${what}: changed`, "CHANGED", { cause: error });
  return new StorageError(message, "FAILED", { cause: error });
}
