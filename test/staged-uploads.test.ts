import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { testProvider } from "./helpers/database.js";
import {
  completeUpload,
  createFile,
  type MutationResult,
  putBytes,
  sha256,
  storageKeyOf,
  type UploadTargetResult,
} from "./helpers/files.js";
import { startServer, type TestServer, testDrivers } from "./helpers/server.js";

// A presigned S3 URL, or an Azure SAS, cannot be revoked: these are what a URL still valid after
// its upload ended can do. The local routes ask the domain instead (test/dead-urls.test.ts).
const drivers = testDrivers.filter((driver) => driver !== "local");

describe.each(drivers)(`signed upload URLs that outlive their upload (%s, ${testProvider})`, (driver) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({}, driver);
  });
  afterAll(() => server.close());

  async function pending(input: Record<string, unknown>) {
    const result = await createFile(server, input);
    if (result.__typename !== "CreateFilePayload") throw new Error(JSON.stringify(result));
    return { file: result.file!, upload: result.upload! };
  }

  async function completed(id: string): Promise<NonNullable<MutationResult["file"]>> {
    const done = await completeUpload(server, id);
    if (done.__typename !== "FilePayload") throw new Error(JSON.stringify(done));
    return done.file!;
  }

  const downloadUrl = async (id: string) =>
    (
      await server.graphql<{ file: { downloadUrl: string } }>(
        `query ($id: ID!) { file(id: $id) { downloadUrl(expiresIn: 604800) } }`,
        { id },
      )
    ).data.file.downloadUrl;

  const served = async (url: string) => {
    const response = await fetch(url);
    return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
  };

  /** Sends a POST form to a signed POST target. */
  const postBytes = (upload: UploadTargetResult, body: Buffer) => {
    const form = new FormData();
    for (const field of upload.fields) form.append(field.name, field.value);
    form.append("file", new Blob([Uint8Array.from(body)], { type: "text/plain" }), "form.txt");
    return fetch(upload.url ?? "", { method: "POST", body: form });
  };

  const hello = Buffer.from("hello");
  const evil = Buffer.from("EVIL!");

  it("never serves, through a download URL signed before deleteFile, bytes PUT afterwards with the old upload URL", async () => {
    const { file, upload } = await pending({ name: "gone.txt", mimeType: "text/plain", size: 5 });
    expect((await putBytes(upload, hello)).ok).toBe(true);
    await completed(file.id);
    const download = await downloadUrl(file.id);
    expect((await served(download)).body).toEqual(hello);
    await server.graphql(`mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`, { id: file.id });

    // The store may accept the bytes (nothing can revoke the URL); no URL of ours may serve them.
    await putBytes(upload, evil);
    const after = await served(download);
    expect(after.body).not.toEqual(evil);
    expect(after.status).toBe(404);
  });

  it("never changes what a file's download URL serves when its upload URL is used again after completeUpload", async () => {
    const { file, upload } = await pending({ name: "again.txt", mimeType: "text/plain", size: 5 });
    expect((await putBytes(upload, hello)).ok).toBe(true);
    await completed(file.id);
    const download = await downloadUrl(file.id);
    await putBytes(upload, evil);
    expect(await served(download)).toEqual({ status: 200, body: hello });
    expect(await served(await downloadUrl(file.id))).toEqual({ status: 200, body: hello });
  });

  it.runIf(driver === "s3")(
    "never changes what a file's download URL serves when its POST form is sent again after completeUpload",
    async () => {
      const { file, upload } = await pending({ name: "form.txt", mimeType: "text/plain", uploadMethod: "POST" });
      expect((await postBytes(upload, hello)).ok).toBe(true);
      await completed(file.id);
      const download = await downloadUrl(file.id);
      // A POST policy has no If-None-Match: S3 stores the second form too.
      expect((await postBytes(upload, evil)).ok).toBe(true);
      expect(await served(download)).toEqual({ status: 200, body: hello });
    },
  );

  it.runIf(driver === "s3")(
    "serves exactly the bytes completeUpload verified when a second POST lands while it reads them",
    async () => {
      const { file, upload } = await pending({ name: "raced.txt", mimeType: "text/plain", uploadMethod: "POST" });
      expect((await postBytes(upload, hello)).ok).toBe(true);
      const storage = server.app.storage;
      const getObject = storage.getObject.bind(storage);
      let raced = false;
      // Completion reads the bytes to verify them; the second form lands once it has read them all,
      // before the file is marked UPLOADED.
      const spy = vi.spyOn(storage, "getObject").mockImplementation(async (...args) => {
        const stream = await getObject(...args);
        if (raced) return stream;
        raced = true;
        return Readable.from(
          (async function* () {
            for await (const chunk of stream) yield chunk as Buffer;
            expect((await postBytes(upload, evil)).ok).toBe(true);
          })(),
        );
      });
      let done: NonNullable<MutationResult["file"]>;
      try {
        done = await completed(file.id);
      } finally {
        spy.mockRestore();
      }
      expect(raced).toBe(true);
      const { status, body } = await served(await downloadUrl(file.id));
      expect(status).toBe(200);
      // Whichever bytes won, the file describes exactly the bytes it serves.
      expect(sha256(body)).toBe(done.checksumSha256);
      expect(body.length).toBe(Number(done.size));
    },
  );

  it("keeps no staged bytes once an upload is completed, and none of a deleted file after reconciliation", async () => {
    const { file, upload } = await pending({ name: "tidy.txt", mimeType: "text/plain", size: 5 });
    expect((await putBytes(upload, hello)).ok).toBe(true);
    await completed(file.id);
    const key = await storageKeyOf(server, file.id);
    const staged = async () => (await server.app.storage.stagedUpload(key)) !== null;
    expect(await staged()).toBe(false);
    await server.graphql(`mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`, { id: file.id });
    await putBytes(upload, evil);
    expect(await staged()).toBe(true);
    // Later than the sweeper's grace: S3 reconciles (15 minutes), Azure removes abandoned staging (a day).
    const later = new Date(Date.now() + 25 * 3600 * 1000);
    if (driver === "s3") await server.app.sweeper.reconcile(later);
    else await server.app.sweeper.sweep(later);
    expect(await staged()).toBe(false);
  });
});

describe.each(drivers.filter((driver) => driver === "azure"))(
  `staged bytes of an upload pending longer than a day (%s, ${testProvider})`,
  (driver) => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({ PENDING_UPLOAD_TTL: String(3 * 24 * 3600) }, driver);
    });
    afterAll(() => server.close());

    it("are kept by the sweeper while PENDING_UPLOAD_TTL lets the file be completed", async () => {
      const created = await createFile(server, { name: "slow.txt", mimeType: "text/plain", size: 5 });
      if (created.__typename !== "CreateFilePayload") throw new Error(JSON.stringify(created));
      expect((await putBytes(created.upload!, Buffer.from("hello"))).ok).toBe(true);
      await server.app.sweeper.sweep(new Date(Date.now() + 2 * 24 * 3600 * 1000));
      const done = await completeUpload(server, created.file!.id);
      expect(done.__typename).toBe("FilePayload");
      expect(done.file?.checksumSha256).toBe(sha256(Buffer.from("hello")));
    });
  },
);
