import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeUpload, createFile, hasStoredObject, putBytes, sha256, uploadFile } from "./helpers/files.js";
import { elf, peStub, png } from "./helpers/samples.js";
import { startServer, type TestServer, testDrivers } from "./helpers/server.js";

describe.each(testDrivers)("%s storage", (driver) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({}, driver);
  });
  afterAll(() => server.close());

  async function created(input: Record<string, unknown>) {
    const result = await createFile(server, input);
    if (result.__typename !== "CreateFilePayload") throw new Error(JSON.stringify(result));
    return { file: result.file!, upload: result.upload! };
  }

  const fileStatus = async (id: string): Promise<{ status: string; uploaded: boolean } | null> =>
    (
      await server.graphql<{ file: { status: string; uploaded: boolean } | null }>(
        `query ($id: ID!) { file(id: $id) { status uploaded } }`,
        { id },
      )
    ).data.file;

  describe("completeUpload verification", () => {
    it("answers UploadIncompleteError when no bytes arrived, and the file stays PENDING", async () => {
      const { file } = await created({ name: "never.txt" });
      const result = await completeUpload(server, file.id);
      expect(result).toMatchObject({ __typename: "UploadIncompleteError", code: "UPLOAD_INCOMPLETE" });
      const again = await server.graphql<{ file: { status: string } }>(
        `query ($id: ID!) { file(id: $id) { status } }`,
        { id: file.id },
      );
      expect(again.data.file.status).toBe("PENDING");
    });

    it("rejects bytes whose SHA-256 differs from checksumSha256, deletes them, and accepts a correct re-upload", async () => {
      const good = Buffer.from("the right bytes");
      const { file, upload } = await created({ name: "sum.txt", checksumSha256: sha256(good) });
      expect((await putBytes(upload, Buffer.from("the wrong bytes"))).ok).toBe(true);
      const result = await completeUpload(server, file.id);
      expect(result.__typename).toBe("UploadIncompleteError");
      expect(await hasStoredObject(server, file.id)).toBe(false);

      expect((await putBytes(upload, good)).ok).toBe(true);
      const retried = await completeUpload(server, file.id);
      expect(retried.file).toMatchObject({ status: "UPLOADED", checksumSha256: sha256(good) });
    });

    it("rejects bytes whose size differs from the declared size, deletes them, and the file stays PENDING", async () => {
      const { file, upload } = await created({ name: "size.txt", size: 10 });
      expect(upload.headers).toContainEqual({ name: "Content-Length", value: "10" });
      // The signed URL binds the exact size: the local endpoint and real S3 refuse a wrong-size PUT.
      // s3rver checks no signature, and an Azure SAS binds no size, so both store it: there
      // completeUpload's own check is what is tested.
      const put = await putBytes(upload, Buffer.from("only nine"));
      if (driver === "local") expect(put.status).toBeGreaterThanOrEqual(400);
      const result = await completeUpload(server, file.id);
      expect(result).toMatchObject({ __typename: "UploadIncompleteError", code: "UPLOAD_INCOMPLETE" });
      expect(await hasStoredObject(server, file.id)).toBe(false);
      expect(await fileStatus(file.id)).toEqual({ status: "PENDING", uploaded: false });
    });

    it("never lets a PUT to the upload URL replace the verified bytes once the file is uploaded", async () => {
      const body = Buffer.from("verified");
      const { file, upload } = await created({ name: "once.txt", mimeType: "text/plain" });
      // S3 needs the conditional write signed into the URL; the local endpoint never replaces an object.
      if (driver !== "local") expect(upload.headers).toContainEqual({ name: "If-None-Match", value: "*" });
      expect((await putBytes(upload, body)).ok).toBe(true);
      const done = await completeUpload(server, file.id);
      expect(done.file?.status).toBe("UPLOADED");
      const again = await putBytes(upload, Buffer.from("replaced"));
      // The local endpoint answers 403 UPLOAD_CLOSED, as the upload is over. A presigned S3 URL or an
      // Azure SAS cannot be revoked: the store takes the bytes into the staging key completion
      // emptied, where no download URL reads (reconciliation deletes them).
      if (driver === "local") expect(again.status).toBe(403);
      const download = await fetch(done.file!.downloadUrl!);
      expect(Buffer.from(await download.arrayBuffer())).toEqual(body);
    });

    it("rejects an executable disguised as .png, deletes its bytes and marks the file FAILED", async () => {
      const { file, upload } = await created({ name: "cat.png", mimeType: "image/png" });
      expect((await putBytes(upload, peStub())).ok).toBe(true);
      const result = await completeUpload(server, file.id);
      expect(result).toMatchObject({ __typename: "UnsupportedMediaTypeError", code: "UNSUPPORTED_MEDIA_TYPE" });
      expect(await hasStoredObject(server, file.id)).toBe(false);
      expect(await fileStatus(file.id)).toEqual({ status: "FAILED", uploaded: false });
    });

    it("rejects an ELF binary whatever its declared type", async () => {
      const { file, upload } = await created({ name: "notes.txt", mimeType: "text/plain" });
      await putBytes(upload, elf());
      expect((await completeUpload(server, file.id)).__typename).toBe("UnsupportedMediaTypeError");
    });

    it("stores the sniffed type and image dimensions", async () => {
      const uploaded = await uploadFile(server, { name: "pixel.bin", mimeType: "application/octet-stream" }, png(3, 2));
      expect(uploaded.mimeType).toBe("image/png");
      expect(uploaded.dimensions).toEqual({ width: 3, height: 2 });
    });

    it("returns an uploaded file unchanged when completed twice", async () => {
      const first = await uploadFile(server, { name: "twice.txt" }, Buffer.from("twice"));
      const second = await completeUpload(server, first.id);
      expect(second.__typename).toBe("FilePayload");
      expect(second.file).toMatchObject({
        id: first.id,
        uploadedAt: first.uploadedAt,
        updatedAt: first.updatedAt,
        checksumSha256: first.checksumSha256,
      });
    });

    it("answers NotFoundError for an id that names no file", async () => {
      const result = await completeUpload(server, "RmlsZTpub3BlCg==");
      expect(result.__typename).toBe("NotFoundError");
    });
  });

  describe("downloads", () => {
    it("serves HTML as an attachment with nosniff, so it cannot script our origin", async () => {
      const uploaded = await uploadFile(
        server,
        { name: "page.html", mimeType: "text/html" },
        Buffer.from("<!doctype html><script>alert(1)</script>"),
      );
      expect(uploaded.mimeType).toBe("text/html");
      const response = await fetch(uploaded.downloadUrl!);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.headers.get("content-disposition")).toMatch(/^attachment/);
      // S3 and Azure cannot be told to send nosniff per request (see README); the attachment disposition protects there.
      if (driver === "local") expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    });

    it("serves an SVG declared as PNG as an SVG attachment", async () => {
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
      const uploaded = await uploadFile(server, { name: "logo.png", mimeType: "image/png" }, svg);
      expect(uploaded.mimeType).toBe("image/svg+xml");
      const response = await fetch(uploaded.downloadUrl!);
      expect(response.headers.get("content-disposition")).toMatch(/^attachment/);
    });

    it("serves a PNG inline", async () => {
      const uploaded = await uploadFile(server, { name: "ok.png" }, png(1, 1));
      const response = await fetch(uploaded.downloadUrl!);
      expect(response.headers.get("content-type")).toBe("image/png");
      expect(response.headers.get("content-disposition")).toMatch(/^inline/);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(png(1, 1));
    });
  });

  describe("overwrite by externalId", () => {
    it("keeps the old content until the new upload completes, then replaces it", async () => {
      const old = await uploadFile(server, { name: "v1.txt", externalId: "doc-1" }, Buffer.from("version one"));
      const replacing = await created({ name: "v2.txt", externalId: "doc-1", overwrite: true });
      const lookup = `query { fileByExternalId(workspaceId: "default", externalId: "doc-1") { id name } }`;
      expect((await server.graphql<{ fileByExternalId: { id: string } }>(lookup)).data.fileByExternalId.id).toBe(
        old.id,
      );

      expect(replacing.file).toMatchObject({ id: old.id, status: "UPLOADED", checksumSha256: old.checksumSha256 });

      await putBytes(replacing.upload, Buffer.from("version two"));
      const done = await completeUpload(server, old.id);
      expect(done.file).toMatchObject({
        id: old.id,
        externalId: "doc-1",
        name: "v2.txt",
        checksumSha256: sha256(Buffer.from("version two")),
      });
      const now = await server.graphql<{ fileByExternalId: { id: string; name: string } }>(lookup);
      expect(now.data.fileByExternalId).toEqual({ id: old.id, name: "v2.txt" });
      expect(await (await fetch(done.file!.downloadUrl!)).text()).toBe("version two");
    });
  });

  describe("MIME allow-list", () => {
    let limited: TestServer;
    beforeAll(async () => {
      limited = await startServer({ ALLOWED_MIME_TYPES: "image/*,application/pdf" }, driver);
    });
    afterAll(() => limited.close());

    it("refuses a declared type outside ALLOWED_MIME_TYPES with UnsupportedMediaTypeError", async () => {
      const result = await createFile(limited, { name: "a.txt", mimeType: "text/plain" });
      expect(result.__typename).toBe("UnsupportedMediaTypeError");
    });

    it("refuses at completion when the sniffed type is outside the list, whatever was declared", async () => {
      const result = await createFile(limited, { name: "fake.png", mimeType: "image/png" });
      await putBytes(result.upload!, Buffer.from("plain text pretending to be an image"));
      expect((await completeUpload(limited, result.file!.id)).__typename).toBe("UnsupportedMediaTypeError");
    });

    it("accepts a type the list allows", async () => {
      const uploaded = await uploadFile(limited, { name: "p.png", mimeType: "image/png" }, png(2, 2));
      expect(uploaded.status).toBe("UPLOADED");
    });
  });
});
