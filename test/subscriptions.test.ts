import { type IncomingMessage, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createApiKey, createWorkspace, grantCategory, revokeApiKey } from "../src/access/admin.js";
import { fileEvent } from "../src/events/file-event.js";
import { internalFileId, record, type SubscriptionResult, slowPut, sseSubscription } from "./helpers/events.js";
import { completeUpload, createFile, putBytes } from "./helpers/files.js";
import { peStub, randomContent } from "./helpers/samples.js";
import { apiKey, startServer, type TestServer } from "./helpers/server.js";

const MiB = 1024 * 1024;

const fileEventsSubscription = `subscription ($workspaceId: ID!, $filter: FileEventFilter) {
  fileEvents(workspaceId: $workspaceId, filter: $filter) { id type occurredAt receivedBytes totalBytes errorCode file { id name status size } }
}`;

interface FileEventResult {
  fileEvents: {
    type: string;
    receivedBytes: number | null;
    totalBytes: number | null;
    errorCode: string | null;
    file: { id: string; name: string; status: string; size: number | null };
  };
}
type Delivery = SubscriptionResult<FileEventResult>;

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** A graphql-ws subscription as an async iterator of results. */
function wsSubscription<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
): AsyncIterableIterator<SubscriptionResult<T>> {
  return client.iterate({ query, variables }) as AsyncIterableIterator<SubscriptionResult<T>>;
}

