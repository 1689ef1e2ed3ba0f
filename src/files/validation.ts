/**
 * Validation of file metadata against DESIGN.md "Limits and rules".
 *
 * Pure functions: no I/O, no GraphQL, no environment. Every check returns `FieldError`s naming the
 * input field, so one call reports every problem with a request at once. One error per field (the
 * first rule it breaks) keeps the list short and each message actionable.
 *
 * Lengths written "characters" count Unicode code points (an emoji is one character), measured
 * after NFC where the value is normalized; lengths written "bytes" count UTF-8 bytes.
 */

import { FileScope } from "../db/client.js";
import type { FieldError } from "./errors.js";
import { checkFeature } from "./geo.js";
import { isMimeType } from "./mime.js";
import type { FileFields, FileLimits } from "./types.js";

export interface ValidateOptions {
  /** Report a missing `name` (createFile); updates leave it out to keep the current name. */
  requireName?: boolean;
}

/** The longest MAX_NAME_LENGTH may allow. */
export const MAX_NAME_LENGTH_CEILING = 1024;
export const MAX_EXTERNAL_ID = 255;
export const MAX_DIRECTORY = 512;
const MAX_SOURCE = 128;
export const MAX_MIME_TYPE = 256;
const MAX_DESCRIPTION = 1000;
export const MAX_SCOPE_ID = 255;
const MAX_METADATA_PAIRS = 256;
const MAX_METADATA_KEY_BYTES = 128;
const MAX_METADATA_VALUE_BYTES = 10240;
const MAX_METADATA_TOTAL_BYTES = 10240;
export const MAX_LABELS = 10;
export const MAX_LABEL = 255;
const MAX_ASSET_IDS = 1000;
const MAX_SECURITY_CATEGORIES = 100;

/** C0 controls (NUL included), DEL and C1 controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
/**
 * Bidirectional formatting characters that can make a name display differently from what it is
 * (e.g. "invoice\u202Efdp.exe" shows as "invoiceexe.pdf"): embeddings/overrides U+202A–U+202E,
 * isolates U+2066–U+2069, and the implicit marks LRM, RLM and ALM (Unicode UAX #9).
 */
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u;
const CHECKSUM = /^[0-9a-f]{64}$/i;
/**
 * A lone surrogate: half of a UTF-16 pair with no other half. It is no character at all, cannot
 * be encoded as UTF-8, and the databases refuse it (with the u flag, a pair is one code point
 * and only unpaired halves match).
 */
const LONE_SURROGATE = /\p{Surrogate}/u;
/**
 * Code points that draw nothing and let two different names look the same: zero-width spaces and
 * joiners, the byte-order mark, soft hyphens, variation selectors, tags (Unicode's
 * Default_Ignorable_Code_Point), the 66 noncharacters such as U+FFFF, and the line and paragraph
 * separators U+2028/U+2029.
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}\u2028\u2029]/u;
/**
 * An emoji with its presentation selector, skin tone and zero-width joins ("👩‍💻", "❤️"): the
 * only place a joiner or variation selector belongs in a name.
 */
const EMOJI_SEQUENCE =
  /\p{Extended_Pictographic}[\ufe0f\p{Emoji_Modifier}]?(?:\u200d\p{Extended_Pictographic}[\ufe0f\p{Emoji_Modifier}]?)*/gu;
/** RFC 9562 §4 string form: 8-4-4-4-12 hexadecimal digits (any version; the nil and max UUIDs included). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Source times are Unix times: none before the epoch. */
const EPOCH = 0;

/** Whether `value` has more than `max` code points, without counting huge inputs to the end. */
function longerThan(value: string, max: number): boolean {
  // Each code point is one or two UTF-16 units, which bounds the count from both sides.
  if (value.length <= max) return false;
  if (value.length > 2 * max) return true;
  let count = 0;
  for (const _codePoint of value) if (++count > max) return true;
  return false;
}
/**
 * The check every string a client sends passes, whatever the field: well-formed Unicode, no NUL.
 * Returns the problem, or undefined.
 */
export function textProblem(value: string): string | undefined {
  if (LONE_SURROGATE.test(value)) return "must be well-formed Unicode (it holds a lone surrogate)";
  // PostgreSQL's text cannot hold NUL, so no value with it could be stored or compared.
  if (value.includes("\u0000")) return "must not contain the NUL character (U+0000)";
  return undefined;
}

