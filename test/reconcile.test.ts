import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { testProvider } from "./helpers/database.js";
import { createFile, putBytes, storageKeyOf, uploadFile } from "./helpers/files.js";
import { startServer, type TestServer, testDrivers } from "./helpers/server.js";

const drivers = testDrivers.filter((driver) => driver !== "azure");
/** Later than the grace the sweeper gives fresh objects (15 minutes). */
const later = () => new Date(Date.now() + 16 * 60 * 1000);

describe.each(drivers)(`reconciliation of the store with the files (%s, ${testProvider})`, (driver) => {
  let server: TestServer;
  let workspaceId: string;
  beforeAll(async () => {
    server = await startServer({}, driver);
    workspaceId = (await server.app.db.workspace.findFirstOrThrow({ where: { slug: "default" } })).id;
  });
  afterAll(() => server.close());

  const put = (key: string, text: string) =>
    server.app.storage.putObject(key, Readable.from([Buffer.from(text)]), { contentType: "text/plain" });
  const has = async (key: string) => (await server.app.storage.headObject(key)) !== null;
  /** Bytes an upload URL sent for `key` and completion has not committed (S3 stages them apart). */
  const staged = async (key: string) => (await server.app.storage.stagedUpload(key)) !== null;

  it("deletes old objects no row names, keeps young ones and every file's bytes", async () => {
    const orphan = `${workspaceId}/${randomUUID()}`;
    await put(orphan, "nobody's");
    const uploaded = await uploadFile(server, { name: "kept.txt" }, Buffer.from("kept"));
    const pending = await createFile(server, { name: "pending.txt", mimeType: "text/plain" });
    expect((await putBytes(pending.upload!, Buffer.from("waiting"))).ok).toBe(true);

    const young = await server.app.sweeper.reconcile(new Date());
    expect(young.orphansDeleted).toBe(0);
    expect(await has(orphan)).toBe(true);

    const old = await server.app.sweeper.reconcile(later());
    expect(old.orphansDeleted).toBeGreaterThanOrEqual(1);
    expect(await has(orphan)).toBe(false);
    expect(await has(await storageKeyOf(server, uploaded.id))).toBe(true);
    expect(await staged(await storageKeyOf(server, pending.file!.id))).toBe(true);
  });

  it("keeps the content an overwrite put in place, whose key names another row's id", async () => {
    const externalId = `moved-${randomUUID()}`;
    const content = (text: string) => Buffer.from(text).toString("base64");
    await createFile(server, { name: "v1.txt", externalId, content: content("one") });
    const second = await createFile(server, { name: "v2.txt", externalId, overwrite: true, content: content("two") });
    expect(second.__typename).toBe("CreateFilePayload");
    const key = await storageKeyOf(server, second.file!.id);
    await server.app.sweeper.reconcile(later());
    expect(await has(key)).toBe(true);
  });

  it("deletes bytes sent to an upload URL after its file was deleted", async () => {
    const created = await createFile(server, { name: "doomed.txt", mimeType: "text/plain" });
    const key = await storageKeyOf(server, created.file!.id);
    await server.graphql(`mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`, { id: created.file!.id });
    // The local routes refuse it (UPLOAD_CLOSED); a presigned S3 URL cannot be revoked and stores it.
    await putBytes(created.upload!, Buffer.from("EVIL!"));
    expect(await staged(key)).toBe(driver === "s3");
    await server.app.sweeper.reconcile(later());
    expect(await has(key)).toBe(false);
    expect(await staged(key)).toBe(false);
  });

  it("marks an uploaded file whose object is gone FAILED, counts it and logs it", async () => {
    const file = await uploadFile(server, { name: "lost.txt" }, Buffer.from("lost"));
    await server.app.storage.deleteObject(await storageKeyOf(server, file.id));
    let missing = 0;
    // The check walks the uploaded files in batches: a few rounds reach every one.
    for (let round = 0; round < 5 && missing === 0; round += 1)
      missing += (await server.app.sweeper.reconcile(later())).missingObjects;
    expect(missing).toBe(1);
    const after = await server.graphql<{ file: { status: string; downloadUrl: string | null } }>(
      `query ($id: ID!) { file(id: $id) { status downloadUrl } }`,
      { id: file.id },
    );
    expect(after.data.file).toEqual({ status: "FAILED", downloadUrl: null });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^reconciliation_items_total\{kind="missing_object"\} 1$/m);
    expect(metrics).toMatch(/^reconciliations_total\{result="ran"\} [1-9]/m);
  });

  it("leaves FAILED out when an overwrite replaces a file's content while the check looks for the old object", async () => {
    const externalId = `raced-${randomUUID()}`;
    const content = (text: string) => Buffer.from(text).toString("base64");
    const created = await createFile(server, { name: "v1.txt", externalId, content: content("one") });
    const oldKey = await storageKeyOf(server, created.file!.id);
    const headObject = server.app.storage.headObject.bind(server.app.storage);
    let raced = false;
    // The overwrite commits (and releases the old object) between the check's read and its look.
    const spy = vi.spyOn(server.app.storage, "headObject").mockImplementation(async (key) => {
      if (key === oldKey && !raced) {
        raced = true;
        await createFile(server, { name: "v2.txt", externalId, overwrite: true, content: content("two") });
      }
      return headObject(key);
    });
    try {
      for (let round = 0; round < 5 && !raced; round += 1) await server.app.sweeper.reconcile(later());
    } finally {
      spy.mockRestore();
    }
    expect(raced).toBe(true);
    const after = await server.graphql<{ file: { status: string } }>(`query ($id: ID!) { file(id: $id) { status } }`, {
      id: created.file!.id,
    });
    expect(after.data.file.status).toBe("UPLOADED");
  });

  // s3rver answers ListMultipartUploads with NotImplemented (AWS S3, MinIO and R2 implement it).
  it.skipIf(driver === "s3")("aborts multipart uploads no pending file owns, and keeps a pending file's", async () => {
    const orphanKey = `${workspaceId}/${randomUUID()}`;
    const orphanUpload = await server.app.storage.createMultipartUpload(orphanKey, { contentType: "text/plain" });
    const pending = await createFile(server, { name: "parts.bin", size: 10, uploadMethod: "MULTIPART" });
    const listed = async () => {
      const ids: string[] = [];
      for await (const page of server.app.storage.listMultipartUploads!())
        ids.push(...page.map((upload) => upload.uploadId));
      return ids;
    };
    const result = await server.app.sweeper.reconcile(later());
    expect(result.uploadsAborted).toBeGreaterThanOrEqual(1);
    const left = await listed();
    expect(left).not.toContain(orphanUpload);
    const id = Buffer.from(pending.file!.id, "base64")
      .toString("utf8")
      .replace(/^File:/, "");
    const row = await server.app.db.file.findUniqueOrThrow({ where: { id } });
    expect(left).toContain(row.multipartUploadId);
  });
});

