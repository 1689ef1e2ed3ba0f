import { createHash, randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { ByteInspector, TooLargeError } from "./byte-inspector.js";

/** Cuts bytes into chunks of irregular sizes (1 to 4999 bytes), like a network would. */
function chunked(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, n = 0; at < bytes.length; n++) {
    const size = 1 + ((n * 7919) % 4999);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Streams `bytes` through an inspector; returns what came out, and the error if any. */
async function inspect(bytes: Buffer, inspector: ByteInspector): Promise<{ output: Buffer; error: unknown }> {
  const received: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk);
      callback();
    },
  });
  let error: unknown;
  await pipeline(Readable.from(chunked(bytes)), inspector, sink).catch((caught: unknown) => {
    error = caught;
  });
  return { output: Buffer.concat(received), error };
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

describe("ByteInspector", () => {
  const data = randomBytes(300_000);

  it("measures every byte past the size it expected, keeping a head no longer than that size", async () => {
    const inspector = new ByteInspector({ maxBytes: 1_000_000, expectedBytes: 1000 });
    const { output, error } = await inspect(data, inspector);
    expect(error).toBeUndefined();
    expect(output.equals(data)).toBe(true);
    const result = inspector.result();
    expect(result.size).toBe(data.length);
    expect(result.sha256).toBe(sha256(data));
    expect(result.head.equals(data.subarray(0, 1000))).toBe(true);
  });

  it("streams many chunks to the same SHA-256 as hashing the whole file", async () => {
    expect(chunked(data).length).toBeGreaterThan(100);
    const inspector = new ByteInspector({ maxBytes: 1_000_000 });
    await inspect(data, inspector);
    expect(inspector.result().sha256).toBe(sha256(data));
  });

  it("counts every byte", async () => {
    const inspector = new ByteInspector({ maxBytes: 1_000_000 });
    await inspect(data, inspector);
    expect(inspector.result().size).toBe(300_000);
  });

  it("passes the bytes on unchanged", async () => {
    const { output } = await inspect(data, new ByteInspector({ maxBytes: 1_000_000 }));
    expect(output.equals(data)).toBe(true);
  });

  it("keeps the first 64 KiB as the head by default", async () => {
    const inspector = new ByteInspector({ maxBytes: 1_000_000 });
    await inspect(data, inspector);
    expect(inspector.result().head.equals(data.subarray(0, 64 * 1024))).toBe(true);
  });

  it("keeps the first headBytes when asked for fewer", async () => {
    const inspector = new ByteInspector({ maxBytes: 1_000_000, headBytes: 10 });
    await inspect(data, inspector);
    expect(inspector.result().head.equals(data.subarray(0, 10))).toBe(true);
  });

  it("keeps a whole small file as the head", async () => {
    const small = data.subarray(0, 1000);
    const inspector = new ByteInspector({ maxBytes: 1_000_000 });
    await inspect(small, inspector);
    expect(inspector.result().head.equals(small)).toBe(true);
  });

  it("measures an empty file", async () => {
    const inspector = new ByteInspector({ maxBytes: 10 });
    await inspect(Buffer.alloc(0), inspector);
    expect(inspector.result()).toEqual({ size: 0, sha256: sha256(Buffer.alloc(0)), head: Buffer.alloc(0) });
  });

  it("accepts a file of exactly maxBytes", async () => {
    const inspector = new ByteInspector({ maxBytes: data.length });
    const { error } = await inspect(data, inspector);
    expect(error).toBeUndefined();
    expect(inspector.result().size).toBe(data.length);
  });

  it("fails a file one byte over maxBytes with TooLargeError carrying the limit", async () => {
    const { error } = await inspect(data, new ByteInspector({ maxBytes: data.length - 1 }));
    expect(error).toBeInstanceOf(TooLargeError);
    expect((error as TooLargeError).maxSize).toBe(data.length - 1);
  });

  it("passes nothing past the limit", async () => {
    const maxBytes = 100_000;
    const { output, error } = await inspect(data, new ByteInspector({ maxBytes }));
    expect(error).toBeInstanceOf(TooLargeError);
    expect(output.length).toBeLessThanOrEqual(maxBytes);
    expect(output.equals(data.subarray(0, output.length))).toBe(true);
  });

  it("refuses to report results before the stream ends", () => {
    expect(() => new ByteInspector({ maxBytes: 10 }).result()).toThrow(/before the stream ended/);
  });
});
