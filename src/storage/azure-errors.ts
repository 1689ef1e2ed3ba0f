import { RestError } from "@azure/storage-blob";
import { StorageError } from "./driver.js";

// The boundary where the Azure SDK's failures become ours: every SDK call of the Azure driver
// passes what it throws through `converted`, so a caller sees StorageError, never an SDK class.

/** The Azure error code (`BlobNotFound`, `InvalidBlockList`, …) of an SDK failure, if it names one. */
function azureCode(error: unknown): string | undefined {
  return error instanceof RestError ? error.code : undefined;
}

/** A missing blob or container (a HEAD answers a bare 404: it has no body to name the error in). */
export function isNotFound(error: unknown): boolean {
  return error instanceof RestError && error.statusCode === 404;
}

/** A short reason for a message: the Azure error code, else the HTTP status, else the message's first line. */
export function reason(error: unknown): string {
  if (error instanceof RestError)
    return error.code ?? (error.statusCode === undefined ? firstLine(error.message) : `HTTP ${error.statusCode}`);
  return error instanceof Error ? firstLine(error.message) : String(error);
}

function firstLine(message: string): string {
  return message.split("\n", 1)[0] ?? message;
}

const invalidPartCodes = new Set(["InvalidBlockList", "InvalidBlobOrBlock", "InvalidBlockId"]);
const existsCodes = new Set(["BlobAlreadyExists", "ConditionNotMet", "UnauthorizedBlobOverwrite"]);

/** A read or copy whose source was pinned by its ETag found other bytes there (412). */
export function sourceChanged(error: unknown): boolean {
  const code = azureCode(error);
  return code === "SourceConditionNotMet" || code === "ConditionNotMet";
}

/**
 * A failure of `what` as StorageError: a 404 → NOT_FOUND; a refused block list → INVALID_PART; an
 * existing blob a conditional write would replace → EXISTS; a body over the store's limits →
 * TOO_LARGE; anything else (unreachable store, refused key, throttling) → FAILED, with the SDK's
 * error as `cause` for the log.
 */
export function converted(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const code = azureCode(error);
  const message = `${what}: ${reason(error)}`;
  if (isNotFound(error)) return new StorageError(message, "NOT_FOUND", { cause: error });
  if (code !== undefined && invalidPartCodes.has(code))
    return new StorageError(message, "INVALID_PART", { cause: error });
  if (code !== undefined && existsCodes.has(code)) return new StorageError(message, "EXISTS", { cause: error });
  if (code === "RequestBodyTooLarge" || (error instanceof RestError && error.statusCode === 413)) {
    return new StorageError(message, "TOO_LARGE", { cause: error });
  }
  return new StorageError(message, "FAILED", { cause: error });
}
