import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ObjectInfo } from "../storage/driver.js";
import { DEFAULT_HEAD_BYTES } from "./byte-inspector.js";
import { inspectStoredObject } from "./stored-bytes.js";

/** A store holding one object that records the ranges it was asked for. */
function storeWith(bytes: Buffer): {
  read: (range?: { start: number; end: number }) => Promise<Readable>;
  reads: ({ start: number; end: number } | undefined)[];
} {
  const reads: ({ start: number; end: number } | undefined)[] = [];
  const read = async (range?: { start: number; end: number }) => {
    reads.push(range);
    return Readable.from([range ? bytes.subarray(range.start, range.end + 1) : bytes]);
  };
  return { read, reads };
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

describe("inspectStoredObject", () => {
  const bytes = randomBytes(200_000);

  it("reads only the head with a ranged GET when the store reports a SHA-256", async () => {
    const { read, reads } = storeWith(bytes);
    const object: ObjectInfo = { size: bytes.length, checksumSha256: sha256(bytes) };
    const inspected = await inspectStoredObject({ info: object, read }, 10 * bytes.length);
    expect(reads).toEqual([{ start: 0, end: DEFAULT_HEAD_BYTES - 1 }]);
    expect(inspected).toEqual({
      size: bytes.length,
      sha256: sha256(bytes),
      head: bytes.subarray(0, DEFAULT_HEAD_BYTES),
    });
  });

  it("streams the whole object once to hash it when the store reports no checksum", async () => {
    const { read, reads } = storeWith(bytes);
    const inspected = await inspectStoredObject({ info: { size: bytes.length }, read }, 10 * bytes.length);
    expect(reads).toEqual([undefined]);
    expect(inspected.sha256).toBe(sha256(bytes));
    expect(inspected.head).toEqual(bytes.subarray(0, DEFAULT_HEAD_BYTES));
  });

  it("reads nothing for an empty object with a checksum", async () => {
    const { read, reads } = storeWith(Buffer.alloc(0));
    const empty = sha256(Buffer.alloc(0));
    await expect(inspectStoredObject({ info: { size: 0, checksumSha256: empty }, read }, 10)).resolves.toEqual({
      size: 0,
      sha256: empty,
      head: Buffer.alloc(0),
    });
    expect(reads).toEqual([]);
  });
});
