import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageError } from "../src/storage/driver.js";
import {
  completeUpload,
  createFile,
  type FileResult,
  hasStoredObject,
  sha256,
  storageKeyOf,
  type UploadTargetResult,
} from "./helpers/files.js";
import { randomContent } from "./helpers/samples.js";
import { startServer, type TestServer, testDrivers } from "./helpers/server.js";

const MiB = 1024 * 1024;
const partSize = 8 * MiB;
/** Three parts: two of partSize and a short last one. */
const original = randomContent(2 * partSize + 1234);
const slice = (bytes: Buffer, partNumber: number): Buffer =>
  bytes.subarray((partNumber - 1) * partSize, partNumber * partSize);

const resumeQuery = `query ($id: ID!) { file(id: $id) { status upload { method partSize maxSize
  parts { partNumber url headers { name value } etag } receivedParts { partNumber etag size } } } }`;

describe.each(testDrivers)("MULTIPART uploads (%s storage)", (driver) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({}, driver);
  });
  afterAll(() => server.close());

  async function createMultipart(
    input: Record<string, unknown> = {},
  ): Promise<{ file: FileResult; upload: UploadTargetResult }> {
    const result = await createFile(server, {
      name: "big.bin",
      size: original.length,
      uploadMethod: "MULTIPART",
      ...input,
    });
    if (result.__typename !== "CreateFilePayload") throw new Error(JSON.stringify(result));
    return { file: result.file!, upload: result.upload! };
  }

  /** PUTs one part to its URL; returns its ETag: the response's, or the part's own where the store answers none (Azure). */
  async function putPart(upload: UploadTargetResult, partNumber: number, body: Buffer): Promise<string> {
    const part = upload.parts.find((p) => p.partNumber === partNumber);
    if (part === undefined) throw new Error(`no URL for part ${partNumber}`);
    expect(part.headers).toEqual([{ name: "Content-Length", value: String(body.length) }]);
    // fetch sets Content-Length from the body itself.
    const response = await fetch(part.url, { method: "PUT", body: Uint8Array.from(body) });
    expect(response.ok).toBe(true);
    const etag = part.etag ?? response.headers.get("etag");
    expect(etag).toBeTruthy();
    return etag!;
  }

  async function resume(id: string): Promise<{ status: string; upload: UploadTargetResult | null }> {
    const response = await server.graphql<{ file: { status: string; upload: UploadTargetResult | null } }>(
      resumeQuery,
      { id },
    );
    if (response.errors) throw new Error(JSON.stringify(response.errors));
    return response.data.file;
  }

  async function downloadSha(file: FileResult): Promise<string> {
    const response = await fetch(file.downloadUrl!);
    expect(response.status).toBe(200);
    return sha256(new Uint8Array(await response.arrayBuffer()));
  }

  it("uploads a file in 3 parts sent out of order, and the downloaded bytes equal the original", async () => {
    const { file, upload } = await createMultipart();
    expect(upload).toMatchObject({
      method: "MULTIPART",
      url: null,
      partSize,
      maxSize: original.length,
      receivedParts: [],
    });
    expect(upload.parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    const etags = new Map<number, string>();
    for (const n of [3, 1, 2]) etags.set(n, await putPart(upload, n, slice(original, n)));
    const parts = [1, 2, 3].map((partNumber) => ({ partNumber, etag: etags.get(partNumber)! }));

    const done = await completeUpload(server, file.id, parts);
    expect(done.__typename).toBe("FilePayload");
    expect(done.file).toMatchObject({ status: "UPLOADED", size: original.length, checksumSha256: sha256(original) });
    expect(await downloadSha(done.file!)).toBe(sha256(original));
    expect((await resume(file.id)).upload).toBeNull();
  });

  it("abortUpload removes the file, its parts and any object", async () => {
    const { file, upload } = await createMultipart();
    await putPart(upload, 1, slice(original, 1));
    const key = await storageKeyOf(server, file.id);
    const { multipartUploadId } = await server.app.db.file.findFirstOrThrow({ where: { storageKey: key } });
    expect(multipartUploadId).not.toBeNull();

    const aborted = await server.graphql<{ abortUpload: { __typename: string } }>(
      `mutation ($id: ID!) { abortUpload(id: $id) { __typename } }`,
      { id: file.id },
    );
    expect(aborted.data.abortUpload.__typename).toBe("DeletedFile");
    expect(
      (await server.graphql<{ file: null }>(`query ($id: ID!) { file(id: $id) { id } }`, { id: file.id })).data.file,
    ).toBeNull();
    await expect(server.app.storage.listParts(key, multipartUploadId!)).rejects.toSatisfy(
      (error) => error instanceof StorageError && error.code === "NOT_FOUND",
    );
    await expect(server.app.storage.headObject(key)).resolves.toBeNull();
  });

  it("answers a wrong ETag at completeUpload with UploadIncompleteError, and the upload can still finish", async () => {
    const { file, upload } = await createMultipart();
    const parts = [];
    for (const n of [1, 2, 3]) parts.push({ partNumber: n, etag: await putPart(upload, n, slice(original, n)) });
    const wrong = parts.map((p) => (p.partNumber === 2 ? { ...p, etag: `"${"0".repeat(32)}"` } : p));

    const refused = await completeUpload(server, file.id, wrong);
    expect(refused).toMatchObject({ __typename: "UploadIncompleteError", code: "UPLOAD_INCOMPLETE" });
    const resumed = await resume(file.id);
    expect(resumed.status).toBe("PENDING");
    expect(resumed.upload?.parts).toEqual([]);
    expect(resumed.upload?.receivedParts.map((p) => p.partNumber)).toEqual([1, 2, 3]);

    const done = await completeUpload(server, file.id, parts);
    expect(done.file?.status).toBe("UPLOADED");
  });

  it("resumes after 1 of 3 parts: lists it as received and signs fresh URLs for the other 2", async () => {
    const { file, upload } = await createMultipart();
    const first = await putPart(upload, 1, slice(original, 1));

    const resumed = await resume(file.id);
    expect(resumed.upload?.method).toBe("MULTIPART");
    expect(resumed.upload?.receivedParts).toEqual([{ partNumber: 1, etag: first, size: partSize }]);
    expect(resumed.upload?.parts.map((p) => p.partNumber)).toEqual([2, 3]);

    const parts = [...resumed.upload!.receivedParts.map(({ partNumber, etag }) => ({ partNumber, etag }))];
    for (const n of [2, 3]) parts.push({ partNumber: n, etag: await putPart(resumed.upload!, n, slice(original, n)) });
    const done = await completeUpload(server, file.id, parts);
    expect(done.file?.status).toBe("UPLOADED");
    expect(await downloadSha(done.file!)).toBe(sha256(original));
  });

  it("does not join a part of the wrong size: UploadIncompleteError, and resuming asks for it again", async () => {
    const { file, upload } = await createMultipart();
    const parts = [];
    for (const n of [1, 2]) parts.push({ partNumber: n, etag: await putPart(upload, n, slice(original, n)) });
    const wrong = await fetch(upload.parts[2]!.url, { method: "PUT", body: randomContent(1000) });
    // The part URL signs the part's size: the local endpoint (and real S3) refuse other sizes. s3rver
    // checks no signature, and an Azure SAS binds no size, so there completeUpload's own check catches it.
    if (driver === "local") expect(wrong.status).toBe(400);
    parts.push({ partNumber: 3, etag: upload.parts[2]!.etag ?? wrong.headers.get("etag") ?? '"none"' });

    const refused = await completeUpload(server, file.id, parts);
    expect(refused.__typename).toBe("UploadIncompleteError");
    expect(refused.message).toMatch(/part 3/);
    expect(await hasStoredObject(server, file.id)).toBe(false);
    const resumed = await resume(file.id);
    expect(resumed.upload?.parts.map((p) => p.partNumber)).toEqual([3]);

    parts[2] = { partNumber: 3, etag: await putPart(resumed.upload!, 3, slice(original, 3)) };
    expect((await completeUpload(server, file.id, parts)).file?.status).toBe("UPLOADED");
  });

  it("deletes joined bytes that fail verification; the file stays PENDING and a fresh upload starts", async () => {
    const { file, upload } = await createMultipart({ checksumSha256: sha256(original) });
    const tampered = Buffer.from(original);
    tampered.writeUInt8(tampered.readUInt8(partSize + 10) ^ 0xff, partSize + 10);
    const parts = [];
    for (const n of [1, 2, 3]) parts.push({ partNumber: n, etag: await putPart(upload, n, slice(tampered, n)) });

    const refused = await completeUpload(server, file.id, parts);
    expect(refused.__typename).toBe("UploadIncompleteError");
    expect(await hasStoredObject(server, file.id)).toBe(false);
    const resumed = await resume(file.id);
    expect(resumed.status).toBe("PENDING");
    expect(resumed.upload?.receivedParts).toEqual([]);
    expect(resumed.upload?.parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);

    const again = [];
    for (const n of [1, 2, 3])
      again.push({ partNumber: n, etag: await putPart(resumed.upload!, n, slice(original, n)) });
    expect((await completeUpload(server, file.id, again)).file).toMatchObject({
      status: "UPLOADED",
      checksumSha256: sha256(original),
    });
  });

  it("answers completeUpload without parts with UploadIncompleteError", async () => {
    const { file } = await createMultipart();
    expect((await completeUpload(server, file.id)).__typename).toBe("UploadIncompleteError");
  });

  it("requires a size for MULTIPART", async () => {
    const result = await createFile(server, { name: "nosize.bin", uploadMethod: "MULTIPART" });
    expect(result.__typename).toBe("ValidationError");
    expect(result.fieldErrors?.[0]?.path).toEqual(["input", "size"]);
  });

  it("tells a PUT over MAX_SINGLE_UPLOAD_BYTES to use MULTIPART, which takes it", async () => {
    const size = 300 * MiB;
    const put = await createFile(server, { name: "huge.bin", size });
    expect(put).toMatchObject({ __typename: "PayloadTooLargeError", maxSize: 256 * MiB });
    expect(put.message).toMatch(/MULTIPART/);
    const multipart = await createFile(server, { name: "huge.bin", size, uploadMethod: "MULTIPART" });
    expect(multipart.upload?.parts).toHaveLength(Math.ceil(size / partSize));
  });
});
