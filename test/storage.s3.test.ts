import { randomUUID } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { StorageError } from "../src/storage/driver.js";
import { createStorageDriver } from "../src/storage/index.js";
import { S3Storage } from "../src/storage/s3.js";
import { startS3Server, type TestS3Server } from "./helpers/s3-server.js";
import { randomContent } from "./helpers/samples.js";
import { describeStorageDriver, failingBody, readAll, sha256 } from "./storage.shared.js";

function s3Storage(s3: TestS3Server, bucket = s3.bucket): S3Storage {
  return new S3Storage({
    bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: s3.credentials,
  });
}

describeStorageDriver("s3", async () => {
  const s3 = await startS3Server();
  const driver = s3Storage(s3);
  await driver.checkBucket();
  return {
    driver,
    async cleanup() {
      await driver.close();
      await s3.close();
    },
  };
});

describe("S3 storage specifics", () => {
  let s3: TestS3Server;
  let storage: S3Storage;
  beforeAll(async () => {
    s3 = await startS3Server();
    storage = s3Storage(s3);
  });
  afterAll(async () => {
    await storage.close();
    await s3.close();
  });
  const soon = (): Date => new Date(Date.now() + 10 * 60 * 1000);
  const key = (): string => `ws/s3/${randomUUID()}`;

  it("names the bucket and endpoint when the bucket is missing", async () => {
    const missing = s3Storage(s3, "no-such-bucket");
    await expect(missing.checkBucket()).rejects.toThrow(
      `S3 bucket no-such-bucket is missing or unreachable at ${s3.endpoint}: NotFound`,
    );
    await missing.close();
  });

  it("stops the server at start when STORAGE_DRIVER=s3 names a missing bucket", async () => {
    const { storage } = loadConfig({ ...s3.env, S3_BUCKET: "missing-bucket" });
    if (storage.driver !== "s3") throw new Error("STORAGE_DRIVER=s3 did not select the S3 driver");
    await expect(createStorageDriver({ ...storage, credentials: s3.credentials })).rejects.toThrow(
      /^S3 bucket missing-bucket is missing or unreachable at http:\/\/127\.0\.0\.1:\d+: /,
    );
  });

  it("names the endpoint when the store is unreachable", async () => {
    const unreachable = new S3Storage({
      bucket: "b",
      region: "us-east-1",
      endpoint: "http://127.0.0.1:1",
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    await expect(unreachable.checkBucket()).rejects.toThrow(
      /^S3 bucket b is missing or unreachable at http:\/\/127\.0\.0\.1:1: /,
    );
    await unreachable.close();
  });

  it("signs Content-Type, the declared Content-Length, the checksum and If-None-Match into a PUT target", async () => {
    const checksum = "ab".repeat(32);
    const target = await storage.signUpload({
      key: key(),
      method: "PUT",
      contentType: "image/png",
      maxSize: 100,
      exactSize: 42,
      checksumSha256: checksum,
      expiresAt: soon(),
    });
    expect(target.headers).toEqual([
      { name: "Content-Type", value: "image/png" },
      { name: "Content-Length", value: "42" },
      { name: "x-amz-checksum-sha256", value: Buffer.from(checksum, "hex").toString("base64") },
      { name: "If-None-Match", value: "*" },
    ]);
    const signed = new URL(target.url).searchParams.get("X-Amz-SignedHeaders")?.split(";");
    expect(signed).toEqual(
      expect.arrayContaining(["content-type", "content-length", "x-amz-checksum-sha256", "if-none-match"]),
    );
  });

  it("binds the staging key, the size range and the Content-Type in a POST policy, fields before the file", async () => {
    const objectKey = key();
    // The form stores where no download URL reads; completion copies the bytes to the object's key.
    const stagingKey = `.uploads/${objectKey}`;
    const target = await storage.signUpload({
      key: objectKey,
      method: "POST",
      contentType: "text/csv",
      maxSize: 5000,
      exactSize: 1234,
      expiresAt: soon(),
    });
    expect(target.fields[0]).toEqual({ name: "key", value: stagingKey });
    const policy = JSON.parse(
      Buffer.from(target.fields.find((f) => f.name === "Policy")!.value, "base64").toString(),
    ) as { conditions: unknown[] };
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ["content-length-range", 1234, 1234],
        ["eq", "$Content-Type", "text/csv"],
        { key: stagingKey },
      ]),
    );
    const open = await storage.signUpload({
      key: key(),
      method: "POST",
      contentType: "text/csv",
      maxSize: 5000,
      expiresAt: soon(),
    });
    const openPolicy = JSON.parse(
      Buffer.from(open.fields.find((f) => f.name === "Policy")!.value, "base64").toString(),
    ) as { conditions: unknown[] };
    expect(openPolicy.conditions).toContainEqual(["content-length-range", 0, 5000]);
  });

  it("signs a part's Content-Length into its URL when the size is given", async () => {
    const objectKey = key();
    const uploadId = await storage.createMultipartUpload(objectKey, { contentType: "application/zip" });
    const url = new URL((await storage.signUploadPart(objectKey, uploadId, 2, soon(), 1234)).url);
    expect(url.searchParams.get("X-Amz-SignedHeaders")?.split(";")).toContain("content-length");
    expect(url.searchParams.get("partNumber")).toBe("2");
    await storage.abortMultipartUpload(objectKey, uploadId);
  });

  it("presigns downloads with the response type and disposition overridden", async () => {
    const url = new URL(
      await storage.signDownload({
        key: key(),
        contentType: "text/html",
        contentDisposition: 'attachment; filename="a.html"',
        expiresAt: soon(),
      }),
    );
    expect(url.searchParams.get("response-content-type")).toBe("text/html");
    expect(url.searchParams.get("response-content-disposition")).toBe('attachment; filename="a.html"');
  });

  it("aborts lib-storage's multipart upload when a large body fails, keeping no parts", async () => {
    const objectKey = key();
    const broken = new Error("client went away");
    await expect(
      storage.putObject(objectKey, failingBody(randomContent(20 * 1024 * 1024), broken), {
        contentType: "application/zip",
      }),
    ).rejects.toBe(broken);
    await expect(storage.headObject(objectKey)).resolves.toBeNull();
    const uploads = await readdir(path.join(s3.dir, s3.bucket, "._S3rver_uploads")).catch(() => []);
    expect(uploads).toEqual([]);
  });

  it("streams a body larger than one part through lib-storage", async () => {
    const objectKey = key();
    const bytes = randomContent(17 * 1024 * 1024);
    const chunks = Array.from({ length: 17 }, (_, i) => bytes.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
    await expect(
      storage.putObject(objectKey, Readable.from(chunks), { contentType: "application/zip" }),
    ).resolves.toEqual({ size: bytes.length });
    expect((await storage.headObject(objectKey))?.size).toBe(bytes.length);
    expect(sha256(await readAll(await storage.getObject(objectKey)))).toBe(sha256(bytes));
  });

  it("turns every failure of the SDK into a StorageError naming the operation, never an SDK error", async () => {
    // Nothing listens on port 9 (discard): every call fails to connect.
    const unreachable = new S3Storage({
      bucket: s3.bucket,
      region: s3.region,
      endpoint: "http://127.0.0.1:9",
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    const listing = async (pages: AsyncIterable<unknown>) => {
      for await (const _ of pages) return;
    };
    const calls: [string, () => Promise<unknown>][] = [
      ["headObject", () => unreachable.headObject("k")],
      ["deleteObject", () => unreachable.deleteObject("k")],
      ["createMultipartUpload", () => unreachable.createMultipartUpload("k", { contentType: "text/plain" })],
      ["listParts", () => unreachable.listParts("k", "u")],
      ["abortMultipartUpload", () => unreachable.abortMultipartUpload("k", "u")],
      ["listObjects", () => listing(unreachable.listObjects())],
      ["listMultipartUploads", () => listing(unreachable.listMultipartUploads())],
    ];
    for (const [name, call] of calls) {
      const failure = await call().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure, name).toBeInstanceOf(StorageError);
      expect(failure, name).toMatchObject({ code: "FAILED", message: expect.stringContaining(name) });
    }
    await unreachable.close();
  }, 60_000);
});
