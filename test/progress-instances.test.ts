import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { internalFileId, record, type SubscriptionResult, sseSubscription } from "./helpers/events.js";
import { completeUpload, createFile, type UploadTargetResult } from "./helpers/files.js";
import { randomContent } from "./helpers/samples.js";
import { apiKey, startServer, type TestServer } from "./helpers/server.js";

// The PROGRESS of a MULTIPART upload whose parts a load balancer spreads over two instances on
// one Redis (summed there, throttled across instances), and of one instance alone.

const MiB = 1024 * 1024;
const partSize = 8 * MiB;
/** UPLOAD_PROGRESS_INTERVAL_MS's default. */
const intervalMs = 250;

const redisEnv = {
  REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
  REDIS_KEY_PREFIX: `test-progress-${randomBytes(6).toString("hex")}:`,
};
let a: TestServer;
let b: TestServer;
let solo: TestServer;
beforeAll(async () => {
  a = await startServer(redisEnv);
  b = await startServer({ ...redisEnv, DATABASE_URL: a.database.url, STORAGE_LOCAL_DIR: a.objectsDir });
  solo = await startServer();
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  await solo?.close();
});

interface Seen {
  /** When the event occurred (fileEvents' occurredAt, the publishing instance's clock); uploadProgress does not say. */
  at?: number;
  type: string;
  receivedBytes: number | null;
}

const fileEventsQuery = `subscription ($ids: [ID!]) {
  fileEvents(workspaceId: "default", filter: { fileIds: $ids }) { type receivedBytes occurredAt }
}`;
const uploadProgressQuery = `subscription ($id: ID!) { uploadProgress(fileId: $id) { receivedBytes status } }`;

type FileEventsData = { fileEvents: { type: string; receivedBytes: number | null; occurredAt: string } };
type UploadProgressData = { uploadProgress: { receivedBytes: number; status: string } };

/** What one subscriber receives of a file: fileEvents' types, or uploadProgress' states as PROGRESS (or their status). */
function watch(server: TestServer, subscription: "fileEvents" | "uploadProgress", fileId: string) {
  const results =
    subscription === "fileEvents"
      ? sseSubscription<FileEventsData>(
          server.url,
          fileEventsQuery,
          { ids: [fileId] },
          { authorization: `Bearer ${apiKey}` },
        )
      : sseSubscription<UploadProgressData>(
          server.url,
          uploadProgressQuery,
          { id: fileId },
          { authorization: `Bearer ${apiKey}` },
        );
  const seen: AsyncIterator<Seen> = {
    async next() {
      const next = await results.next();
      if (next.done === true) return { done: true, value: undefined };
      const delivery = next.value as SubscriptionResult<FileEventsData & UploadProgressData>;
      if (delivery.data === undefined) throw new Error(JSON.stringify(delivery.errors));
      if (subscription === "fileEvents") {
        const { type, receivedBytes, occurredAt } = delivery.data.fileEvents;
        return { done: false, value: { at: Date.parse(occurredAt), type, receivedBytes } };
      }
      const { receivedBytes, status } = delivery.data.uploadProgress;
      return { done: false, value: { type: status === "PENDING" ? "PROGRESS" : status, receivedBytes } };
    },
    return: async () => {
      await results.return?.();
      return { done: true, value: undefined };
    },
  };
  return record(seen);
}

/** A MULTIPART upload's parts as URLs on `server` (the same signed path and query: the instances share the signing secret). */
function partUrl(upload: UploadTargetResult, partNumber: number, server: TestServer, origin: TestServer): string {
  const part = upload.parts.find((candidate) => candidate.partNumber === partNumber);
  if (part === undefined) throw new Error(`no URL for part ${partNumber}`);
  expect(part.url.startsWith(origin.url)).toBe(true);
  return server.url + part.url.slice(origin.url.length);
}

/** PUTs a part in `chunks` pieces with a pause between them; returns its ETag. */
async function putPart(url: string, body: Uint8Array, chunks: number, pauseMs: number): Promise<string> {
  const piece = Math.ceil(body.length / chunks);
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (let offset = 0; offset < body.length; offset += piece) {
        controller.enqueue(Uint8Array.from(body.subarray(offset, offset + piece)));
        if (pauseMs > 0) await sleep(pauseMs);
      }
      controller.close();
    },
  });
  const response = await fetch(url, {
    method: "PUT",
    headers: { "content-length": String(body.length) },
    body: stream,
    duplex: "half",
  } as RequestInit);
  expect(response.status).toBe(200);
  return response.headers.get("etag") ?? "";
}

/**
 * The PROGRESS a subscriber saw: each count above the one before, the last the upload's size,
 * and (when it knows when they occurred) no more of them than one per interval over the time
 * they spanned, plus one (and one more for the instances' own clocks: they stamp an event as
 * they build it, Redis spaces the publishes in its own clock).
 */
function expectThrottledProgress(seen: Seen[], size: number): void {
  const progress = seen.filter((event) => event.type === "PROGRESS");
  expect(progress.length).toBeGreaterThan(0);
  const counts = progress.map((event) => event.receivedBytes ?? 0);
  for (let index = 1; index < counts.length; index++) expect(counts[index]).toBeGreaterThan(counts[index - 1]!);
  expect(counts.at(-1)).toBe(size);
  const [first, last] = [progress[0]!.at, progress.at(-1)!.at];
  if (first === undefined || last === undefined) return;
  const span = last - first;
  expect(progress.length).toBeLessThanOrEqual(Math.floor(span / intervalMs) + 2);
}

