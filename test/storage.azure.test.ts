import { randomBytes, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { AzureStorage, type AzureStorageOptions } from "../src/storage/azure.js";
import { StorageError } from "../src/storage/driver.js";
import { createStorageDriver } from "../src/storage/index.js";
import { startAzurite, type TestAzurite } from "./helpers/azurite.js";
import { randomContent } from "./helpers/samples.js";
import { describeStorageDriver, readAll } from "./storage.shared.js";

function azureStorage(azurite: TestAzurite, changes: Partial<AzureStorageOptions> = {}): AzureStorage {
  const { accountName, accountKey, endpoint, container } = azurite;
  return new AzureStorage({ accountName, accountKey, endpoint, container, ...changes });
}

describeStorageDriver("azure", async () => {
  const azurite = await startAzurite();
  const driver = azureStorage(azurite);
  await driver.checkContainer();
  return {
    driver,
    async cleanup() {
      await driver.close();
      await azurite.close();
    },
  };
});

describe("Azure storage specifics", () => {
  let azurite: TestAzurite;
  let storage: AzureStorage;
  beforeAll(async () => {
    azurite = await startAzurite();
    storage = azureStorage(azurite);
  });
  afterAll(async () => {
    await storage.close();
    await azurite.close();
  });
  const soon = (): Date => new Date(Date.now() + 10 * 60 * 1000);
  const key = (): string => `ws/azure/${randomUUID()}`;
  const headersOf = (target: { headers: { name: string; value: string }[] }): Record<string, string> =>
    Object.fromEntries(target.headers.map((h) => [h.name, h.value]));

  describe("at start", () => {
    it("names account, container and endpoint when the container is missing", async () => {
      const missing = azureStorage(azurite, { container: "no-such-container" });
      await expect(missing.checkContainer()).rejects.toThrow(
        `Azure container no-such-container of account devstoreaccount1 is missing or unreachable at ${azurite.endpoint}: ContainerNotFound`,
      );
    });

    it("stops the server at start when STORAGE_DRIVER=azure names a missing container", async () => {
      const { storage: options } = loadConfig({ ...azurite.env, AZURE_CONTAINER: "missing-container" });
      if (options.driver !== "azure") throw new Error("STORAGE_DRIVER=azure did not select the Azure driver");
      await expect(createStorageDriver(options)).rejects.toThrow(
        /^Azure container missing-container of account devstoreaccount1 is missing/,
      );
    });

    it("names the endpoint when the store is unreachable", async () => {
      const unreachable = azureStorage(azurite, { endpoint: "http://127.0.0.1:1/devstoreaccount1" });
      await expect(unreachable.checkContainer()).rejects.toThrow(
        /unreachable at http:\/\/127\.0\.0\.1:1\/devstoreaccount1: /,
      );
    });

    it("names the failure when the account key is wrong, as a StorageError", async () => {
      const wrongKey = azureStorage(azurite, { accountKey: randomBytes(64).toString("base64") });
      await expect(wrongKey.checkContainer()).rejects.toThrow(
        /: AuthorizationFailure|: AuthenticationFailed|: HTTP 403/,
      );
      await expect(
        wrongKey.putObject(key(), Readable.from([Buffer.from("x")]), { contentType: "text/plain" }),
      ).rejects.toSatisfy(
        (error) => error instanceof StorageError && error.code === "FAILED" && error.cause !== undefined,
      );
    });
  });

  describe("PUT targets", () => {
    it("list x-ms-blob-type, Content-Type, the declared Content-Length and If-None-Match", async () => {
      const target = await storage.signUpload({
        key: key(),
        method: "PUT",
        contentType: "image/png",
        maxSize: 100,
        exactSize: 42,
        expiresAt: soon(),
      });
      expect(target.headers).toEqual([
        { name: "x-ms-blob-type", value: "BlockBlob" },
        { name: "Content-Type", value: "image/png" },
        { name: "Content-Length", value: "42" },
        { name: "If-None-Match", value: "*" },
      ]);
      expect(target.fields).toEqual([]);
    });

    it("are a create-only SAS for one staging blob, http allowed only on loopback", async () => {
      const expiresAt = soon();
      const local = new URL(
        (await storage.signUpload({ key: key(), method: "PUT", contentType: "text/plain", maxSize: 1, expiresAt })).url,
      );
      expect(local.searchParams.get("sp")).toBe("c");
      expect(local.searchParams.get("sr")).toBe("b");
      expect(local.searchParams.get("spr")).toBe("https,http");
      expect(new Date(local.searchParams.get("se")!).getTime()).toBe(Math.floor(expiresAt.getTime() / 1000) * 1000);
      const remote = new AzureStorage({
        accountName: "acct",
        accountKey: azurite.accountKey,
        endpoint: "https://acct.blob.core.windows.net",
        container: "files",
      });
      const signed = new URL(
        (await remote.signUpload({ key: "ws/a", method: "PUT", contentType: "text/plain", maxSize: 1, expiresAt })).url,
      );
      expect(signed.origin + signed.pathname).toBe("https://acct.blob.core.windows.net/files/.uploads/ws/a");
      expect(signed.searchParams.get("spr")).toBe("https");
    });

    it("never replace a blob, even when the client leaves out If-None-Match", async () => {
      const objectKey = key();
      const target = await storage.signUpload({
        key: objectKey,
        method: "PUT",
        contentType: "text/plain",
        maxSize: 100,
        expiresAt: soon(),
      });
      const { "If-None-Match": _condition, ...headers } = headersOf(target);
      expect((await fetch(target.url, { method: "PUT", headers, body: "verified" })).status).toBe(201);
      expect((await fetch(target.url, { method: "PUT", headers, body: "replaced" })).status).toBe(403);
      const staged = await storage.stagedUpload(objectKey);
      expect((await readAll(await staged!.read())).toString()).toBe("verified");
    });

    it("are refused when altered or expired (Azurite checks SAS signatures)", async () => {
      const target = await storage.signUpload({
        key: key(),
        method: "PUT",
        contentType: "text/plain",
        maxSize: 100,
        expiresAt: soon(),
      });
      const widened = new URL(target.url);
      widened.searchParams.set("sp", "cw");
      expect((await fetch(widened, { method: "PUT", headers: headersOf(target), body: "x" })).status).toBe(403);
      const elsewhere = new URL(target.url);
      elsewhere.pathname += "-other";
      expect((await fetch(elsewhere, { method: "PUT", headers: headersOf(target), body: "x" })).status).toBe(403);
      const expired = await storage.signUpload({
        key: key(),
        method: "PUT",
        contentType: "text/plain",
        maxSize: 100,
        expiresAt: new Date(Date.now() - 1000),
      });
      expect((await fetch(expired.url, { method: "PUT", headers: headersOf(expired), body: "x" })).status).toBe(403);
    });

    it("cannot be signed for POST: Azure has no form upload", async () => {
      expect(storage.capabilities.uploadMethods).toEqual(["PUT", "MULTIPART"]);
      await expect(
        storage.signUpload({ key: key(), method: "POST", contentType: "text/plain", maxSize: 1, expiresAt: soon() }),
      ).rejects.toThrow(RangeError);
    });
  });

  it("signs downloads as a read SAS with Content-Type and Content-Disposition overrides", async () => {
    const objectKey = key();
    await storage.putObject(objectKey, Readable.from([Buffer.from("<svg/>")]), { contentType: "image/svg+xml" });
    const url = new URL(
      await storage.signDownload({
        key: objectKey,
        contentType: "image/svg+xml",
        contentDisposition: "attachment; filename*=UTF-8''a.svg",
        expiresAt: soon(),
      }),
    );
    expect(url.searchParams.get("sp")).toBe("r");
    const response = await fetch(url);
    expect(response.headers.get("content-type")).toBe("image/svg+xml");
    expect(response.headers.get("content-disposition")).toBe("attachment; filename*=UTF-8''a.svg");
    const altered = new URL(url);
    altered.searchParams.set("rscd", "inline");
    expect((await fetch(altered)).status).toBe(403);
  });

  describe("multipart as blocks", () => {
    it("signs Put Block URLs whose block ids are base64 of one length, and gives each part's ETag as its block id", async () => {
      const objectKey = key();
      const uploadId = await storage.createMultipartUpload(objectKey, { contentType: "application/zip" });
      const signed = await Promise.all(
        [1, 2, 10_000].map((n) => storage.signUploadPart(objectKey, uploadId, n, soon())),
      );
      const ids = signed.map((part) => new URL(part.url).searchParams.get("blockid")!);
      expect(signed.map((part) => part.etag)).toEqual(ids);
      expect(new Set(ids).size).toBe(3);
      for (const id of ids) {
        expect(id).toMatch(/^[A-Za-z0-9+/]{64}$/);
        expect(Buffer.from(id, "base64").toString("base64")).toBe(id);
      }
      const url = new URL(signed[0]!.url);
      expect(url.searchParams.get("comp")).toBe("block");
      expect(url.searchParams.get("sp")).toBe("w");
      // Signed for the upload's staging blob, never for the object's own key.
      expect(decodeURIComponent(url.pathname)).toBe(
        `/devstoreaccount1/${azurite.container}/.multipart/${objectKey}/${uploadId}`,
      );
    });

    it("never lets a part URL replace the joined object: it only reaches the staging blob", async () => {
      const objectKey = key();
      const uploadId = await storage.createMultipartUpload(objectKey, { contentType: "application/zip" });
      const part = await storage.signUploadPart(objectKey, uploadId, 1, soon());
      expect((await fetch(part.url, { method: "PUT", body: "verified" })).ok).toBe(true);
      await storage.completeMultipartUpload(objectKey, uploadId, [{ partNumber: 1, etag: part.etag! }]);
      const wholeBlob = new URL(part.url);
      wholeBlob.searchParams.delete("comp");
      wholeBlob.searchParams.delete("blockid");
      const put = await fetch(wholeBlob, {
        method: "PUT",
        headers: { "x-ms-blob-type": "BlockBlob" },
        body: "replaced",
      });
      expect(put.status).toBe(201);
      expect((await readAll(await storage.getObject(objectKey))).toString()).toBe("verified");
      // What the part URL re-created is removed as abandoned once it is old enough.
      expect(await storage.removeAbandoned(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1);
    });

    it("removes staging blobs older than the cut-off only", async () => {
      const objectKey = key();
      const uploadId = await storage.createMultipartUpload(objectKey, { contentType: "application/zip" });
      await storage.removeAbandoned(new Date(Date.now() - 60_000));
      await expect(storage.listParts(objectKey, uploadId)).resolves.toEqual([]);
      await storage.removeAbandoned(new Date(Date.now() + 60_000));
      await expect(storage.listParts(objectKey, uploadId)).rejects.toMatchObject({ code: "NOT_FOUND" });
    });

    it("answers a Put Block without an ETag, and lists the part by its block id", async () => {
      const objectKey = key();
      const uploadId = await storage.createMultipartUpload(objectKey, { contentType: "application/zip" });
      const part = await storage.signUploadPart(objectKey, uploadId, 1, soon());
      const response = await fetch(part.url, { method: "PUT", body: randomContent(1000) });
      expect(response.status).toBe(201);
      expect(response.headers.get("etag")).toBeNull();
      expect(await storage.listParts(objectKey, uploadId)).toEqual([{ partNumber: 1, etag: part.etag, size: 1000 }]);
    });

    it("keeps two uploads of one blob apart, and aborting one leaves the other", async () => {
      const objectKey = key();
      const first = await storage.createMultipartUpload(objectKey, { contentType: "application/zip" });
      const second = await storage.createMultipartUpload(objectKey, { contentType: "application/zip" });
      const part = await storage.signUploadPart(objectKey, second, 1, soon());
      expect((await fetch(part.url, { method: "PUT", body: "only part" })).ok).toBe(true);
      await storage.abortMultipartUpload(objectKey, first);
      await expect(storage.listParts(objectKey, first)).rejects.toMatchObject({ code: "NOT_FOUND" });
      await storage.completeMultipartUpload(objectKey, second, [{ partNumber: 1, etag: part.etag! }]);
      expect((await readAll(await storage.getObject(objectKey))).toString()).toBe("only part");
    });

    it("treats a completed upload as gone, as S3 does", async () => {
      const objectKey = key();
      const uploadId = await storage.createMultipartUpload(objectKey, { contentType: "application/zip" });
      const part = await storage.signUploadPart(objectKey, uploadId, 1, soon());
      await fetch(part.url, { method: "PUT", body: "joined" });
      await storage.completeMultipartUpload(objectKey, uploadId, [{ partNumber: 1, etag: `"${part.etag}"` }]);
      await expect(storage.listParts(objectKey, uploadId)).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(
        storage.completeMultipartUpload(objectKey, uploadId, [{ partNumber: 1, etag: part.etag! }]),
      ).rejects.toMatchObject({ code: "NOT_FOUND" });
    });

    it("answers an upload id it never issued with NOT_FOUND", async () => {
      await expect(storage.listParts(key(), "not-an-upload")).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(storage.listParts(key(), "A".repeat(22))).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(storage.abortMultipartUpload(key(), "A".repeat(22))).resolves.toBeUndefined();
    });
  });
});