function wsClient(authorization: string): Client {
  return createClient({
    url: `${server.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization },
    retryAttempts: 0,
  });
}

/** The events of one file, in the order they came. */
const ofFile = (deliveries: Delivery[], id: string) =>
  deliveries.flatMap((delivery) => (delivery.data?.fileEvents.file.id === id ? [delivery.data.fileEvents] : []));

/** A 20 MiB signed PUT, sent slowly enough for several PROGRESS events; returns the file's global id. */
async function bigUpload(): Promise<{ id: string; size: number }> {
  const body = randomContent(20 * MiB);
  const created = await createFile(server, { name: "big.bin", size: body.length });
  expect((await slowPut(created.upload!, body, 20, 60)).status).toBe(200);
  expect((await completeUpload(server, created.file!.id)).__typename).toBe("FilePayload");
  return { id: created.file!.id, size: body.length };
}

function expectUploadSequence(events: FileEventResult["fileEvents"][], size: number): void {
  expect(events[0]).toMatchObject({ type: "CREATED", totalBytes: size, file: { status: "PENDING" } });
  expect(events.at(-1)).toMatchObject({ type: "UPLOADED", receivedBytes: size, file: { status: "UPLOADED", size } });
  const progress = events.slice(1, -1);
  expect(progress.length).toBeGreaterThanOrEqual(3);
  expect(progress.every((event) => event.type === "PROGRESS")).toBe(true);
  const counts = progress.map((event) => event.receivedBytes!);
  for (let i = 1; i < counts.length; i++) expect(counts[i]!).toBeGreaterThan(counts[i - 1]!);
  expect(counts.at(-1)).toBe(size);
}

describe("fileEvents over server-sent events", () => {
  it("sees CREATED, PROGRESS with growing counts up to the size, then UPLOADED for a 20 MiB signed PUT", async () => {
    const stream = record(
      sseSubscription<FileEventResult>(
        server.url,
        fileEventsSubscription,
        { workspaceId: "default" },
        { authorization: `Bearer ${apiKey}` },
      ),
    );
    await sleep(200);
    const { id, size } = await bigUpload();
    await stream.until(
      (delivery) => delivery.data?.fileEvents.type === "UPLOADED" && delivery.data.fileEvents.file.id === id,
    );
    await stream.stop();
    expectUploadSequence(ofFile(stream.items, id), size);
  });

  it("sees FAILED with UNSUPPORTED_MEDIA_TYPE for an executable", async () => {
    const filter = { types: ["FAILED"] };
    const stream = record(
      sseSubscription<FileEventResult>(
        server.url,
        fileEventsSubscription,
        { workspaceId: "default", filter },
        { authorization: `Bearer ${apiKey}` },
      ),
    );
    await sleep(200);
    const created = await createFile(server, { name: "tool.bin", size: peStub().length });
    await putBytes(created.upload!, peStub());
    await completeUpload(server, created.file!.id);
    await stream.until((delivery) => delivery.data?.fileEvents.type === "FAILED");
    await stream.stop();
    expect(ofFile(stream.items, created.file!.id)).toEqual([
      expect.objectContaining({
        type: "FAILED",
        errorCode: "UNSUPPORTED_MEDIA_TYPE",
        file: expect.objectContaining({ status: "FAILED" }),
      }),
    ]);
  });
});

describe("fileEvents over graphql-ws", () => {
  it("sees CREATED, PROGRESS with growing counts up to the size, then UPLOADED for a 20 MiB signed PUT", async () => {
    const client = wsClient(`Bearer ${apiKey}`);
    const stream = record(wsSubscription<FileEventResult>(client, fileEventsSubscription, { workspaceId: "default" }));
    await sleep(300);
    const { id, size } = await bigUpload();
    await stream.until(
      (delivery) => delivery.data?.fileEvents.type === "UPLOADED" && delivery.data.fileEvents.file.id === id,
    );
    await stream.stop();
    await client.dispose();
    expectUploadSequence(ofFile(stream.items, id), size);
  });

  it("sees FAILED with UNSUPPORTED_MEDIA_TYPE for an executable", async () => {
    const client = wsClient(`Bearer ${apiKey}`);
    const stream = record(
      wsSubscription<FileEventResult>(client, fileEventsSubscription, {
        workspaceId: "default",
        filter: { types: ["FAILED"] },
      }),
    );
    await sleep(300);
    const created = await createFile(server, { name: "tool.bin", size: peStub().length });
    await putBytes(created.upload!, peStub());
    await completeUpload(server, created.file!.id);
    await stream.until((delivery) => delivery.data?.fileEvents.type === "FAILED");
    await stream.stop();
    await client.dispose();
    expect(ofFile(stream.items, created.file!.id)).toMatchObject([
      { type: "FAILED", errorCode: "UNSUPPORTED_MEDIA_TYPE" },
    ]);
  });

  it("refuses a connection whose key is not valid", async () => {
    const client = wsClient("Bearer not-a-key");
    const stream = record(wsSubscription<FileEventResult>(client, fileEventsSubscription, { workspaceId: "default" }));
    const closed = await stream.until(() => false, 3000);
    await client.dispose();
    expect(closed).toEqual([]);
  });
});

describe("uploadProgress", () => {
  const progressSubscription = `subscription ($fileId: ID!) { uploadProgress(fileId: $fileId) { fileId receivedBytes totalBytes status } }`;
  type Progress = {
    uploadProgress: { fileId: string; receivedBytes: number; totalBytes: number | null; status: string };
  };

  it("reports growing counts of one upload and ends with UPLOADED", async () => {
    const body = randomContent(8 * MiB);
    const created = await createFile(server, { name: "watched.bin", size: body.length });
    const stream = record(
      sseSubscription<Progress>(
        server.url,
        progressSubscription,
        { fileId: created.file!.id },
        { authorization: `Bearer ${apiKey}` },
      ),
    );
    await sleep(200);
    await slowPut(created.upload!, body, 16, 60);
    await completeUpload(server, created.file!.id);
    const all = await stream.until((delivery) => delivery.data?.uploadProgress.status === "UPLOADED");
    const states = all.map((delivery) => delivery.data!.uploadProgress);
    expect(states.length).toBeGreaterThanOrEqual(3);
    expect(states.every((state) => state.fileId === created.file!.id && state.totalBytes === body.length)).toBe(true);
    const counts = states.map((state) => state.receivedBytes);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(states.at(-1)).toMatchObject({ status: "UPLOADED", receivedBytes: body.length });
    // The stream completes after the last state.
    await sleep(200);
    expect(stream.items.length).toBe(all.length);
    await stream.stop();
  });

  it("reports a file already uploaded once, and completes", async () => {
    const created = await createFile(server, { name: "done.txt", content: Buffer.from("done").toString("base64") });
    const results = sseSubscription<Progress>(
      server.url,
      progressSubscription,
      { fileId: created.file!.id },
      { authorization: `Bearer ${apiKey}` },
    );
    expect((await results.next()).value?.data?.uploadProgress).toMatchObject({
      status: "UPLOADED",
      receivedBytes: 4,
      totalBytes: 4,
    });
    expect((await results.next()).done).toBe(true);
  });
});

/** A new file's row as the bus publishes it (with its labels), to publish events of by hand. */
async function storedFile(name: string) {
  const created = await createFile(server, { name, content: Buffer.from(name).toString("base64") });
  return server.app.db.file.findUniqueOrThrow({
    where: { id: internalFileId(created.file!.id) },
    include: { labels: { select: { label: true } } },
  });
}

/** An SSE subscription's response as a Node.js stream, so that a test can stop and resume reading it. */
function rawEventStream(query: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${apiKey}` },
    });
    req.once("response", resolve).once("error", reject);
    req.end(JSON.stringify({ query }));
  });
}

