/**
 * Metadata as JSON: each value any JSON, filtered by exact value. A file's pairs are also kept as
 * FileMetadata rows holding the SHA-256 of each value's canonical JSON (RFC 8785, JSON
 * Canonicalization Scheme), so `{ "a": 1, "b": [2] }` and `{"b":[2],"a":1.0}` are one value and an
 * equality filter is an index lookup whatever the value's size.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/** The hex SHA-256 of a JSON value's canonical form. */
export function metadataValueHash(value: unknown): string {
  const canonical = canonicalize(value);
  // canonicalize answers undefined only for undefined, which JSON input never holds.
  if (canonical === undefined) throw new TypeError("metadata values must be JSON");
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

/** FileMetadata rows (without fileId) for a file's (validated) metadata map; none when there is no map. */
export function metadataRows(
  workspaceId: string,
  metadata: unknown,
): { workspaceId: string; key: string; valueHash: string }[] {
  if (typeof metadata !== "object" || metadata === null) return [];
  return Object.entries(metadata).map(([key, value]) => ({ workspaceId, key, valueHash: metadataValueHash(value) }));
}