const abort = (server: TestServer, id: string) =>
  server.graphql(`mutation ($id: ID!) { abortUpload(id: $id) { __typename } }`, { id });

describe("two instances on one Redis", () => {
  it("a MULTIPART upload whose parts go alternately to A and B reports the sum of every part, rising, to subscribers on both", async () => {
    const body = randomContent(5 * partSize + MiB);
    const created = await createFile(a, { name: "spread.bin", size: body.length, uploadMethod: "MULTIPART" });
    const id = created.file!.id;
    const watchers = [
      watch(a, "uploadProgress", id),
      watch(b, "fileEvents", id),
      watch(a, "fileEvents", id),
      watch(b, "uploadProgress", id),
    ];
    await sleep(300);
    const parts = [];
    for (const { partNumber } of created.upload!.parts) {
      const to = partNumber % 2 === 1 ? a : b;
      const bytes = body.subarray((partNumber - 1) * partSize, partNumber * partSize);
      parts.push({ partNumber, etag: await putPart(partUrl(created.upload!, partNumber, to, a), bytes, 4, 60) });
    }
    // The last bytes are reported once the interval has passed, before the completion.
    for (const watcher of watchers) {
      const seen = await watcher.until((event) => event.receivedBytes === body.length);
      expect(seen.at(-1)).toMatchObject({ type: "PROGRESS", receivedBytes: body.length });
    }
    expect((await completeUpload(b, id, parts)).file?.status).toBe("UPLOADED");
    for (const watcher of watchers) {
      const seen = await watcher.until((event) => event.type === "UPLOADED");
      await watcher.stop();
      expect(seen.at(-1)).toMatchObject({ type: "UPLOADED", receivedBytes: body.length });
      expectThrottledProgress(seen.slice(0, -1), body.length);
    }
    // The part counts went with the completion, and a report held back until then does not bring them back.
    await sleep(2 * intervalMs);
    const redis = new Redis(redisEnv.REDIS_URL);
    try {
      expect(await redis.exists(`${redisEnv.REDIS_KEY_PREFIX}upload-progress:${internalFileId(id)}`)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it("many parts sent at once to both instances report at most once per interval across them", async () => {
    const count = 16;
    const block = randomContent(partSize);
    const created = await createFile(a, { name: "burst.bin", size: count * partSize, uploadMethod: "MULTIPART" });
    const id = created.file!.id;
    const watchers = [watch(a, "fileEvents", id), watch(b, "fileEvents", id), watch(b, "uploadProgress", id)];
    await sleep(300);
    await Promise.all(
      created.upload!.parts.map(({ partNumber }) =>
        putPart(partUrl(created.upload!, partNumber, partNumber % 2 === 1 ? a : b, a), block, 1, 0),
      ),
    );
    for (const watcher of watchers) {
      const seen = await watcher.until((event) => event.receivedBytes === count * partSize);
      await watcher.stop();
      expectThrottledProgress(seen, count * partSize);
    }
    await abort(a, id);
  });
});

describe("one instance without Redis", () => {
  it("many parts sent at once report at most once per interval, the last bytes included", async () => {
    const count = 16;
    const block = randomContent(partSize);
    const created = await createFile(solo, { name: "burst.bin", size: count * partSize, uploadMethod: "MULTIPART" });
    const id = created.file!.id;
    const watcher = watch(solo, "fileEvents", id);
    await sleep(300);
    await Promise.all(
      created.upload!.parts.map(({ partNumber }) =>
        putPart(partUrl(created.upload!, partNumber, solo, solo), block, 1, 0),
      ),
    );
    const seen = await watcher.until((event) => event.receivedBytes === count * partSize);
    await watcher.stop();
    expectThrottledProgress(seen, count * partSize);
    await abort(solo, id);
  });
});

describe("Redis unreachable", () => {
  it("a MULTIPART upload still completes, and the failure is logged", async () => {
    // A port nobody listens on.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const logs: Record<string, unknown>[] = [];
    const down = await startServer({ ...redisEnv, REDIS_URL: `redis://127.0.0.1:${port}` }, "local", { logs });
    try {
      const body = randomContent(partSize + MiB);
      const created = await createFile(down, { name: "no-redis.bin", size: body.length, uploadMethod: "MULTIPART" });
      const parts = [];
      for (const { partNumber } of created.upload!.parts) {
        const bytes = body.subarray((partNumber - 1) * partSize, partNumber * partSize);
        parts.push({ partNumber, etag: await putPart(partUrl(created.upload!, partNumber, down, down), bytes, 1, 0) });
      }
      await sleep(2 * intervalMs);
      expect((await completeUpload(down, created.file!.id, parts)).file?.status).toBe("UPLOADED");
      expect(logs.some((line) => String(line.msg).startsWith("MULTIPART part counts could not be summed"))).toBe(true);
    } finally {
      await down.close();
    }
  });
});