describe(`reconciliation with two instances (${testProvider})`, () => {
  let first: TestServer;
  let second: TestServer;
  beforeAll(async () => {
    first = await startServer();
    second = await startServer({ DATABASE_URL: first.database.url, STORAGE_LOCAL_DIR: first.objectsDir });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  it("deletes an orphan once, and on PostgreSQL lets one instance reconcile at a time", async () => {
    const workspaceId = (await first.app.db.workspace.findFirstOrThrow({ where: { slug: "default" } })).id;
    const orphan = `${workspaceId}/${randomUUID()}`;
    await first.app.storage.putObject(orphan, Readable.from([Buffer.from("x")]), { contentType: "text/plain" });
    const kept = await uploadFile(second, { name: "shared.txt" }, Buffer.from("shared"));
    const results = await Promise.all([first.app.sweeper.reconcile(later()), second.app.sweeper.reconcile(later())]);
    if (testProvider === "postgresql") expect(results.filter((result) => result.ran)).toHaveLength(1);
    expect(results.reduce((sum, result) => sum + result.orphansDeleted, 0)).toBeGreaterThanOrEqual(1);
    expect(await first.app.storage.headObject(orphan)).toBeNull();
    expect(await first.app.storage.headObject(await storageKeyOf(first, kept.id))).not.toBeNull();
  });
});
