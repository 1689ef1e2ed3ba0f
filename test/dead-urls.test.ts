import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStorage } from "../src/storage/local.js";
import { testProvider } from "./helpers/database.js";
import {
  completeUpload,
  createFile,
  type MutationResult,
  putBytes,
  storageKeyOf,
  uploadFile,
} from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const remove = (mutation: "deleteFile" | "abortUpload", id: string) =>
  server.graphql<Record<string, { __typename: string }>>(
    `mutation ($id: ID!) { ${mutation}(id: $id) { __typename } }`,
    { id },
  );

async function pending(input: Record<string, unknown>) {
  const result = await createFile(server, input);
  if (result.__typename !== "CreateFilePayload") throw new Error(JSON.stringify(result));
  return { file: result.file!, upload: result.upload! };
}

/** Every object file under the local store, temporary files left out. */
async function storedObjects(): Promise<string[]> {
  const entries = await readdir(server.objectsDir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && !path.join(entry.parentPath, entry.name).includes(`${path.sep}.`))
    .map((entry) => path.relative(server.objectsDir, path.join(entry.parentPath, entry.name)));
}

const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;
const mz = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(62)]);

describe("signed upload URLs of files that are gone", () => {
  it("keeps the bytes a completion verified before their PUT answered", async () => {
    const { file, upload } = await pending({ name: "eager.txt", mimeType: "text/plain", size: 5 });
    // The client's completeUpload runs between the bytes landing and the PUT's answer: the store
    // is wrapped only to place it there, and does its own work unchanged.
    const storage = server.app.storage as LocalStorage;
    const putNewObject = storage.putNewObject;
    let completed: MutationResult | undefined;
    storage.putNewObject = async (...args: Parameters<LocalStorage["putNewObject"]>) => {
      const stored = await putNewObject.apply(storage, args);
      completed = await completeUpload(server, file.id);
      return stored;
    };
    let put: Response;
    try {
      put = await putBytes(upload, Buffer.from("hello"));
    } finally {
      storage.putNewObject = putNewObject;
    }
    expect(completed?.__typename).toBe("FilePayload");
    expect(put.status).toBe(200);
    expect(await server.app.storage.headObject(await storageKeyOf(server, file.id))).not.toBeNull();
    const download = await server.graphql<{ file: { status: string; downloadUrl: string } }>(
      `query ($id: ID!) { file(id: $id) { status downloadUrl } }`,
      { id: file.id },
    );
    expect(download.data.file.status).toBe("UPLOADED");
    expect(await (await fetch(download.data.file.downloadUrl)).text()).toBe("hello");
  });

  it("refuses a PUT after deleteFile, and the old download URL serves nothing", async () => {
    const { file, upload } = await pending({ name: "gone.txt", mimeType: "text/plain", size: 5 });
    const key = await storageKeyOf(server, file.id);
    expect((await putBytes(upload, Buffer.from("hello"))).status).toBe(200);
    const done = await completeUpload(server, file.id);
    const download = await server.graphql<{ file: { downloadUrl: string } }>(
      `query ($id: ID!) { file(id: $id) { downloadUrl(expiresIn: 604800) } }`,
      { id: file.id },
    );
    expect(done.__typename).toBe("FilePayload");
    expect((await remove("deleteFile", file.id)).data.deleteFile?.__typename).toBe("DeletedFile");

    const evil = await putBytes(upload, Buffer.from("EVIL!"));
    expect(evil.status).toBe(403);
    expect(await errorCode(evil)).toBe("UPLOAD_CLOSED");
    expect((await fetch(download.data.file.downloadUrl)).status).toBe(404);
    expect(await storedObjects()).not.toContain(key);
  });

  it("refuses an executable PUT after abortUpload and stores nothing", async () => {
    const before = await storedObjects();
    const { file, upload } = await pending({ name: "aborted.bin" });
    expect((await remove("abortUpload", file.id)).data.abortUpload?.__typename).toBe("DeletedFile");
    const put = await putBytes(upload, mz);
    expect(put.status).toBe(403);
    expect(await errorCode(put)).toBe("UPLOAD_CLOSED");
    expect(await storedObjects()).toEqual(before);
  });

  it("refuses a POST form after deleteFile", async () => {
    const before = await storedObjects();
    const { file, upload } = await pending({ name: "form.txt", mimeType: "text/plain", uploadMethod: "POST" });
    await remove("deleteFile", file.id);
    const form = new FormData();
    for (const field of upload.fields) form.append(field.name, field.value);
    form.append("file", new Blob(["EVIL!"], { type: "text/plain" }), "form.txt");
    const posted = await fetch(upload.url!, { method: "POST", body: form });
    expect(posted.status).toBe(403);
    expect(await errorCode(posted)).toBe("UPLOAD_CLOSED");
    expect(await storedObjects()).toEqual(before);
  });

  it("refuses a MULTIPART part after abortUpload", async () => {
    const { file, upload } = await pending({ name: "parts.bin", size: 10, uploadMethod: "MULTIPART" });
    await remove("abortUpload", file.id);
    const part = upload.parts[0]!;
    const put = await fetch(part.url, { method: "PUT", body: "0123456789" });
    expect(put.status).toBe(403);
  });

  it("refuses a PUT to the URL of a file that expired", async () => {
    const { file, upload } = await pending({ name: "expired.txt" });
    const id = Buffer.from(file.id, "base64")
      .toString("utf8")
      .replace(/^File:/, "");
    await server.app.db.file.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await putBytes(upload, Buffer.from("late"))).status).toBe(403);
  });

  it("removes bytes whose file was deleted while they were arriving", async () => {
    const before = await storedObjects();
    const { file, upload } = await pending({ name: "slow.txt", mimeType: "text/plain", size: 10 });
    let finish = (): void => undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(Buffer.from("01234"));
        finish = () => {
          controller.enqueue(Buffer.from("56789"));
          controller.close();
        };
      },
    });
    const headers = Object.fromEntries(
      upload.headers.filter((h) => h.name !== "Content-Length").map((h) => [h.name, h.value]),
    );
    const put = fetch(upload.url!, { method: "PUT", headers, body, duplex: "half" } as RequestInit);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await remove("deleteFile", file.id);
    finish();
    const response = await put;
    expect(response.status).toBe(403);
    expect(await storedObjects()).toEqual(before);
  });
});