describe("a subscriber that stops reading", () => {
  it("has its stream ended with EVENTS_DROPPED once 1000 events wait for it, and the server goes on", async () => {
    const row = await storedFile("busy.txt");
    // Large events fill the connection's buffers after a few hundred.
    const large = { ...row, description: "d".repeat(16_384) };
    const stalled = await rawEventStream(
      `subscription { fileEvents(workspaceId: "default") { type file { id description } } }`,
    );
    stalled.pause();
    await sleep(200);
    // Yoga's pub/sub would throw (uncaught) past 1024 events queued for one subscription.
    for (let sent = 0; sent < 3000; sent++) {
      server.app.events.publish(fileEvent("UPDATED", large));
      if (sent % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    let text = "";
    stalled.setEncoding("utf8");
    stalled.on("data", (chunk: string) => {
      text += chunk.length > 200 ? chunk.slice(-200) : chunk;
    });
    stalled.resume();
    await new Promise((resolve) => stalled.once("end", resolve));
    expect(text).toContain('"code":"EVENTS_DROPPED"');
    expect(text).toContain("event: complete");
  });
});

describe("server-sent events on a socket that backs up", () => {
  it("arrive whole and in order, whether written as they come or queued behind the stalled socket", async () => {
    const row = await storedFile("order.txt");
    const reader = await rawEventStream(
      `subscription { fileEvents(workspaceId: "default") { file { name description } } }`,
    );
    const events = 400;
    const description = "d".repeat(16_384);
    const names: string[] = [];
    let text = "";
    reader.setEncoding("utf8");
    reader.on("data", (chunk: string) => {
      text += chunk;
      for (let end = text.indexOf("\n\n"); end !== -1; end = text.indexOf("\n\n")) {
        const data = /^data: (.+)$/m.exec(text.slice(0, end));
        if (data !== null) names.push(JSON.parse(data[1]!).data.fileEvents.file.name);
        text = text.slice(end + 2);
      }
    });
    await sleep(200);
    // The first events go to the socket as they come, then it fills (nobody reads), and the rest
    // wait in the stream until it drains.
    reader.pause();
    for (let sent = 0; sent < events; sent++) {
      server.app.events.publish(fileEvent("UPDATED", { ...row, name: `n${sent}`, description }));
      if (sent % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
    }
    reader.resume();
    for (let waited = 0; names.length < events && waited < 200; waited++) await sleep(50);
    reader.destroy();
    expect(names).toEqual(Array.from({ length: events }, (_, i) => `n${i}`));
  });
});

describe("who sees what", () => {
  let outsiderKey: string;
  let readerKey: string;
  beforeAll(async () => {
    await createWorkspace(server.app.db, "outside");
    outsiderKey = await createApiKey(server.app.db, "outside", "ADMIN");
    readerKey = await createApiKey(server.app.db, "default", "READER");
  });

  it("answers NOT_FOUND for a workspace the caller cannot read, over both transports", async () => {
    const sse = (
      await sseSubscription<FileEventResult>(
        server.url,
        fileEventsSubscription,
        { workspaceId: "default" },
        { authorization: `Bearer ${outsiderKey}` },
      ).next()
    ).value;
    expect(sse?.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const client = wsClient(`Bearer ${outsiderKey}`);
    const ws = await wsSubscription<FileEventResult>(client, fileEventsSubscription, { workspaceId: "default" }).next();
    expect(ws.value?.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    await client.dispose();
  });

  it("sends nothing of another workspace's files", async () => {
    const stream = record(
      sseSubscription<FileEventResult>(
        server.url,
        fileEventsSubscription,
        { workspaceId: "outside" },
        { authorization: `Bearer ${outsiderKey}` },
      ),
    );
    await sleep(200);
    await createFile(server, { name: "secret.txt", content: Buffer.from("secret").toString("base64") });
    const own = await server.graphql(
      `mutation { createFile(input: { workspaceId: "outside", name: "mine.txt", content: "bWluZQ==" }) { __typename } }`,
      {},
      { authorization: `Bearer ${outsiderKey}` },
    );
    expect(own.errors).toBeUndefined();
    await stream.until((delivery) => delivery.data?.fileEvents.type === "UPLOADED");
    await stream.stop();
    const names = stream.items.map((delivery) => delivery.data?.fileEvents.file.name);
    expect(names).toContain("mine.txt");
    expect(names).not.toContain("secret.txt");
  });

  it("stops a subscriber whose key is revoked, with UNAUTHENTICATED", async () => {
    const stream = record(
      sseSubscription<FileEventResult>(
        server.url,
        fileEventsSubscription,
        { workspaceId: "default" },
        { authorization: `Bearer ${readerKey}` },
      ),
    );
    await sleep(200);
    await createFile(server, { name: "before.txt", content: Buffer.from("before").toString("base64") });
    await stream.until(
      (delivery) =>
        delivery.data?.fileEvents.file.name === "before.txt" && delivery.data.fileEvents.type === "UPLOADED",
    );
    expect(await revokeApiKey(server.app.db, readerKey)).toBe(true);
    // Access once checked holds for a second (src/app.ts, SUBSCRIBER_RECHECK_MS).
    await sleep(1100);
    await createFile(server, { name: "after.txt", content: Buffer.from("after").toString("base64") });
    const all = await stream.until((delivery) => delivery.errors !== undefined, 5000);
    const names = all.map((delivery) => delivery.data?.fileEvents?.file.name);
    expect(names).toContain("before.txt");
    expect(names).not.toContain("after.txt");
    expect(all.at(-1)?.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    // The stream is over: nothing more arrives.
    await createFile(server, { name: "later.txt", content: Buffer.from("later").toString("base64") });
    await sleep(300);
    expect(stream.items.length).toBe(all.length);
  });

  it("sends a file with security categories only to subscribers holding every one of them", async () => {
    await createWorkspace(server.app.db, "vault");
    const holder = await createApiKey(server.app.db, "vault", "WRITER", "vault-holder");
    await grantCategory(server.app.db, "vault", 7, { keyLabel: "vault-holder" });
    const plain = await createApiKey(server.app.db, "vault", "READER", "vault-plain");
    const subscribe = (key: string) =>
      record(
        sseSubscription<FileEventResult>(
          server.url,
          fileEventsSubscription,
          { workspaceId: "vault" },
          { authorization: `Bearer ${key}` },
        ),
      );
    const holding = subscribe(holder);
    const without = subscribe(plain);
    await sleep(300);
    const as = (name: string, categories: number[]) =>
      server.graphql(
        `mutation ($input: CreateFileInput!) { createFile(input: $input) { __typename } }`,
        {
          input: {
            workspaceId: "vault",
            name,
            securityCategories: categories,
            content: Buffer.from(name).toString("base64"),
          },
        },
        { authorization: `Bearer ${holder}` },
      );
    expect((await as("secret.txt", [7])).data).toEqual({ createFile: { __typename: "CreateFilePayload" } });
    await as("open.txt", []);
    const seen = await holding.until(
      (delivery) => delivery.data?.fileEvents.file.name === "open.txt" && delivery.data.fileEvents.type === "UPLOADED",
    );
    const unseen = await without.until(
      (delivery) => delivery.data?.fileEvents.file.name === "open.txt" && delivery.data.fileEvents.type === "UPLOADED",
    );
    await holding.stop();
    await without.stop();
    expect(seen.map((delivery) => delivery.data?.fileEvents.file.name)).toContain("secret.txt");
    const names = unseen.map((delivery) => delivery.data?.fileEvents.file.name);
    expect(names).toContain("open.txt");
    expect(names).not.toContain("secret.txt");
  });

  it("computes an event's result once for subscribers with the same access, and apart for those with other access", async () => {
    // File.upload is a signed target for a caller who may write, null for a reader: the same
    // document and variables give different results with different access. Subscribed in the
    // order writer, reader, writer, so a shared result computed for the first writer would reach
    // the reader if access were not part of what decides the sharing.
    await createWorkspace(server.app.db, "shared-results");
    const writer = await createApiKey(server.app.db, "shared-results", "WRITER", "shared-writer");
    const reader = await createApiKey(server.app.db, "shared-results", "READER", "shared-reader");
    const document = `subscription ($workspaceId: ID!) {
      fileEvents(workspaceId: $workspaceId) { type file { name upload { method } } }
    }`;
    type Seen = { fileEvents: { type: string; file: { name: string; upload: { method: string } | null } } };
    const subscribe = (key: string) =>
      record(
        sseSubscription<Seen>(
          server.url,
          document,
          { workspaceId: "shared-results" },
          { authorization: `Bearer ${key}` },
        ),
      );
    const first = subscribe(writer);
    await sleep(100);
    const reading = subscribe(reader);
    await sleep(100);
    const second = subscribe(writer);
    await sleep(300);
    const created = await server.graphql(
      `mutation ($input: CreateFileInput!) { createFile(input: $input) { __typename } }`,
      { input: { workspaceId: "shared-results", name: "pending.bin", size: 10 } },
      { authorization: `Bearer ${writer}` },
    );
    expect(created.data).toEqual({ createFile: { __typename: "CreateFilePayload" } });
    const createdEvent = (delivery: SubscriptionResult<Seen>) => delivery.data?.fileEvents.type === "CREATED";
    const [asWriter, asReader, asWriterAgain] = await Promise.all(
      [first, reading, second].map(async (stream) => (await stream.until(createdEvent)).find(createdEvent)),
    );
    for (const stream of [first, reading, second]) await stream.stop();
    expect(asWriter?.data?.fileEvents.file).toEqual({ name: "pending.bin", upload: { method: "PUT" } });
    expect(asWriterAgain?.data).toEqual(asWriter?.data);
    expect(asReader?.data?.fileEvents.file).toEqual({ name: "pending.bin", upload: null });
  });
});

describe("an unexpected error inside a subscription event", () => {
  it("reaches an SSE and a graphql-ws subscriber masked, and is logged once for both", async () => {
    const logs: Record<string, unknown>[] = [];
    const logged = await startServer({}, "local", { logs });
    const client = createClient({
      url: `${logged.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${apiKey}` },
      retryAttempts: 0,
    });
    try {
      // The same document, variables and key: both subscribers share one result of each event.
      const document = `subscription ($workspaceId: ID!) { fileEvents(workspaceId: $workspaceId) { type file { name metadata } } }`;
      const variables = { workspaceId: "default" };
      type Seen = { fileEvents: { type: string; file: { name: string; metadata: unknown } | null } | null };
      const sse = record(sseSubscription<Seen>(logged.url, document, variables, { authorization: `Bearer ${apiKey}` }));
      const ws = record(wsSubscription<Seen>(client, document, variables));
      await sleep(300);
      const created = await createFile(logged, { name: "broken.txt", content: Buffer.from("b").toString("base64") });
      const row = await logged.app.db.file.findUniqueOrThrow({
        where: { id: internalFileId(created.file!.id) },
        include: { labels: { select: { label: true } } },
      });
      // A snapshot File.metadata cannot read: resolving it throws a SyntaxError, a fault of ours.
      logged.app.events.publish(fileEvent("UPDATED", { ...row, metadata: "{not json" }));
      logged.app.events.publish(fileEvent("UPDATED", row));
      const failed = (delivery: SubscriptionResult<Seen>) => delivery.errors !== undefined;
      const readable = (delivery: SubscriptionResult<Seen>) =>
        delivery.errors === undefined && delivery.data?.fileEvents?.type === "UPDATED";
      const [viaSse, viaWs] = await Promise.all([sse.until(readable), ws.until(readable)]);
      await Promise.all([sse.stop(), ws.stop()]);
      for (const delivery of [viaSse.find(failed), viaWs.find(failed)]) {
        expect(delivery?.errors).toEqual([
          expect.objectContaining({ message: "Unexpected error.", extensions: { code: "INTERNAL_SERVER_ERROR" } }),
        ]);
        expect(JSON.stringify(delivery)).not.toMatch(/JSON|position|not json/);
      }
      // Masked once per shared result, not once per subscriber.
      expect(logs.filter((line) => line.msg === "unexpected error")).toHaveLength(1);
      // The streams go on after it: the next event reaches both, after the masked one.
      for (const deliveries of [viaSse, viaWs])
        expect(deliveries.findIndex(failed)).toBeLessThan(deliveries.findIndex(readable));
    } finally {
      await client.dispose();
      await logged.close();
    }
  });
});
