import { createHash, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localStorageRoutes } from "../src/http/local-storage.js";
import { LocalStorage } from "../src/storage/local.js";
import { randomContent } from "./helpers/samples.js";
import { describeStorageDriver, readAll, sha256 } from "./storage.shared.js";

interface LocalFixture {
  storage: LocalStorage;
  dir: string;
  baseUrl: string;
  cleanup(): Promise<void>;
}

/** A LocalStorage in a fresh temp dir, its routes served by a real server on port 0. */
async function startLocalStorage(): Promise<LocalFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "local-storage-"));
  let routes: ReturnType<typeof localStorageRoutes> | undefined;
  const server: Server = createServer((req, res) => {
    void routes!(req, res).then((handled) => {
      // Stands in for the GraphQL layer the app hands other paths to.
      if (!handled) res.writeHead(404, { "X-Fell-Through": "yes" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const storage = new LocalStorage({ dir, publicUrl: baseUrl, signingSecret: "test-secret" });
  routes = localStorageRoutes(storage, {
    // No file domain here: every upload is open (the app's answer is tested end to end in signed-urls.test.ts).
    openUpload: async () => ({ meter: undefined }),
    objectWanted: async () => true,
    onError: (error) => {
      throw error;
    },
  });
  return {
    storage,
    dir,
    baseUrl,
    async cleanup() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeStorageDriver("local", async () => {
  const { storage, cleanup } = await startLocalStorage();
  return { driver: storage, cleanup };
});

describe("local storage signed endpoints", () => {
  let local: LocalFixture;
  beforeAll(async () => {
    local = await startLocalStorage();
  });
  afterAll(async () => {
    await local.cleanup();
  });

  const soon = (): Date => new Date(Date.now() + 10 * 60 * 1000);
  const newKey = (): string => `ws/local/${randomUUID()}`;
  /** A download URL of `key` from the local store: text/plain, as an attachment, valid ten minutes unless told. */
  const downloadUrl = (key: string, options: Partial<Parameters<LocalStorage["signDownload"]>[0]> = {}) =>
    local.storage.signDownload({
      key,
      contentType: "text/plain",
      contentDisposition: "attachment",
      expiresAt: soon(),
      ...options,
    });

  async function signPut(
    key: string,
    options: { maxSize?: number; exactSize?: number; contentType?: string; expiresAt?: Date } = {},
  ) {
    return local.storage.signUpload({
      key,
      method: "PUT",
      contentType: options.contentType ?? "text/plain",
      maxSize: options.maxSize ?? 1024,
      exactSize: options.exactSize,
      expiresAt: options.expiresAt ?? soon(),
    });
  }

  /** Every file under the storage dir, relative to it, temp files and parts included. */
  async function storedFiles(): Promise<string[]> {
    const entries = await readdir(local.dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => path.relative(local.dir, path.join(e.parentPath, e.name)));
  }

  async function expectNothingKept(key: string): Promise<void> {
    await expect(local.storage.headObject(key)).resolves.toBeNull();
    expect((await storedFiles()).filter((f) => f.startsWith(".tmp") || f.includes(key.split("/").pop()!))).toEqual([]);
  }

  async function errorCode(response: Response): Promise<string> {
    const body = (await response.json()) as { error: { code: string } };
    return body.error.code;
  }

  /** Streams `total` bytes with no Content-Length (chunked), as a client that did not declare a size. */
  function streamedBody(total: number): ReadableStream<Uint8Array> {
    let sent = 0;
    return new ReadableStream({
      pull(controller) {
        if (sent >= total) return controller.close();
        const chunk = randomContent(Math.min(256, total - sent));
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
  }

  it("stores a PUT body and serves the same bytes through signDownload, ETag being its MD5", async () => {
    const key = `ws/local/${randomUUID()} ü+%`;
    const bytes = randomContent(900);
    const target = await signPut(key);
    const put = await fetch(target.url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: bytes });
    expect(put.status).toBe(200);
    expect(put.headers.get("etag")).toBe(`"${createHash("md5").update(bytes).digest("hex")}"`);
    const download = await fetch(await downloadUrl(key));
    expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(sha256(bytes));
  });

  it("accepts a Content-Type that differs from the signed one only in case and parameters", async () => {
    const key = newKey();
    const target = await signPut(key);
    const put = await fetch(target.url, {
      method: "PUT",
      headers: { "Content-Type": "Text/Plain; charset=utf-8" },
      body: "hello",
    });
    expect(put.status).toBe(200);
  });

  it("accepts a POST form and answers 204 with the ETag, as S3 does", async () => {
    const key = newKey();
    const bytes = randomContent(700);
    const target = await local.storage.signUpload({
      key,
      method: "POST",
      contentType: "text/csv",
      maxSize: 1024,
      exactSize: 700,
      expiresAt: soon(),
    });
    expect(target.url).toBe(`${local.baseUrl}/uploads/${key}`);
    expect(target.fields.map((f) => f.name)).toEqual(["policy", "signature", "Content-Type"]);
    const form = new FormData();
    for (const field of target.fields) form.append(field.name, field.value);
    form.append("file", new Blob([bytes]), "a.csv");
    const posted = await fetch(target.url, { method: "POST", body: form });
    expect(posted.status).toBe(204);
    expect(posted.headers.get("etag")).toBe(`"${createHash("md5").update(bytes).digest("hex")}"`);
    expect(sha256(await readAll(await local.storage.getObject(key)))).toBe(sha256(bytes));
  });

  describe("refusals", () => {
    it("refuses an expired upload URL with URL_EXPIRED", async () => {
      const key = newKey();
      const target = await signPut(key, { expiresAt: new Date(Date.now() - 2000) });
      const put = await fetch(target.url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: "x" });
      expect(put.status).toBe(403);
      expect(await errorCode(put)).toBe("URL_EXPIRED");
      await expectNothingKept(key);
    });

    it("refuses an expired download URL", async () => {
      const key = newKey();
      await local.storage.putObject(key, Readable.from([Buffer.from("x")]), { contentType: "text/plain" });
      const url = await downloadUrl(key, { expiresAt: new Date(Date.now() - 2000) });
      const got = await fetch(url);
      expect(got.status).toBe(403);
      expect(await errorCode(got)).toBe("URL_EXPIRED");
    });

    const tamperings: [string, (url: URL) => void][] = [
      ["the key", (url) => (url.pathname = url.pathname.replace(/[^/]+$/, randomUUID()))],
      ["the max size", (url) => url.searchParams.set("max", "999999")],
      ["the content type", (url) => url.searchParams.set("ct", "text/html")],
      ["the expiry", (url) => url.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600))],
      [
        "the signature",
        (url) =>
          url.searchParams.set(
            "sig",
            url.searchParams.get("sig")!.replace(/^./, (c) => (c === "A" ? "B" : "A")),
          ),
      ],
      ["the signature's presence", (url) => url.searchParams.delete("sig")],
    ];
    for (const [what, tamper] of tamperings) {
      it(`refuses a PUT URL with ${what} altered`, async () => {
        const key = newKey();
        const url = new URL((await signPut(key)).url);
        tamper(url);
        const contentType = url.searchParams.get("ct") ?? "text/plain";
        const put = await fetch(url, { method: "PUT", headers: { "Content-Type": contentType }, body: "x" });
        expect(put.status).toBe(403);
        expect(await errorCode(put)).toBe("SIGNATURE_INVALID");
        await expectNothingKept(key);
      });
    }

    it("refuses a download URL whose Content-Disposition was altered", async () => {
      const key = newKey();
      await local.storage.putObject(key, Readable.from([Buffer.from("<script>")]), { contentType: "text/plain" });
      const url = new URL(await downloadUrl(key));
      url.searchParams.set("cd", "inline");
      const got = await fetch(url);
      expect(got.status).toBe(403);
      expect(await errorCode(got)).toBe("SIGNATURE_INVALID");
    });

    it("refuses a PUT URL used with another method", async () => {
      const key = newKey();
      const target = await signPut(key);
      const get = await fetch(target.url);
      expect(get.status).toBe(403);
      const post = await fetch(target.url, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "x" });
      expect(post.status).toBe(403);
      await expectNothingKept(key);
    });

    it("refuses a download signature used to upload", async () => {
      const key = newKey();
      const url = new URL(await downloadUrl(key));
      url.pathname = url.pathname.replace("/downloads/", "/uploads/");
      url.searchParams.set("max", "100");
      const put = await fetch(url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: "x" });
      expect(put.status).toBe(403);
      expect(await errorCode(put)).toBe("SIGNATURE_INVALID");
      await expectNothingKept(key);
    });

    it("refuses a PUT whose Content-Type is not the signed one", async () => {
      const key = newKey();
      const target = await signPut(key);
      const put = await fetch(target.url, { method: "PUT", headers: { "Content-Type": "text/html" }, body: "<b>" });
      expect(put.status).toBe(403);
      expect(await errorCode(put)).toBe("CONTENT_TYPE_MISMATCH");
      await expectNothingKept(key);
    });

    it("refuses a streamed body that grows past the max with 413, keeping nothing", async () => {
      const key = newKey();
      const target = await signPut(key, { maxSize: 1024 });
      const put = await fetch(target.url, {
        method: "PUT",
        headers: { "Content-Type": "text/plain" },
        body: streamedBody(256 * 1024),
        duplex: "half",
      } as RequestInit);
      expect(put.status).toBe(413);
      expect(put.headers.get("connection")).toBe("close");
      expect(await errorCode(put)).toBe("PAYLOAD_TOO_LARGE");
      await expectNothingKept(key);
    });

    it("answers 413 to a declared Content-Length over the max without waiting for the body", async () => {
      const key = newKey();
      const target = new URL((await signPut(key, { maxSize: 1024 })).url);
      // Headers only: if the server waited for the body, this would never get an answer.
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          target,
          { method: "PUT", headers: { "Content-Type": "text/plain", "Content-Length": "5000000" } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
            req.destroy();
          },
        );
        req.on("error", reject);
        req.flushHeaders();
      });
      expect(status).toBe(413);
      await expectNothingKept(key);
    });

    it("keeps nothing when the client disconnects mid-upload", async () => {
      const key = newKey();
      const target = new URL((await signPut(key, { maxSize: 1024 * 1024 })).url);
      const req = request(target, {
        method: "PUT",
        headers: { "Content-Type": "text/plain", "Content-Length": "100000" },
      });
      req.on("error", () => undefined);
      req.write(randomContent(30_000));
      const tempFiles = (): Promise<string[]> =>
        storedFiles().then((files) => files.filter((f) => f.startsWith(".tmp")));
      await expect.poll(tempFiles).toHaveLength(1);
      req.destroy();
      // The server notices the closed socket asynchronously.
      await expect.poll(tempFiles).toEqual([]);
      await expectNothingKept(key);
    });

    it("keeps nothing when the client disconnects in the middle of a POST form's file", async () => {
      const key = newKey();
      const target = await local.storage.signUpload({
        key,
        method: "POST",
        contentType: "text/plain",
        maxSize: 1024 * 1024,
        expiresAt: soon(),
      });
      const form = new FormData();
      for (const field of target.fields) form.append(field.name, field.value);
      form.append("file", new Blob([randomContent(100_000)]), "a.txt");
      const encoded = new Response(form);
      const bytes = Buffer.from(await encoded.arrayBuffer());
      const headers = { "Content-Type": encoded.headers.get("content-type")!, "Content-Length": String(bytes.length) };
      const req = request(new URL(target.url), { method: "POST", headers });
      req.on("error", () => undefined);
      req.write(bytes.subarray(0, 60_000));
      const tempFiles = (): Promise<string[]> =>
        storedFiles().then((files) => files.filter((f) => f.startsWith(".tmp")));
      await expect.poll(tempFiles).toHaveLength(1);
      req.destroy();
      await expect.poll(tempFiles).toEqual([]);
      await expectNothingKept(key);
    });

    it("refuses a body shorter than the signed exact size, declared or streamed", async () => {
      const key = newKey();
      const target = await signPut(key, { exactSize: 500 });
      const declared = await fetch(target.url, {
        method: "PUT",
        headers: { "Content-Type": "text/plain" },
        body: randomContent(499),
      });
      expect(declared.status).toBe(400);
      expect(await errorCode(declared)).toBe("SIZE_MISMATCH");
      const streamed = await fetch(target.url, {
        method: "PUT",
        headers: { "Content-Type": "text/plain" },
        body: streamedBody(499),
        duplex: "half",
      } as RequestInit);
      expect(streamed.status).toBe(400);
      expect(await errorCode(streamed)).toBe("SIZE_MISMATCH");
      await expectNothingKept(key);
    });

    it("refuses a streamed body longer than the signed exact size with 413", async () => {
      const key = newKey();
      const target = await signPut(key, { exactSize: 500 });
      const streamed = await fetch(target.url, {
        method: "PUT",
        headers: { "Content-Type": "text/plain" },
        body: streamedBody(501),
        duplex: "half",
      } as RequestInit);
      expect(streamed.status).toBe(413);
      await expectNothingKept(key);
    });

    it("refuses a POST form whose file passes the max, keeping nothing", async () => {
      const key = newKey();
      const target = await local.storage.signUpload({
        key,
        method: "POST",
        contentType: "text/plain",
        maxSize: 1024,
        expiresAt: soon(),
      });
      const form = new FormData();
      for (const field of target.fields) form.append(field.name, field.value);
      form.append("file", new Blob([randomContent(64 * 1024)]), "big.txt");
      const posted = await fetch(target.url, { method: "POST", body: form });
      expect(posted.status).toBe(413);
      await expectNothingKept(key);
    });

    it("refuses a POST form that sends the file before the policy with 400", async () => {
      const key = newKey();
      const target = await local.storage.signUpload({
        key,
        method: "POST",
        contentType: "text/plain",
        maxSize: 1024,
        expiresAt: soon(),
      });
      const form = new FormData();
      form.append("file", new Blob(["early"]), "a.txt");
      for (const field of target.fields) form.append(field.name, field.value);
      const posted = await fetch(target.url, { method: "POST", body: form });
      expect(posted.status).toBe(400);
      await expectNothingKept(key);
    });

    it("refuses a POST form whose Content-Type field is not the signed one", async () => {
      const key = newKey();
      const target = await local.storage.signUpload({
        key,
        method: "POST",
        contentType: "text/plain",
        maxSize: 1024,
        expiresAt: soon(),
      });
      const form = new FormData();
      for (const field of target.fields)
        form.append(field.name, field.name === "Content-Type" ? "text/html" : field.value);
      form.append("file", new Blob(["<script>"]), "a.html");
      const posted = await fetch(target.url, { method: "POST", body: form });
      expect(posted.status).toBe(403);
      expect(await errorCode(posted)).toBe("CONTENT_TYPE_MISMATCH");
      await expectNothingKept(key);
    });

    it("refuses a POST policy used for another key", async () => {
      const key = newKey();
      const target = await local.storage.signUpload({
        key,
        method: "POST",
        contentType: "text/plain",
        maxSize: 1024,
        expiresAt: soon(),
      });
      const form = new FormData();
      for (const field of target.fields) form.append(field.name, field.value);
      form.append("file", new Blob(["x"]), "a.txt");
      const other = newKey();
      const posted = await fetch(`${local.baseUrl}/uploads/${other}`, { method: "POST", body: form });
      expect(posted.status).toBe(403);
      expect(await errorCode(posted)).toBe("SIGNATURE_INVALID");
      await expectNothingKept(other);
    });

    it("refuses a part URL whose part number was altered", async () => {
      const key = newKey();
      const uploadId = await local.storage.createMultipartUpload(key, { contentType: "text/plain" });
      const url = new URL((await local.storage.signUploadPart(key, uploadId, 1, soon())).url);
      url.searchParams.set("partNumber", "2");
      const put = await fetch(url, { method: "PUT", body: "part" });
      expect(put.status).toBe(403);
      await expect(local.storage.listParts(key, uploadId)).resolves.toEqual([]);
    });

    it("answers 404 to a part sent after the upload was aborted", async () => {
      const key = newKey();
      const uploadId = await local.storage.createMultipartUpload(key, { contentType: "text/plain" });
      const { url } = await local.storage.signUploadPart(key, uploadId, 1, soon());
      await local.storage.abortMultipartUpload(key, uploadId);
      const put = await fetch(url, { method: "PUT", body: "part" });
      expect(put.status).toBe(404);
      expect(await storedFiles()).not.toContainEqual(expect.stringContaining(uploadId));
    });
  });

  it("orders parts by number, not by name or arrival (part 10 after part 9)", async () => {
    const key = newKey();
    const uploadId = await local.storage.createMultipartUpload(key, { contentType: "text/plain" });
    const parts = Array.from({ length: 11 }, (_, i) => Buffer.from(`part ${i + 1};`));
    for (let n = 11; n >= 1; n--) {
      const put = await fetch((await local.storage.signUploadPart(key, uploadId, n, soon())).url, {
        method: "PUT",
        body: parts[n - 1],
      });
      expect(put.status).toBe(200);
    }
    const listed = await local.storage.listParts(key, uploadId);
    expect(listed.map((p) => p.partNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    await local.storage.completeMultipartUpload(key, uploadId, listed);
    expect((await readAll(await local.storage.getObject(key))).toString()).toBe(Buffer.concat(parts).toString());
    expect(await storedFiles()).not.toContainEqual(expect.stringContaining(uploadId));
  });

  describe("part URLs signed with a size", () => {
    it("refuse a larger or smaller part, and a URL whose size was altered", async () => {
      const key = newKey();
      const uploadId = await local.storage.createMultipartUpload(key, { contentType: "text/plain" });
      const { url } = await local.storage.signUploadPart(key, uploadId, 1, soon(), 100);
      const larger = await fetch(url, { method: "PUT", body: randomContent(101) });
      expect(larger.status).toBe(413);
      const smaller = await fetch(url, { method: "PUT", body: randomContent(99) });
      expect(smaller.status).toBe(400);
      expect(await errorCode(smaller)).toBe("SIZE_MISMATCH");
      const altered = new URL(url);
      altered.searchParams.set("size", "99");
      const tampered = await fetch(altered, { method: "PUT", body: randomContent(99) });
      expect(tampered.status).toBe(403);
      expect(await errorCode(tampered)).toBe("SIGNATURE_INVALID");
      await expect(local.storage.listParts(key, uploadId)).resolves.toEqual([]);
      expect((await fetch(url, { method: "PUT", body: randomContent(100) })).status).toBe(200);
    });
  });

  describe("never replacing a stored object", () => {
    it("refuses a second PUT to the same URL with 412 OBJECT_EXISTS, keeping the first bytes", async () => {
      const key = newKey();
      const target = await signPut(key);
      const first = await fetch(target.url, {
        method: "PUT",
        headers: { "Content-Type": "text/plain" },
        body: "first",
      });
      expect(first.status).toBe(200);
      const second = await fetch(target.url, {
        method: "PUT",
        headers: { "Content-Type": "text/plain" },
        body: "second",
      });
      expect(second.status).toBe(412);
      expect(await errorCode(second)).toBe("OBJECT_EXISTS");
      expect((await readAll(await local.storage.getObject(key))).toString()).toBe("first");
      expect((await storedFiles()).filter((f) => f.startsWith(".tmp"))).toEqual([]);
    });

    it("refuses a POST form to a key that holds an object", async () => {
      const key = newKey();
      await local.storage.putObject(key, Readable.from([Buffer.from("kept")]), { contentType: "text/plain" });
      const target = await local.storage.signUpload({
        key,
        method: "POST",
        contentType: "text/plain",
        maxSize: 1024,
        expiresAt: soon(),
      });
      const form = new FormData();
      for (const field of target.fields) form.append(field.name, field.value);
      form.append("file", new Blob(["other"]), "a.txt");
      const posted = await fetch(target.url, { method: "POST", body: form });
      expect(posted.status).toBe(412);
      expect((await readAll(await local.storage.getObject(key))).toString()).toBe("kept");
    });

    it("accepts the same URL again once the object was deleted (a retry after failed verification)", async () => {
      const key = newKey();
      const target = await signPut(key);
      await fetch(target.url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: "bad" });
      await local.storage.deleteObject(key);
      const retry = await fetch(target.url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: "good" });
      expect(retry.status).toBe(200);
      expect((await readAll(await local.storage.getObject(key))).toString()).toBe("good");
    });

    it("lets only one of two racing PUTs store its bytes", async () => {
      const key = newKey();
      const target = await signPut(key, { maxSize: 256 * 1024 });
      const bodies = [randomContent(200_000), randomContent(200_000)];
      const results = await Promise.all(
        bodies.map((body) => fetch(target.url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
      const winner = bodies[results.findIndex((r) => r.status === 200)]!;
      expect(sha256(await readAll(await local.storage.getObject(key)))).toBe(sha256(winner));
    });
  });

  describe("downloads", () => {
    it("serves the signed headers, nosniff and a sandboxing CSP", async () => {
      const key = newKey();
      await local.storage.putObject(key, Readable.from([Buffer.from("<html>hi</html>")]), { contentType: "text/html" });
      const disposition = "attachment; filename*=UTF-8''page.html";
      const got = await fetch(await downloadUrl(key, { contentType: "text/html", contentDisposition: disposition }));
      expect(got.status).toBe(200);
      expect(got.headers.get("content-type")).toBe("text/html");
      expect(got.headers.get("content-disposition")).toBe(disposition);
      expect(got.headers.get("x-content-type-options")).toBe("nosniff");
      expect(got.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
      expect(got.headers.get("content-length")).toBe("15");
      const maxAge = Number(/^private, max-age=(\d+)$/.exec(got.headers.get("cache-control") ?? "")?.[1]);
      expect(maxAge).toBeGreaterThan(500);
      expect(maxAge).toBeLessThanOrEqual(600);
      expect(await got.text()).toBe("<html>hi</html>");
    });

    it("answers HEAD with the headers and no body", async () => {
      const key = newKey();
      await local.storage.putObject(key, Readable.from([Buffer.from("12345")]), { contentType: "text/plain" });
      const url = await downloadUrl(key, { contentDisposition: "inline" });
      const head = await fetch(url, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-length")).toBe("5");
      expect(await head.text()).toBe("");
    });

    it("answers 404 for a signed URL to a missing object", async () => {
      const url = await downloadUrl(newKey(), { contentDisposition: "inline" });
      const got = await fetch(url);
      expect(got.status).toBe(404);
      expect(await errorCode(got)).toBe("NOT_FOUND");
    });
  });

  it("removes temporary files of abandoned writes, and only those untouched since the cutoff", async () => {
    const tmp = path.join(local.dir, ".tmp");
    await mkdir(tmp, { recursive: true });
    const stale = path.join(tmp, `${randomUUID()}.tmp`);
    const fresh = path.join(tmp, `${randomUUID()}.tmp`);
    await writeFile(stale, "left by a process that died");
    await writeFile(fresh, "still being written");
    const dayAgo = new Date(Date.now() - 24 * 3600 * 1000);
    await utimes(stale, dayAgo, dayAgo);
    expect(await local.storage.removeAbandoned(new Date(Date.now() - 3600 * 1000))).toBe(1);
    expect(await readdir(tmp)).toEqual([path.basename(fresh)]);
    await rm(fresh);
  });

  it("writes a body of uneven chunks over several MiB byte for byte, and the size it wrote", async () => {
    const content = randomContent(3 * 1024 * 1024 + 12345);
    const chunks: Buffer[] = [];
    for (let offset = 0, step = 1; offset < content.length; offset += step, step = (step * 7919) % 70001) {
      chunks.push(content.subarray(offset, offset + step));
    }
    const key = `batches/${randomUUID()}`;
    expect(
      await local.storage.putObject(key, Readable.from(chunks), { contentType: "application/octet-stream" }),
    ).toEqual({ size: content.length });
    expect(sha256(await readAll(await local.storage.getObject(key)))).toBe(sha256(content));
    expect(await readdir(path.join(local.dir, ".tmp"))).toEqual([]);
  });

  it("makes the directories a write needs when they are missing, also once it has written before", async () => {
    const key = `missing-dirs/${randomUUID()}/a.txt`;
    await local.storage.putObject(`missing-dirs/${randomUUID()}`, Readable.from([Buffer.from("first")]), {
      contentType: "text/plain",
    });
    // Directories are made on ENOENT, not before every write: removed ones come back.
    await rm(path.join(local.dir, ".tmp"), { recursive: true, force: true });
    await rm(path.join(local.dir, "missing-dirs"), { recursive: true, force: true });
    await local.storage.putObject(key, Readable.from([Buffer.from("second")]), { contentType: "text/plain" });
    expect(await readAll(await local.storage.getObject(key))).toEqual(Buffer.from("second"));
    await local.storage.putNewObject(`${key}.new`, Readable.from([Buffer.from("third")]));
    expect(await readAll(await local.storage.getObject(`${key}.new`))).toEqual(Buffer.from("third"));
  });

  it("leaves other paths to the next handler", async () => {
    const got = await fetch(`${local.baseUrl}/graphql`, { method: "POST", body: "{}" });
    expect(got.headers.get("x-fell-through")).toBe("yes");
  });

  describe("object keys", () => {
    for (const key of [
      "../escape",
      "ws/../../escape",
      "/etc/passwd",
      "ws\\x",
      "ws/a\0b",
      "ws//x",
      ".tmp/x",
      "ws/.multipart",
      "",
    ]) {
      it(`rejects the key ${JSON.stringify(key)}`, async () => {
        await expect(
          local.storage.putObject(key, Readable.from([Buffer.from("x")]), { contentType: "text/plain" }),
        ).rejects.toThrow(RangeError);
        await expect(
          local.storage.signUpload({ key, method: "PUT", contentType: "text/plain", maxSize: 1, expiresAt: soon() }),
        ).rejects.toThrow(RangeError);
      });
    }
  });
});