describe(`completeUpload racing deleteFile (${testProvider})`, () => {
  it("answers NotFoundError or the completed file, never an internal error, and leaves no bytes behind", async () => {
    for (let round = 0; round < 8; round += 1) {
      const before = await storedObjects();
      const { file, upload } = await pending({ name: `race-${round}.txt`, mimeType: "text/plain" });
      expect((await putBytes(upload, Buffer.from(`bytes ${round}`))).status).toBe(200);
      const [completed, deleted] = await Promise.all([
        server.graphql<{ completeUpload: MutationResult }>(
          `mutation ($id: ID!) { completeUpload(input: { id: $id }) { __typename ... on Error { code } } }`,
          { id: file.id },
        ),
        // Staggered a little each round, so the delete lands at different points of the completion.
        new Promise((resolve) => setTimeout(resolve, round * 3)).then(() => remove("deleteFile", file.id)),
      ]);
      expect(completed.errors).toBeUndefined();
      expect(deleted.errors).toBeUndefined();
      expect(["FilePayload", "NotFoundError"]).toContain(completed.data.completeUpload.__typename);
      expect(["DeletedFile", "NotFoundError"]).toContain(deleted.data.deleteFile?.__typename);
      expect(await storedObjects()).toEqual(before);
    }
  });
});

it("keeps the bytes of a file uploaded through a URL that was open", async () => {
  const file = await uploadFile(server, { name: "fine.txt", mimeType: "text/plain" }, Buffer.from("fine"));
  expect(file.status).toBe("UPLOADED");
});