/** Names, directories, labels and external IDs: nothing invisible that could make two look alike. */
function invisibleProblem(value: string): string | undefined {
  if (!INVISIBLE.test(value)) return undefined;
  if (!INVISIBLE.test(value.replace(EMOJI_SEQUENCE, "x"))) return undefined;
  return "must not contain invisible characters (zero-width spaces or joiners, byte-order marks, line separators) or noncharacters";
}

const utf8Bytes = (value: string): number => Buffer.byteLength(value, "utf8");

/** The form a name is stored and compared in: Unicode NFC, so "é" typed two ways is one name. */
export function normalizeName(name: string): string {
  return name.normalize("NFC");
}

/**
 * The form a directory is stored in: NFC, and one trailing slash removed ("/a/b/" → "/a/b") so
 * the same folder is not two strings; the root stays "/". Validate the normalized value.
 */
export function normalizeDirectory(directory: string): string {
  const nfc = directory.normalize("NFC");
  return nfc.length > 1 && nfc.endsWith("/") ? nfc.slice(0, -1) : nfc;
}

/** Checksums are compared and stored as lowercase hex. */
export function normalizeChecksum(checksum: string): string {
  return checksum.toLowerCase();
}

/**
 * A declared size above `maxFileBytes` is not a field error but a `PayloadTooLargeError`; this
 * returns its `maxSize` in that case, undefined otherwise (including for sizes that are invalid
 * for other reasons, which `validateFileFields` reports).
 */
export function checkDeclaredSize(
  size: number | null | undefined,
  limits: FileLimits,
): { maxSize: number } | undefined {
  if (typeof size === "number" && size > limits.maxFileBytes) return { maxSize: limits.maxFileBytes };
  return undefined;
}

/** Problems with a file name, or undefined. Expects the NFC form. */
function nameProblem(name: string, maxLength: number): string | undefined {
  if (name.length === 0) return "must not be empty";
  if (longerThan(name, maxLength)) return `must be at most ${maxLength} characters`;
  if (name.includes("/") || name.includes("\\")) return "must not contain / or \\";
  if (CONTROL.test(name)) return "must not contain control characters";
  if (BIDI.test(name)) return "must not contain bidirectional control characters";
  const invisible = invisibleProblem(name);
  if (invisible !== undefined) return invisible;
  if (name === "." || name === "..") return 'must not be "." or ".."';
  if (/^\s+$/u.test(name)) return "must not be only whitespace";
  return undefined;
}

/** Problems with an absolute directory path, or undefined. Expects the normalized form. */
export function directoryProblem(directory: string): string | undefined {
  if (!directory.startsWith("/")) return 'must be an absolute path starting with "/"';
  if (longerThan(directory, MAX_DIRECTORY)) return `must be at most ${MAX_DIRECTORY} characters`;
  if (CONTROL.test(directory)) return "must not contain control characters";
  const invisible = invisibleProblem(directory);
  if (invisible !== undefined) return invisible;
  if (directory === "/") return undefined;
  const segments = directory.slice(1).split("/");
  if (segments.some((segment) => segment === "")) return "must not contain empty segments (//)";
  if (segments.some((segment) => segment === "." || segment === "..")) {
    return 'must not contain "." or ".." segments';
  }
  return undefined;
}

