import { createHash, randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { elf, fatMachO, gif, javaClass, jpeg, machO64, peStub, png, utf8 } from "../../test/helpers/samples.js";
import { ByteInspector, TooLargeError } from "./byte-inspector.js";
import { mustDownloadAsAttachment } from "./disposition.js";
import { sniff } from "./sniff.js";

// ---- sniff -----------------------------------------------------------------------------------

describe("sniff", () => {
  it("recognises a PNG and reads its dimensions", async () => {
    expect(await sniff(png(3, 2))).toEqual({
      mimeType: "image/png",
      executable: false,
      dimensions: { width: 3, height: 2 },
    });
  });

  it("reads a 1x1 PNG", async () => {
    expect((await sniff(png(1, 1))).dimensions).toEqual({ width: 1, height: 1 });
  });

  it("recognises a GIF and reads its dimensions", async () => {
    expect(await sniff(gif(640, 480))).toEqual({
      mimeType: "image/gif",
      executable: false,
      dimensions: { width: 640, height: 480 },
    });
  });

  it("recognises a JPEG and reads its dimensions from the SOF header", async () => {
    expect(await sniff(jpeg(1024, 768))).toEqual({
      mimeType: "image/jpeg",
      executable: false,
      dimensions: { width: 1024, height: 768 },
    });
  });

  it("reports the real type of a PNG declared as something else", async () => {
    expect((await sniff(png(1, 1), "application/pdf")).mimeType).toBe("image/png");
  });

  it("gives no dimensions for an image whose header is cut off", async () => {
    const result = await sniff(jpeg(10, 10).subarray(0, 12));
    expect(result.mimeType).toBe("image/jpeg");
    expect(result.dimensions).toBeUndefined();
  });

  it("flags a Windows PE named as a PNG", async () => {
    const result = await sniff(peStub(), "image/png");
    expect(result.executable).toBe(true);
    expect(result.mimeType).toBe("application/x-msdownload");
    expect(result.dimensions).toBeUndefined();
  });

  it("flags an ELF executable", async () => {
    expect((await sniff(elf(), "text/plain")).executable).toBe(true);
  });

  it("flags a 64-bit Mach-O executable", async () => {
    expect((await sniff(machO64())).executable).toBe(true);
  });

  it.each([
    ["FE ED FA CE", [0xfe, 0xed, 0xfa, 0xce]],
    ["FE ED FA CF", [0xfe, 0xed, 0xfa, 0xcf]],
    ["CE FA ED FE", [0xce, 0xfa, 0xed, 0xfe]],
  ])("flags a Mach-O starting %s", async (_label, magic) => {
    expect((await sniff(Buffer.concat([Buffer.from(magic), Buffer.alloc(28)]))).executable).toBe(true);
  });

  it("flags a universal Mach-O with two architectures", async () => {
    expect((await sniff(fatMachO(2))).executable).toBe(true);
  });

  it("flags a universal Mach-O with 44 architectures, the most a Java class cannot claim", async () => {
    expect((await sniff(fatMachO(44))).executable).toBe(true);
  });

  it("does not flag CAFEBABE followed by 45, the smallest Java class version", async () => {
    expect((await sniff(fatMachO(45))).executable).toBe(false);
  });

  it("does not flag a Java class file, which shares the CAFEBABE magic", async () => {
    const result = await sniff(javaClass());
    expect(result.executable).toBe(false);
    expect(result.mimeType).toBe("application/java-vm");
  });

  it("does not flag a Java 1.0 class file (major version 45)", async () => {
    expect((await sniff(Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0x00, 0x03, 0x00, 0x2d]))).executable).toBe(false);
  });

  it("calls undeclared UTF-8 text text/plain", async () => {
    expect(await sniff(utf8("Grüße, 世界\nsecond line\n"))).toEqual({
      mimeType: "text/plain",
      executable: false,
      dimensions: undefined,
    });
  });

  it("keeps a textual declared type for text", async () => {
    expect((await sniff(utf8("name,size\nreport.pdf,10\n"), "text/csv")).mimeType).toBe("text/csv");
  });

  it("keeps a declared JSON type for text", async () => {
    expect((await sniff(utf8('{"a": 1}'), "Application/JSON; charset=utf-8")).mimeType).toBe("application/json");
  });

  it("calls text declared as an image text/plain", async () => {
    expect((await sniff(utf8("just words"), "image/png")).mimeType).toBe("text/plain");
  });

  it("still calls text text when the head cuts a multibyte character in half", async () => {
    const text = utf8("ééé"); // 6 bytes
    expect((await sniff(text.subarray(0, 5))).mimeType).toBe("text/plain");
  });

  it("calls unrecognised binary application/octet-stream", async () => {
    expect((await sniff(Buffer.from([0x00, 0x01, 0x02, 0x03, 0xff, 0xfe, 0x10, 0x00]), "text/plain")).mimeType).toBe(
      "application/octet-stream",
    );
  });

  it("calls invalid UTF-8 application/octet-stream", async () => {
    expect((await sniff(Buffer.from([0x68, 0x69, 0xc3, 0x28, 0x21]))).mimeType).toBe("application/octet-stream");
  });

  it("detects SVG with an XML declaration and comment, declared as PNG, and reads its size", async () => {
    const svg = utf8(
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- Generator: hand -->\n' +
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><script>alert(1)</script></svg>\n',
    );
    expect(await sniff(svg, "image/png")).toEqual({
      mimeType: "image/svg+xml",
      executable: false,
      dimensions: { width: 120, height: 80 },
    });
  });

  it("detects bare SVG declared as text/plain", async () => {
    expect((await sniff(utf8('<svg xmlns="http://www.w3.org/2000/svg"/>'), "text/plain")).mimeType).toBe(
      "image/svg+xml",
    );
  });

  it("detects an HTML page declared as text/plain", async () => {
    expect((await sniff(utf8("\uFEFF<!DOCTYPE html>\n<html><body>hi</body></html>"), "text/plain")).mimeType).toBe(
      "text/html",
    );
  });

  it("detects an HTML fragment starting with a script tag", async () => {
    expect((await sniff(utf8("<script>alert(document.cookie)</script>"), "text/csv")).mimeType).toBe("text/html");
  });

  it("keeps a declared XML dialect for XML", async () => {
    expect((await sniff(utf8('<?xml version="1.0"?>\n<rss version="2.0"/>'), "application/rss+xml")).mimeType).toBe(
      "application/rss+xml",
    );
  });

  it("leaves XML that is neither SVG nor HTML as XML", async () => {
    expect((await sniff(utf8('<?xml version="1.0"?>\n<catalog><book/></catalog>'))).mimeType).toBe("application/xml");
  });
});

// ---- mustDownloadAsAttachment ------------------------------------------------------------------

describe("mustDownloadAsAttachment", () => {
  it.each([
    "text/html",
    "text/html; charset=utf-8",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "application/rss+xml",
    "text/javascript",
    "application/javascript",
    "application/ecmascript",
    "text/ecmascript",
    "application/pdf",
    "application/octet-stream",
    "application/x-unknown-thing",
  ])("downloads %s as an attachment", (mimeType) => {
    expect(mustDownloadAsAttachment(mimeType)).toBe(true);
  });

  it.each([
    "image/png",
    "image/jpeg",
    "IMAGE/GIF",
    "image/webp",
    "text/plain; charset=utf-8",
    "video/mp4",
    "audio/mpeg",
  ])("shows %s inline", (mimeType) => {
    expect(mustDownloadAsAttachment(mimeType)).toBe(false);
  });
});

// ---- ByteInspector ---------------------------------------------------------------------------

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
