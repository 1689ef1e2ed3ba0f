import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFile, sha256 } from "./helpers/files.js";
import { randomContent } from "./helpers/samples.js";
import { startServer, type TestServer } from "./helpers/server.js";

const MAX_INLINE = 7 * 1024 * 1024;
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe("base64 content", () => {
  it("stores content of exactly MAX_INLINE_BYTES and returns the file UPLOADED", async () => {
    const bytes = randomContent(MAX_INLINE);
    const result = await createFile(server, { name: "at-cap.bin", content: bytes.toString("base64") });
    expect(result.__typename).toBe("CreateFilePayload");
    expect(result.upload).toBeNull();
    expect(result.file).toMatchObject({ status: "UPLOADED", size: MAX_INLINE, checksumSha256: sha256(bytes) });
    const download = await fetch(result.file!.downloadUrl!);
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(bytes));
  });

  it("refuses content one byte over MAX_INLINE_BYTES with PayloadTooLargeError and stores nothing", async () => {
    const before = await server.app.db.file.count();
    const result = await createFile(server, {
      name: "over-cap.bin",
      content: randomContent(MAX_INLINE + 1).toString("base64"),
    });
    expect(result).toMatchObject({ __typename: "PayloadTooLargeError", maxSize: MAX_INLINE });
    expect(await server.app.db.file.count()).toBe(before);
  });

  it("refuses invalid base64 with a ValidationError on content", async () => {
    const result = await createFile(server, { name: "bad.txt", content: "not base64!" });
    expect(result.__typename).toBe("ValidationError");
    expect(result.fieldErrors).toEqual([{ path: ["input", "content"], message: expect.stringContaining("base64") }]);
  });

  it("refuses unpadded and base64url input rather than guessing", async () => {
    for (const content of ["aGk", "-_8="]) {
      const result = await createFile(server, { name: "url.txt", content });
      expect(result.__typename).toBe("ValidationError");
    }
  });

  it("checks content against a declared checksum", async () => {
    const result = await createFile(server, {
      name: "sum.txt",
      content: Buffer.from("hello").toString("base64"),
      checksumSha256: "0".repeat(64),
    });
    expect(result.__typename).toBe("ValidationError");
    expect(result.fieldErrors?.[0]?.path).toEqual(["input", "checksumSha256"]);
    expect(await server.app.db.file.count({ where: { name: "sum.txt" } })).toBe(0);
  });

  it("measures image dimensions of inline content", async () => {
    // A 1x1 PNG.
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    const result = await createFile(server, { name: "dot.png", content: png });
    expect(result.file).toMatchObject({ mimeType: "image/png", dimensions: { width: 1, height: 1 } });
  });

  it("overwrites a file by externalId in place, the new content taking over", async () => {
    const first = await createFile(server, {
      name: "v1.txt",
      externalId: "doc-1",
      content: Buffer.from("one").toString("base64"),
    });
    const second = await createFile(server, {
      name: "v2.txt",
      externalId: "doc-1",
      overwrite: true,
      content: Buffer.from("two").toString("base64"),
    });
    expect(second.file).toMatchObject({
      id: first.file!.id,
      name: "v2.txt",
      status: "UPLOADED",
      externalId: "doc-1",
      size: 3,
    });
    expect(await (await fetch(second.file!.downloadUrl!)).text()).toBe("two");
  });

  it("refuses more than one of file, content and sourceUrl", async () => {
    const result = await createFile(server, { name: "two.txt", content: "aGk=", sourceUrl: "https://example.com/a" });
    expect(result.__typename).toBe("ValidationError");
    expect(result.fieldErrors?.map((error) => error.path.join("."))).toEqual(["input.content", "input.sourceUrl"]);
  });
});
