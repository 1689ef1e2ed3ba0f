import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../src/access/grants.js";
import {
  completeUpload,
  createFile,
  putBytes,
  sha256,
  storageKeyOf,
  type UploadTargetResult,
  uploadFile,
} from "./helpers/files.js";
import { startServer, type TestServer, testDrivers } from "./helpers/server.js";

describe.each(testDrivers)("presigned PUT flow (%s storage)", (driver) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({}, driver);
  });
  afterAll(() => server.close());

  it("creates, uploads, completes and downloads the same bytes", async () => {
    const body = Buffer.from("hello, files\n");
    const created = await createFile(server, { name: "hello.txt", mimeType: "text/plain", size: body.length });
    expect(created.__typename).toBe("CreateFilePayload");
    expect(created.file?.status).toBe("PENDING");
    expect(created.file?.downloadUrl).toBeNull();
    expect(created.upload?.method).toBe("PUT");
    expect(created.upload?.headers).toContainEqual({ name: "Content-Type", value: "text/plain" });

    const put = await putBytes(created.upload!, body);
    expect(put.ok).toBe(true);
    const completed = await completeUpload(server, created.file!.id);
    expect(completed.__typename).toBe("FilePayload");
    expect(completed.file).toMatchObject({
      status: "UPLOADED",
      uploaded: true,
      size: body.length,
      checksumSha256: sha256(body),
    });

    const download = await fetch(completed.file!.downloadUrl!);
    expect(download.status).toBe(200);
    // S3 and Azure cannot be told to send nosniff per request; there the sniffed type and disposition protect.
    if (driver === "local") expect(download.headers.get("x-content-type-options")).toBe("nosniff");
    expect(Buffer.from(await download.arrayBuffer())).toEqual(body);
  });
});

// Azure Blob has no browser form upload: the azure driver declares no POST (see the next suite).
describe.each(testDrivers.filter((driver) => driver !== "azure"))("presigned POST flow (%s storage)", (driver) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({}, driver);
  });
  afterAll(() => server.close());

  it("creates, posts the form with the file last, completes and downloads the same bytes", async () => {
    const body = Buffer.from("a,b\n1,2\n");
    const created = await createFile(server, {
      name: "data.csv",
      mimeType: "text/csv",
      size: body.length,
      uploadMethod: "POST",
    });
    expect(created.upload).toMatchObject({ method: "POST", headers: [] });
    const form = new FormData();
    for (const field of created.upload!.fields) form.append(field.name, field.value);
    form.append("file", new Blob([Uint8Array.from(body)], { type: "text/csv" }), "data.csv");
    const posted = await fetch(created.upload!.url!, { method: "POST", body: form });
    expect(posted.ok).toBe(true);

    const completed = await completeUpload(server, created.file!.id);
    expect(completed.file).toMatchObject({ status: "UPLOADED", mimeType: "text/csv", checksumSha256: sha256(body) });
    const download = await fetch(completed.file!.downloadUrl!);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(body);
  });
});

describe.each(testDrivers.filter((driver) => driver === "azure"))(
  "an upload method the storage lacks (%s storage)",
  (driver) => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({}, driver);
    });
    afterAll(() => server.close());

    it("answers uploadMethod POST with a ValidationError on uploadMethod naming the methods it offers", async () => {
      const result = await createFile(server, { name: "data.csv", mimeType: "text/csv", uploadMethod: "POST" });
      expect(result.__typename).toBe("ValidationError");
      expect(result.fieldErrors).toEqual([
        {
          path: ["input", "uploadMethod"],
          message: "uploadMethod POST is not available with this deployment's azure storage; use one of PUT, MULTIPART",
        },
      ]);
      expect(await server.app.db.file.count()).toBe(0);
    });

    it("still takes the bytes in the request whatever uploadMethod says", async () => {
      const result = await createFile(server, {
        name: "inline.txt",
        content: Buffer.from("inline").toString("base64"),
        uploadMethod: "POST",
      });
      expect(result.file).toMatchObject({ status: "UPLOADED", size: 6 });
    });
  },
);

describe.each(testDrivers)("resuming and removing (%s storage)", (driver) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({}, driver);
  });
  afterAll(() => server.close());

  const uploadOf = async (id: string) =>
    (
      await server.graphql<{ file: { upload: UploadTargetResult | null } }>(
        `query ($id: ID!) { file(id: $id) { upload { method url headers { name value } fields { name value } expiresAt maxSize partSize
        parts { partNumber url headers { name value } etag } receivedParts { partNumber etag size } } } }`,
        { id },
      )
    ).data.file.upload;

  it("File.upload re-signs a PENDING PUT target that still works, and is null once uploaded", async () => {
    const body = Buffer.from("later");
    const created = await createFile(server, { name: "later.txt", mimeType: "text/plain", size: body.length });
    const fresh = await uploadOf(created.file!.id);
    expect(fresh).toMatchObject({ method: "PUT", parts: [], receivedParts: [] });
    expect((await putBytes(fresh!, body)).ok).toBe(true);
    expect((await completeUpload(server, created.file!.id)).file?.status).toBe("UPLOADED");
    expect(await uploadOf(created.file!.id)).toBeNull();
  });

  it("File.upload resolves on files listed through the connection too", async () => {
    const created = await createFile(server, { name: "listed.txt", size: 10, uploadMethod: "MULTIPART" });
    const listed = await server.graphql<{
      files: { edges: { node: { id: string; upload: { method: string } | null } }[] };
    }>(`{ files(workspaceId: "default", filter: { status: PENDING }) { edges { node { id upload { method } } } } }`);
    expect(listed.errors).toBeUndefined();
    expect(listed.data.files.edges.find((edge) => edge.node.id === created.file!.id)?.node.upload).toEqual({
      method: "MULTIPART",
    });
  });

  it("File.upload is null for a caller who may only read the workspace", async () => {
    const created = await createFile(server, { name: "not-yours.txt" });
    const { db } = server.app;
    const workspace = await db.workspace.findUniqueOrThrow({ where: { slug: "default" } });
    const principalId = randomUUID();
    await db.principal.create({ data: { id: principalId, kind: "API_KEY", subject: "reader" } });
    await db.apiKey.create({ data: { id: randomUUID(), hash: hashApiKey("reader-key"), principalId } });
    await db.membership.create({ data: { principalId, workspaceId: workspace.id, role: "READER" } });
    const read = await server.graphql<{ file: { name: string; upload: unknown } }>(
      `query ($id: ID!) { file(id: $id) { name upload { url } } }`,
      { id: created.file!.id },
      { authorization: "Bearer reader-key" },
    );
    expect(read.data.file).toEqual({ name: "not-yours.txt", upload: null });
  });

  it("deleteFile removes the record and the stored object", async () => {
    const file = await uploadFile(server, { name: "gone.txt" }, Buffer.from("bye"));
    const key = await storageKeyOf(server, file.id);
    const deleted = await server.graphql<{ deleteFile: { __typename: string } }>(
      `mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`,
      { id: file.id },
    );
    expect(deleted.data.deleteFile.__typename).toBe("DeletedFile");
    await expect(server.app.storage.headObject(key)).resolves.toBeNull();
  });
});
