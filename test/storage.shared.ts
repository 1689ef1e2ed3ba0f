import { createHash, randomUUID } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StorageDriver, StorageError } from "../src/storage/driver.js";
import { randomContent } from "./helpers/samples.js";

/** A driver under test and how to tear down what it created. */
export interface StorageDriverFixture {
  driver: StorageDriver;
  cleanup(): Promise<void>;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A body that sends `bytes` and then fails the way a dropped client does. */
export function failingBody(bytes: Buffer, error: Error): Readable {
  return new Readable({
    read() {
      if (bytes.length > 0) {
        this.push(bytes);
        bytes = Buffer.alloc(0);
      } else {
        setImmediate(() => this.destroy(error));
      }
    },
  });
}

const MiB = 1024 * 1024;
const inFifteenMinutes = (): Date => new Date(Date.now() + 15 * 60 * 1000);

/**
 * The behaviour every storage driver owes the service. Signed URLs are exercised with real
 * `fetch`, so the fixture must make the driver's URLs reachable (a local server, s3rver, …).
 */
export function describeStorageDriver(name: string, makeDriver: () => Promise<StorageDriverFixture>): void {
  describe(`storage driver: ${name}`, () => {
    let fixture: StorageDriverFixture;
    const driver = (): StorageDriver => fixture.driver;
    const newKey = (): string => `ws/shared/${randomUUID()}`;
    /** A signed PUT target of `key` (text/plain, at most 100 bytes unless told), as a function that sends it a body. */
    const signedPut = async (key: string, options: Partial<Parameters<StorageDriver["signUpload"]>[0]> = {}) => {
      const target = await driver().signUpload({
        key,
        method: "PUT",
        contentType: "text/plain",
        maxSize: 100,
        expiresAt: inFifteenMinutes(),
        ...options,
      });
      const headers = Object.fromEntries(target.headers.map((h) => [h.name, h.value]));
      return (body: string | Uint8Array<ArrayBuffer>) => fetch(target.url, { method: "PUT", headers, body });
    };

    beforeAll(async () => {
      fixture = await makeDriver();
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    it("stores an object and reports its size", async () => {
      const key = newKey();
      const bytes = randomContent(3000);
      await expect(
        driver().putObject(key, Readable.from([bytes]), { contentType: "application/octet-stream" }),
      ).resolves.toEqual({ size: 3000 });
      expect((await driver().headObject(key))?.size).toBe(3000);
      expect(sha256(await readAll(await driver().getObject(key)))).toBe(sha256(bytes));
    });

    it("reads an inclusive byte range", async () => {
      const key = newKey();
      const bytes = randomContent(1000);
      await driver().putObject(key, Readable.from([bytes]), { contentType: "application/octet-stream" });
      const slice = await readAll(await driver().getObject(key, { start: 10, end: 19 }));
      expect(slice).toEqual(bytes.subarray(10, 20));
    });

    it("reports a missing object as null", async () => {
      await expect(driver().headObject(newKey())).resolves.toBeNull();
    });

    it("deletes an object, and deleting a missing one is not an error", async () => {
      const key = newKey();
      await driver().putObject(key, Readable.from([Buffer.from("bye")]), { contentType: "text/plain" });
      await driver().deleteObject(key);
      await expect(driver().headObject(key)).resolves.toBeNull();
      await expect(driver().deleteObject(key)).resolves.toBeUndefined();
    });

    it("keeps nothing when the body errors half-way", async () => {
      const key = newKey();
      const broken = new Error("client went away");
      await expect(
        driver().putObject(key, failingBody(randomContent(64 * 1024), broken), { contentType: "text/plain" }),
      ).rejects.toBe(broken);
      await expect(driver().headObject(key)).resolves.toBeNull();
    });

    it("rejects with the body's error when the body fails before the driver reads it", async () => {
      const key = newKey();
      const body = new PassThrough();
      const broken = new Error("failed at once");
      const stored = driver().putObject(key, body, { contentType: "text/plain" });
      body.destroy(broken);
      await expect(stored).rejects.toBe(broken);
      await expect(driver().headObject(key)).resolves.toBeNull();
    });

    it("keeps the previous object when a replacement body errors", async () => {
      const key = newKey();
      await driver().putObject(key, Readable.from([Buffer.from("old content")]), { contentType: "text/plain" });
      await expect(
        driver().putObject(key, failingBody(Buffer.from("new"), new Error("cut")), { contentType: "text/plain" }),
      ).rejects.toThrow("cut");
      expect((await readAll(await driver().getObject(key))).toString()).toBe("old content");
    });

    it("accepts a PUT to the signed upload URL and serves it from the signed download URL", async () => {
      const key = newKey();
      const bytes = randomContent(20_000);
      const put = await signedPut(key, { contentType: "image/png", maxSize: 50_000, exactSize: bytes.length });
      const response = await put(bytes);
      expect(response.ok).toBe(true);
      const staged = await driver().stagedUpload(key);
      expect(staged?.info.size).toBe(bytes.length);
      await staged!.commit();
      expect((await driver().headObject(key))?.size).toBe(bytes.length);

      const url = await driver().signDownload({
        key,
        contentType: "image/png",
        contentDisposition: 'attachment; filename="a.png"',
        expiresAt: inFifteenMinutes(),
      });
      const got = await fetch(url);
      expect(got.status).toBe(200);
      expect(got.headers.get("content-type")).toBe("image/png");
      expect(got.headers.get("content-disposition")).toBe('attachment; filename="a.png"');
      expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(sha256(bytes));
    });

    it("refuses a second PUT to a used upload target and keeps the first bytes", async () => {
      const key = newKey();
      const put = await signedPut(key);
      expect((await put("first")).status).toBeLessThan(300);
      const again = await put("second");
      expect(again.status).toBeGreaterThanOrEqual(400);
      const staged = await driver().stagedUpload(key);
      expect((await readAll(await staged!.read())).toString()).toBe("first");
    });

    it("never lets an upload URL change what a download URL serves once its bytes are committed", async () => {
      const key = newKey();
      const put = await signedPut(key);
      expect((await put("first")).status).toBeLessThan(300);
      await (await driver().stagedUpload(key))!.commit();
      const url = await driver().signDownload({
        key,
        contentType: "text/plain",
        contentDisposition: "inline",
        expiresAt: inFifteenMinutes(),
      });
      // Where the store takes it (S3, Azure: the URL cannot be revoked), the PUT stages bytes nothing serves.
      await put("later");
      expect(await (await fetch(url)).text()).toBe("first");
      // Local signed routes ask the domain whether the upload is still open (this suite says yes).
      if (driver().name === "local") return;
      await driver().deleteObject(key);
      expect(await driver().stagedUpload(key)).toBeNull();
      await put("after");
      expect((await fetch(url)).status).toBeGreaterThanOrEqual(400);
    });

    it("commits only the staged bytes it pinned: CHANGED once they were replaced, EXISTS once committed", async () => {
      if (driver().name === "local") return; // The local routes never replace an object: nothing is staged.
      const key = newKey();
      const put = await signedPut(key);
      expect((await put("pinned")).status).toBeLessThan(300);
      const pinned = (await driver().stagedUpload(key))!;
      await driver().deleteObject(key);
      expect((await put("swapped")).status).toBeLessThan(300);
      const changed = (e: unknown) => e instanceof StorageError && e.code === "CHANGED";
      await expect(pinned.read()).rejects.toSatisfy(changed);
      await expect(pinned.commit()).rejects.toSatisfy(changed);
      expect(await driver().headObject(key)).toBeNull();

      const current = (await driver().stagedUpload(key))!;
      expect((await readAll(await current.read())).toString()).toBe("swapped");
      await current.commit();
      expect((await readAll(await driver().getObject(key))).toString()).toBe("swapped");
      expect((await put("third")).status).toBeLessThan(300);
      await expect((await driver().stagedUpload(key))!.commit()).rejects.toSatisfy(
        (e) => e instanceof StorageError && e.code === "EXISTS",
      );
      expect((await readAll(await driver().getObject(key))).toString()).toBe("swapped");
    });

    it("rejects a read of a missing object with StorageError NOT_FOUND", async () => {
      await expect(driver().getObject(newKey())).rejects.toSatisfy(
        (e) => e instanceof StorageError && e.code === "NOT_FOUND",
      );
    });

    it("declares PUT and MULTIPART among its upload methods", () => {
      expect(driver().capabilities.uploadMethods).toEqual(expect.arrayContaining(["PUT", "MULTIPART"]));
    });

    it("accepts a form POST to the signed upload target, file last, where it declares POST", async () => {
      const key = newKey();
      if (!driver().capabilities.uploadMethods.includes("POST")) {
        await expect(
          driver().signUpload({
            key,
            method: "POST",
            contentType: "text/csv",
            maxSize: 10,
            expiresAt: inFifteenMinutes(),
          }),
        ).rejects.toThrow();
        return;
      }
      const bytes = randomContent(5000);
      const target = await driver().signUpload({
        key,
        method: "POST",
        contentType: "text/csv",
        maxSize: 10_000,
        expiresAt: inFifteenMinutes(),
      });
      const form = new FormData();
      for (const field of target.fields) form.append(field.name, field.value);
      form.append("file", new Blob([bytes], { type: "text/csv" }), "data.csv");
      const posted = await fetch(target.url, { method: "POST", body: form });
      expect(posted.ok).toBe(true);
      const staged = await driver().stagedUpload(key);
      expect(sha256(await readAll(await staged!.read()))).toBe(sha256(bytes));
    });

    describe("multipart", () => {
      // S3 wants every part but the last to be at least 5 MiB.
      const partSizes = [5 * MiB, 5 * MiB, 1234];

      async function uploadParts(
        key: string,
        uploadId: string,
        parts: Buffer<ArrayBuffer>[],
      ): Promise<{ partNumber: number; etag: string }[]> {
        const sent: { partNumber: number; etag: string }[] = [];
        // Sent out of order: the store must order them by part number, not arrival.
        for (const index of [1, 2, 0]) {
          const partNumber = index + 1;
          const signed = await driver().signUploadPart(key, uploadId, partNumber, inFifteenMinutes());
          const response = await fetch(signed.url, { method: "PUT", body: Uint8Array.from(parts[index] ?? []) });
          expect(response.ok).toBe(true);
          // The part's ETag is the response's, or where the store answers none (Azure) the signed one.
          const etag = signed.etag ?? response.headers.get("etag");
          expect(etag).toBeTruthy();
          sent.push({ partNumber, etag: etag ?? "" });
        }
        return sent.sort((a, b) => a.partNumber - b.partNumber);
      }

      it("lists received parts in order and joins them into the object", async () => {
        const key = newKey();
        const parts = partSizes.map((size) => randomContent(size));
        const uploadId = await driver().createMultipartUpload(key, { contentType: "application/zip" });
        const sent = await uploadParts(key, uploadId, parts);

        const listed = await driver().listParts(key, uploadId);
        expect(listed.map((p) => p.partNumber)).toEqual([1, 2, 3]);
        expect(listed.map((p) => p.size)).toEqual(partSizes);
        expect(listed.map((p) => p.etag)).toEqual(sent.map((p) => p.etag));
        // S3's part ETag is the quoted MD5 of its bytes (the local driver does the same); Azure's the block id.
        const signedEtag = (await driver().signUploadPart(key, uploadId, 1, inFifteenMinutes())).etag;
        expect(listed[0]?.etag).toBe(signedEtag ?? `"${createHash("md5").update(parts[0]!).digest("hex")}"`);

        await driver().completeMultipartUpload(key, uploadId, sent);
        const stored = await readAll(await driver().getObject(key));
        expect(stored.length).toBe(partSizes.reduce((a, b) => a + b, 0));
        expect(sha256(stored)).toBe(sha256(Buffer.concat(parts)));
      });

      it("refuses to complete with a part whose ETag does not match", async () => {
        const key = newKey();
        const uploadId = await driver().createMultipartUpload(key, { contentType: "application/zip" });
        const sent = await uploadParts(
          key,
          uploadId,
          partSizes.map((size) => randomContent(size)),
        );
        const wrong = sent.map((p, i) => (i === 1 ? { ...p, etag: `"${"0".repeat(32)}"` } : p));
        await expect(driver().completeMultipartUpload(key, uploadId, wrong)).rejects.toMatchObject({
          name: "StorageError",
          code: "INVALID_PART",
        });
        await expect(driver().headObject(key)).resolves.toBeNull();
      });

      it("refuses to complete with parts out of order", async () => {
        const key = newKey();
        const uploadId = await driver().createMultipartUpload(key, { contentType: "application/zip" });
        const sent = await uploadParts(
          key,
          uploadId,
          partSizes.map((size) => randomContent(size)),
        );
        await expect(driver().completeMultipartUpload(key, uploadId, [...sent].reverse())).rejects.toMatchObject({
          code: "INVALID_PART",
        });
        await expect(driver().headObject(key)).resolves.toBeNull();
      });

      it("drops every part on abort", async () => {
        const key = newKey();
        const uploadId = await driver().createMultipartUpload(key, { contentType: "application/zip" });
        const sent = await uploadParts(
          key,
          uploadId,
          partSizes.map((size) => randomContent(size)),
        );
        await driver().abortMultipartUpload(key, uploadId);
        await expect(driver().listParts(key, uploadId)).rejects.toSatisfy(
          (e) => e instanceof StorageError && e.code === "NOT_FOUND",
        );
        await expect(driver().completeMultipartUpload(key, uploadId, sent)).rejects.toMatchObject({
          code: "NOT_FOUND",
        });
        await expect(driver().headObject(key)).resolves.toBeNull();
        await expect(driver().abortMultipartUpload(key, uploadId)).resolves.toBeUndefined();
      });
    });
  });
}