/** A short single-line string: required non-empty, bounded, no control or invisible characters. */
function identifierProblem(value: string, max: number): string | undefined {
  if (value.length === 0) return "must not be empty";
  if (longerThan(value, max)) return `must be at most ${max} characters`;
  if (CONTROL.test(value)) return "must not contain control characters";
  return invisibleProblem(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deepest nesting of arrays and objects in a metadata value. */
const MAX_METADATA_DEPTH = 32;
/** NUL (which PostgreSQL's JSON and text types refuse) or a UTF-16 surrogate without its pair. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this pattern finds
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

/**
 * What is wrong with a metadata value as JSON, or undefined: every string (object keys included)
 * storable, every number finite, nesting bounded. Walks the value once.
 */
function jsonValueProblem(value: unknown, depth = 0): string | undefined {
  if (value === null || typeof value === "boolean") return undefined;
  if (typeof value === "string")
    return UNSTORABLE.test(value) ? "must not contain NUL or unpaired surrogates" : undefined;
  if (typeof value === "number") return Number.isFinite(value) ? undefined : "must hold finite numbers only";
  if (depth >= MAX_METADATA_DEPTH) return `must not nest arrays and objects more than ${MAX_METADATA_DEPTH} deep`;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jsonValueProblem(item, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return "must be JSON";
  for (const [key, item] of Object.entries(value)) {
    const problem = jsonValueProblem(key, depth + 1) ?? jsonValueProblem(item, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * The bytes a metadata value counts for: a string its UTF-8 bytes (as when values were strings
 * only), anything else its serialized JSON.
 */
function metadataValueBytes(value: unknown): number {
  return typeof value === "string" ? utf8Bytes(value) : utf8Bytes(JSON.stringify(value));
}

/** Problems with a metadata map (as stored, or as a `metadata` filter), each at its key's path below `at`. */
export function metadataErrors(metadata: unknown, at: string[]): FieldError[] {
  if (!isPlainObject(metadata)) return [{ path: at, message: "must be an object" }];
  const entries = Object.entries(metadata);
  // Stop before looking at each pair: an oversized map is one error, not thousands.
  if (entries.length > MAX_METADATA_PAIRS) {
    return [{ path: at, message: `must have at most ${MAX_METADATA_PAIRS} pairs` }];
  }
  const errors: FieldError[] = [];
  let total = 0;
  for (const [key, value] of entries) {
    const keyBytes = utf8Bytes(key);
    let message: string | undefined;
    if (keyBytes === 0) message = "key must not be empty";
    else if (keyBytes > MAX_METADATA_KEY_BYTES) message = `key must be at most ${MAX_METADATA_KEY_BYTES} bytes`;
    else if (UNSTORABLE.test(key)) message = "key must not contain NUL or unpaired surrogates";
    else message = jsonValueProblem(value);
    // Sizes are measured once the value is known to be JSON.
    const valueBytes = message === undefined ? metadataValueBytes(value) : 0;
    if (message === undefined && valueBytes > MAX_METADATA_VALUE_BYTES) {
      message = `must be at most ${MAX_METADATA_VALUE_BYTES} bytes (as JSON, unless a string)`;
    }
    if (message !== undefined) errors.push({ path: [...at, key], message });
    total += keyBytes + valueBytes;
  }
  // The total is only worth reporting once every pair is fine on its own.
  if (errors.length === 0 && total > MAX_METADATA_TOTAL_BYTES) {
    errors.push({ path: at, message: `keys and values must total at most ${MAX_METADATA_TOTAL_BYTES} bytes` });
  }
  return errors;
}

function labelErrors(labels: unknown, at: string[]): FieldError[] {
  if (!Array.isArray(labels)) return [{ path: at, message: "must be a list of strings" }];
  if (labels.length > MAX_LABELS) return [{ path: at, message: `must have at most ${MAX_LABELS} labels` }];
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  labels.forEach((label: unknown, index) => {
    const path = [...at, String(index)];
    if (typeof label !== "string") {
      errors.push({ path, message: "must be a string" });
      return;
    }
    const message =
      identifierProblem(label, MAX_LABEL) ?? (seen.has(label) ? "must not repeat another label" : undefined);
    if (message !== undefined) errors.push({ path, message });
    seen.add(label);
  });
  return errors;
}

/** Ids of other resources (assets, data sets): int64 values JSON can carry exactly, from 1. */
function isId(value: unknown): boolean {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1;
}

/** A list of `least` to `most` distinct ids. */
function idListErrors(ids: unknown, at: string[], least: number, most: number, what: string): FieldError[] {
  if (!Array.isArray(ids) || ids.length < least || ids.length > most) {
    return [{ path: at, message: `must list ${least === 0 ? "at most" : `${least} to`} ${most} ${what}` }];
  }
  const errors: FieldError[] = [];
  const seen = new Set<unknown>();
  ids.forEach((id: unknown, index) => {
    if (!isId(id)) errors.push({ path: [...at, String(index)], message: "must be a whole number from 1 to 2^53-1" });
    else if (seen.has(id))
      errors.push({ path: [...at, String(index)], message: "must not repeat another id of the list" });
    seen.add(id);
  });
  return errors;
}

/** Problems with a list of security categories (a file's, a webhook's): at most 100 distinct ids. */
export function securityCategoryErrors(categories: unknown, at: string[]): FieldError[] {
  return idListErrors(categories, at, 0, MAX_SECURITY_CATEGORIES, "categories");
}

/**
 * One error per category of `requested` that is not among `held`: a caller gives a file or a
 * webhook only categories it holds (it could not read what it gave them otherwise).
 */
export function unheldCategoryErrors(
  requested: readonly number[],
  held: readonly number[],
  at: string[],
): FieldError[] {
  return requested.flatMap((category, index) =>
    held.includes(category)
      ? []
      : [{ path: [...at, String(index)], message: "is a category you do not hold in this workspace" }],
  );
}

/**
 * Checks every field present in `input` (create or update) and returns one error per bad field;
 * an empty list means valid. Values are checked in their stored form (names and directories
 * normalized), so callers store `normalizeName(name)`, `normalizeDirectory(directory)` and
 * `normalizeChecksum(checksum)`. A declared size over the limit is left to `checkDeclaredSize`.
 */
export function validateFileFields(
  input: FileFields,
  limits: FileLimits,
  pathPrefix: readonly string[] = ["input"],
  options: ValidateOptions = {},
): FieldError[] {
  const errors: FieldError[] = [];
  const at = (...field: string[]): string[] => [...pathPrefix, ...field];
  const check = (field: string, message: string | undefined): void => {
    if (message !== undefined) errors.push({ path: at(field), message });
  };
  const maxLength = (value: string | null | undefined, max: number): string | undefined =>
    typeof value === "string" && longerThan(value, max) ? `must be at most ${max} characters` : undefined;

  if (input.name === null || (input.name === undefined && options.requireName === true)) {
    check("name", "is required");
  } else if (input.name !== undefined) {
    check("name", nameProblem(normalizeName(input.name), limits.maxNameLength));
  }

  if (typeof input.externalId === "string") {
    check("externalId", identifierProblem(input.externalId, MAX_EXTERNAL_ID));
  }
  if (typeof input.directory === "string") {
    check("directory", directoryProblem(normalizeDirectory(input.directory)));
  }
  check("source", maxLength(input.source, MAX_SOURCE));
  check("description", maxLength(input.description, MAX_DESCRIPTION));

  if (typeof input.mimeType === "string") {
    if (longerThan(input.mimeType, MAX_MIME_TYPE)) check("mimeType", `must be at most ${MAX_MIME_TYPE} characters`);
    else if (!isMimeType(input.mimeType.trim())) check("mimeType", "must be a type/subtype such as text/plain");
  }

  if (typeof input.size === "number" && !(Number.isSafeInteger(input.size) && input.size >= 0)) {
    check("size", "must be a whole number of bytes, 0 or more");
  }
  if (typeof input.checksumSha256 === "string" && !CHECKSUM.test(input.checksumSha256)) {
    check("checksumSha256", "must be 64 hexadecimal characters");
  }

  if (input.metadata !== undefined && input.metadata !== null)
    errors.push(...metadataErrors(input.metadata, at("metadata")));
  if (input.labels !== undefined && input.labels !== null) errors.push(...labelErrors(input.labels, at("labels")));

  if (input.assetIds != null)
    errors.push(...idListErrors(input.assetIds, at("assetIds"), 1, MAX_ASSET_IDS, "asset ids"));
  if (input.securityCategories != null)
    errors.push(...securityCategoryErrors(input.securityCategories, at("securityCategories")));
  if (input.dataSetId != null && !isId(input.dataSetId)) check("dataSetId", "must be a whole number from 1 to 2^53-1");
  if (input.geoLocation != null) errors.push(...checkFeature(input.geoLocation, at("geoLocation")).errors);

  const scopes: readonly string[] = Object.values(FileScope);
  if (input.scope !== undefined && input.scope !== null && !scopes.includes(input.scope)) {
    check("scope", `must be one of ${scopes.join(", ")}`);
  }
  // Each scope id belongs to its scope: an entityId beside scope SESSION (or a sessionId beside
  // ENTITY) is refused rather than stored where no listing by scope would find it.
  for (const [field, scope] of [
    ["entityId", FileScope.ENTITY],
    ["sessionId", FileScope.SESSION],
  ] as const) {
    const value = input[field];
    if (typeof value === "string" && value !== "") {
      if (input.scope !== undefined && input.scope !== scope) check(field, `is only allowed with scope ${scope}`);
      else if (field === "sessionId")
        check(field, UUID.test(value) ? undefined : "must be a UUID (8-4-4-4-12 hexadecimal digits)");
      else check(field, identifierProblem(value, MAX_SCOPE_ID));
    } else if (input.scope === scope) check(field, `is required when scope is ${scope}`);
  }

  for (const field of ["sourceCreatedTime", "sourceModifiedTime"] as const) {
    const value = input[field];
    if (!(value instanceof Date)) continue;
    if (Number.isNaN(value.getTime())) check(field, "must be a valid date and time");
    else if (value.getTime() < EPOCH) check(field, "must not be before 1970-01-01T00:00:00Z");
  }
  return errors;
}
