import { describe, expect, it } from "vitest";
import { elf, fatMachO, gif, javaClass, jpeg, machO64, peStub, png, utf8 } from "../../test/helpers/samples.js";
import { sniff } from "./sniff.js";

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
