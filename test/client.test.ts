import { createHash } from "node:crypto";
import { openAsBlob } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type Api, resumeUpload, UploadError, type UploadProgress, uploadFile } from "graphql-files/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomContent } from "./helpers/samples.js";
import { apiKey, startServer, type TestServer, testDrivers } from "./helpers/server.js";

const MiB = 1024 * 1024;
let server: TestServer;
let api: Api;
let dir: string;
beforeAll(async () => {
  server = await startServer();
  api = { url: `${server.url}/graphql`, headers: { authorization: `Bearer ${apiKey}` } };
  dir = await mkdtemp(path.join(os.tmpdir(), "files-client-"));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** The byte transfers (PUT/POST to the signed URLs) the client makes, with a hook to fail some. */
const realFetch = globalThis.fetch;
interface Sent {
  url: string;
  method: string;
}
function watchTransfers(intercept: (sent: Sent, index: number) => Response | Error | undefined = () => undefined): {
  sent: Sent[];
  maxInFlight: () => number;
} {
  const sent: Sent[] = [];
  let inFlight = 0;
  let max = 0;
  globalThis.fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.includes("/uploads/")) return realFetch(input, init);
    const entry = { url, method: init?.method ?? "GET" };
    const outcome = intercept(entry, sent.length);
    sent.push(entry);
    if (outcome instanceof Error) throw outcome;
    if (outcome !== undefined) return outcome;
    inFlight++;
    max = Math.max(max, inFlight);
    try {
      return await realFetch(input, init);
    } finally {
      inFlight--;
    }
  };
  return { sent, maxInFlight: () => max };
}
afterEach(() => {
  globalThis.fetch = realFetch;
});

const partNumberOf = (url: string) => Number(new URL(url).searchParams.get("partNumber"));

