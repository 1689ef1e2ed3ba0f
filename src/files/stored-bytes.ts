import { type Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ObjectInfo } from "../storage/driver.js";
import { ByteInspector, DEFAULT_HEAD_BYTES, type InspectedBytes } from "./byte-inspector.js";
import type { Sha256Source } from "./sha256.js";

/** A sink for bytes that were read only to be measured. */
function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

/** A stored object to inspect: what the store reports of it, and how to read it. */
export interface StoredBytes {
  info: ObjectInfo;
  read(range?: { start: number; end: number }): Promise<Readable>;
}

/**
 * Size, SHA-256 and first bytes of a stored object, reading as little as the store allows. When
 * the store reports a SHA-256 it verified on arrival (`fullObjectChecksum`: S3 with
 * `x-amz-checksum-sha256`), only the head is fetched with a ranged GET; otherwise (local, Azure)
 * the whole object streams through a ByteInspector once, which hashes it and keeps the head.
 * Either way nothing is held in memory but the head.
 */
export async function inspectStoredObject(
  { info: object, read }: StoredBytes,
  maxBytes: number,
  sha256?: Sha256Source,
): Promise<InspectedBytes> {
  const inspector = new ByteInspector({ maxBytes, sha256, expectedBytes: object.size });
  if (object.checksumSha256 === undefined) {
    await pipeline(await read(), inspector, discard());
    return inspector.result();
  }
  if (object.size === 0) return { size: 0, sha256: object.checksumSha256, head: Buffer.alloc(0) };
  const range = { start: 0, end: Math.min(object.size, DEFAULT_HEAD_BYTES) - 1 };
  await pipeline(await read(range), inspector, discard());
  return { size: object.size, sha256: object.checksumSha256, head: inspector.result().head };
}
