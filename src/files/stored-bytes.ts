import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ObjectInfo, StorageDriver } from "../storage/driver.js";
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

/**
 * Size, SHA-256 and first bytes of a stored object, reading as little as the store allows. When
 * the store reports a SHA-256 it verified on arrival (`fullObjectChecksum`: S3 with
 * `x-amz-checksum-sha256`), only the head is fetched with a ranged GET; otherwise (local, Azure)
 * the whole object streams through a ByteInspector once, which hashes it and keeps the head.
 * Either way nothing is held in memory but the head.
 */
export async function inspectStoredObject(
  storage: StorageDriver,
  key: string,
  object: ObjectInfo,
  maxBytes: number,
  sha256?: Sha256Source,
): Promise<InspectedBytes> {
  const inspector = new ByteInspector({ maxBytes, sha256 });
  if (object.checksumSha256 === undefined) {
    await pipeline(await storage.getObject(key), inspector, discard());
    return inspector.result();
  }
  if (object.size === 0) return { size: 0, sha256: object.checksumSha256, head: Buffer.alloc(0) };
  const range = { start: 0, end: Math.min(object.size, DEFAULT_HEAD_BYTES) - 1 };
  await pipeline(await storage.getObject(key, range), inspector, discard());
  return { size: object.size, sha256: object.checksumSha256, head: inspector.result().head };
}