describe("graphql-files/client uploadFile", () => {
  it("sends a small file in the createFile request (GraphQL multipart)", async () => {
    const bytes = randomContent(1000);
    const { sent } = watchTransfers();
    const created: string[] = [];
    const file = await uploadFile(api, new File([bytes], "small.bin"), {
      workspaceId: "default",
      onCreated: (f) => created.push(f.id),
    });
    expect(file).toMatchObject({ name: "small.bin", status: "UPLOADED", size: 1000, checksumSha256: sha256(bytes) });
    expect(sent).toEqual([]);
    expect(created).toEqual([]);
  });

  for (const method of ["PUT", "POST"] as const) {
    it(`uploads a file from disk (fs.openAsBlob) with ${method} and reports progress up to its size`, async () => {
      const bytes = randomContent(3 * MiB + 5);
      const on = path.join(dir, `disk-${method}.bin`);
      await writeFile(on, bytes);
      const progress: UploadProgress[] = [];
      const { sent } = watchTransfers();
      const file = await uploadFile(api, await openAsBlob(on), {
        workspaceId: "default",
        method,
        input: { name: `disk-${method}.bin`, labels: ["client"] },
        onProgress: (p) => progress.push(p),
      });
      expect(file).toMatchObject({
        status: "UPLOADED",
        size: bytes.length,
        checksumSha256: sha256(bytes),
        labels: ["client"],
      });
      expect(sent.map((s) => s.method)).toEqual([method]);
      expect(progress.at(-1)).toEqual({ loaded: bytes.length, total: bytes.length });
    });
  }

  it("chooses MULTIPART from multipartMinBytes and runs at most `concurrency` parts at once", async () => {
    const bytes = randomContent(33 * MiB);
    const watch = watchTransfers();
    const methods: string[] = [];
    const file = await uploadFile(api, new Blob([bytes]), {
      workspaceId: "default",
      input: { name: "parts.bin" },
      concurrency: 2,
      onCreated: (_file, method) => methods.push(method),
    });
    expect(methods).toEqual(["MULTIPART"]);
    expect(file).toMatchObject({ status: "UPLOADED", size: bytes.length, checksumSha256: sha256(bytes) });
    expect(watch.sent).toHaveLength(5);
    expect(watch.maxInFlight()).toBe(2);
  });

  it("retries a part that got no answer or a 503, and completes", async () => {
    const bytes = randomContent(17 * MiB);
    const { sent } = watchTransfers((_sent, index) => {
      if (index === 0) return new TypeError("fetch failed");
      if (index === 2) return new Response("busy", { status: 503, headers: { "retry-after": "0" } });
      return undefined;
    });
    const file = await uploadFile(api, new Blob([bytes]), {
      workspaceId: "default",
      method: "MULTIPART",
      input: { name: "retried.bin" },
      concurrency: 1,
      retryDelayMs: 10,
    });
    expect(file).toMatchObject({ status: "UPLOADED", checksumSha256: sha256(bytes) });
    // Three parts, two of the attempts failed.
    expect(sent).toHaveLength(5);
  });

  it("gives up after `retries` and rejects with the file's id", async () => {
    watchTransfers(() => new Response("down", { status: 502 }));
    const error = await uploadFile(api, new Blob([randomContent(9 * MiB)]), {
      workspaceId: "default",
      method: "PUT",
      input: { name: "down.bin" },
      retries: 2,
      retryDelayMs: 1,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ code: "HTTP_ERROR", details: { status: 502 } });
    expect((error as UploadError).details.fileId).toEqual(expect.any(String));
  });

  it("removes the pending file when aborted (abortUpload)", async () => {
    const controller = new AbortController();
    let fileId = "";
    watchTransfers((_sent, index) => {
      if (index === 1) controller.abort();
      return undefined;
    });
    const error = await uploadFile(api, new Blob([randomContent(17 * MiB)]), {
      workspaceId: "default",
      method: "MULTIPART",
      input: { name: "aborted.bin" },
      concurrency: 1,
      signal: controller.signal,
      onCreated: (file) => (fileId = file.id),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ABORTED" });
    const { data } = await server.graphql<{ file: unknown }>(`query ($id: ID!) { file(id: $id) { id } }`, {
      id: fileId,
    });
    expect(data.file).toBeNull();
  });

  it("resumes a paused MULTIPART upload, sending only the parts the store lacks", async () => {
    const bytes = randomContent(25 * MiB);
    const controller = new AbortController();
    let fileId = "";
    const first = watchTransfers((_sent, index) => {
      if (index === 2) controller.abort();
      return undefined;
    });
    const paused = await uploadFile(api, new Blob([bytes]), {
      workspaceId: "default",
      method: "MULTIPART",
      input: { name: "resumed.bin" },
      concurrency: 1,
      keepOnAbort: true,
      signal: controller.signal,
      onCreated: (file) => (fileId = file.id),
    }).catch((e: unknown) => e);
    expect(paused).toMatchObject({ code: "ABORTED", details: { fileId } });
    expect(first.sent.map((s) => partNumberOf(s.url))).toEqual([1, 2, 3]);

    const progress: UploadProgress[] = [];
    const second = watchTransfers();
    const file = await resumeUpload(api, fileId, new Blob([bytes]), { onProgress: (p) => progress.push(p) });
    expect(file).toMatchObject({ id: fileId, status: "UPLOADED", checksumSha256: sha256(bytes) });
    expect(second.sent.map((s) => partNumberOf(s.url))).toEqual([3, 4]);
    // Progress starts from the two parts received before the pause.
    expect(progress[0]?.loaded).toBe(16 * MiB);
    expect(progress.at(-1)).toEqual({ loaded: bytes.length, total: bytes.length });
  });

  it("rejects with the typed refusal the API answered", async () => {
    const error = await uploadFile(api, new File(["x"], "a/b.txt"), { workspaceId: "default" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UploadError);
    const refusal = (error as UploadError).details.refusal;
    expect(refusal?.__typename).toBe("ValidationError");
    expect(refusal?.__typename === "ValidationError" && refusal.fieldErrors[0]?.path).toEqual(["input", "name"]);
  });

  it("rejects with UNAUTHENTICATED for a wrong key", async () => {
    const error = await uploadFile({ ...api, headers: { authorization: "Bearer wrong" } }, new Blob(["x"]), {
      workspaceId: "default",
      method: "PUT",
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "UNAUTHENTICATED", details: { status: 401 } });
  });
});

describe("graphql-files/client on every storage driver", () => {
  for (const driver of testDrivers.filter((name) => name !== "local")) {
    it(`uploads MULTIPART and resumes it on ${driver}, taking each part's ETag from the store or the target`, async () => {
      const other = await startServer({}, driver);
      try {
        const otherApi = { url: `${other.url}/graphql`, headers: { authorization: `Bearer ${apiKey}` } };
        const bytes = randomContent(17 * MiB);
        const controller = new AbortController();
        let fileId = "";
        const paused = await uploadFile(otherApi, new Blob([bytes]), {
          workspaceId: "default",
          method: "MULTIPART",
          input: { name: `${driver}.bin` },
          concurrency: 1,
          keepOnAbort: true,
          signal: controller.signal,
          onCreated: (file) => (fileId = file.id),
          onProgress: ({ loaded }) => {
            if (loaded >= 8 * MiB) controller.abort();
          },
        }).catch((e: unknown) => e);
        expect(paused).toMatchObject({ code: "ABORTED" });
        const file = await resumeUpload(otherApi, fileId, new Blob([bytes]));
        expect(file).toMatchObject({
          id: fileId,
          status: "UPLOADED",
          size: bytes.length,
          checksumSha256: sha256(bytes),
        });
      } finally {
        await other.close();
      }
    }, 120_000);
  }
});
