import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "../src/db/client.js";
import { type FileEvent, fileEvent } from "../src/events/file-event.js";
import { OutboxTransactions } from "../src/events/outbox.js";
import { updateFileIn } from "../src/files/overwrite.js";
import { requestScope } from "../src/logger.js";
import { busEvents, internalFileId, record, slowPut } from "./helpers/events.js";
import { completeUpload, createFile, putBytes } from "./helpers/files.js";
import { peStub, randomContent } from "./helpers/samples.js";
import { startServer, type TestServer } from "./helpers/server.js";

// The events the file service emits, read from the bus the subscriptions and webhooks use.

let server: TestServer;
let workspaceId: string;
beforeAll(async () => {
  server = await startServer();
  workspaceId = (await server.app.db.workspace.findUniqueOrThrow({ where: { slug: "default" } })).id;
});
afterAll(() => server.close());

const MiB = 1024 * 1024;
const ofFile = (id: string) => (event: FileEvent) => event.file.id === id;

describe("file events", () => {
  it("reach a listener in the context it listened in, not the uploading request's (its requestId is not the listener's)", async () => {
    const seen: (string | undefined)[] = [];
    const unlisten = requestScope.run({ requestId: "listener" }, () =>
      server.app.events.listen(workspaceId, () => seen.push(requestScope.getStore()?.requestId)),
    );
    try {
      await createFile(server, { name: "context.txt", content: Buffer.from("context").toString("base64") });
    } finally {
      unlisten();
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(["listener"]));
  });

  it("a signed PUT of 20 MiB: CREATED, PROGRESS with growing counts ending at the size, then UPLOADED", async () => {
    const events = record(busEvents(server.app.events, workspaceId));
    const body = randomContent(20 * MiB);
    const created = await createFile(server, { name: "big.bin", size: body.length });
    const put = await slowPut(created.upload!, body, 20, 60);
    expect(put.status).toBe(200);
    expect((await completeUpload(server, created.file!.id)).__typename).toBe("FilePayload");
    const id = internalFileId(created.file!.id);
    const seen = (await events.until((event) => event.type === "UPLOADED" && event.file.id === id)).filter(ofFile(id));
    await events.stop();

    expect(seen[0]).toMatchObject({
      type: "CREATED",
      workspaceId,
      upload: { method: "PUT", driver: "local", totalBytes: body.length },
    });
    expect(seen.at(-1)).toMatchObject({
      type: "UPLOADED",
      file: { status: "UPLOADED", size: body.length },
      upload: { method: "PUT", driver: "local", receivedBytes: body.length, durationMs: expect.any(Number) },
    });
    const progress = seen.slice(1, -1);
    expect(progress.every((event) => event.type === "PROGRESS")).toBe(true);
    const counts = progress.map((event) => event.upload!.receivedBytes!);
    expect(counts.length).toBeGreaterThanOrEqual(3);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(new Set(counts).size).toBe(counts.length);
    expect(counts.at(-1)).toBe(body.length);
  });

  it("reports at most about 4 PROGRESS events a second for one upload", async () => {
    const events = record(busEvents(server.app.events, workspaceId));
    const body = randomContent(4 * MiB);
    const created = await createFile(server, { name: "steady.bin", size: body.length });
    const started = Date.now();
    await slowPut(created.upload!, body, 100, 15);
    const seconds = (Date.now() - started) / 1000;
    const id = internalFileId(created.file!.id);
    const seen = await events.until(
      (event) => event.type === "PROGRESS" && event.upload!.receivedBytes === body.length,
    );
    await events.stop();
    const progress = seen.filter((event) => event.type === "PROGRESS" && event.file.id === id);
    // One every 250 ms, plus the last when the body ends.
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 1);
    expect(progress.length).toBeGreaterThanOrEqual(2);
  });

  it("reports a body's first PROGRESS an interval after it starts, or when it ends, not with its first chunk", async () => {
    const events = record(busEvents(server.app.events, workspaceId));
    const body = randomContent(MiB);
    const created = await createFile(server, { name: "brief.bin", size: body.length });
    const started = Date.now();
    expect((await slowPut(created.upload!, body, 4, 40)).status).toBe(200);
    const id = internalFileId(created.file!.id);
    const seen = await events.until(
      (event) => event.type === "PROGRESS" && event.file.id === id && event.upload!.receivedBytes === body.length,
    );
    await events.stop();
    const progress = seen.filter((event) => event.type === "PROGRESS" && event.file.id === id);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    // The interval is 250 ms; a few ms less for the clocks of two processes on one machine.
    for (const event of progress)
      if (event.upload!.receivedBytes !== body.length)
        expect(Date.parse(event.occurredAt) - started).toBeGreaterThanOrEqual(240);
  });

  it("an executable: FAILED with UNSUPPORTED_MEDIA_TYPE and the file FAILED", async () => {
    const events = record(busEvents(server.app.events, workspaceId));
    const body = peStub();
    const created = await createFile(server, { name: "tool.bin", size: body.length });
    await putBytes(created.upload!, body);
    expect((await completeUpload(server, created.file!.id)).__typename).toBe("UnsupportedMediaTypeError");
    const id = internalFileId(created.file!.id);
    const seen = (await events.until((event) => event.type === "FAILED")).filter(ofFile(id));
    await events.stop();
    expect(seen.at(-1)).toMatchObject({
      type: "FAILED",
      file: { status: "FAILED" },
      upload: { errorCode: "UNSUPPORTED_MEDIA_TYPE", method: "PUT" },
    });
  });

  it("bytes in the request: CREATED, then UPLOADED naming the channel", async () => {
    const events = record(busEvents(server.app.events, workspaceId));
    const result = await createFile(server, { name: "inline.txt", content: Buffer.from("hello").toString("base64") });
    const id = internalFileId(result.file!.id);
    const seen = (await events.until((event) => event.type === "UPLOADED")).filter(ofFile(id));
    await events.stop();
    expect(seen.map((event) => event.type)).toEqual(["CREATED", "PROGRESS", "UPLOADED"]);
    expect(seen[2]!.upload).toMatchObject({ method: "CONTENT", driver: "local", receivedBytes: 5 });
  });

  it("an executable in the request: FAILED, and no file", async () => {
    const events = record(busEvents(server.app.events, workspaceId));
    const result = await createFile(server, { name: "tool.exe", content: peStub().toString("base64") });
    expect(result.__typename).toBe("UnsupportedMediaTypeError");
    const seen = await events.until((event) => event.type === "FAILED");
    await events.stop();
    expect(seen.at(-1)).toMatchObject({
      type: "FAILED",
      upload: { method: "CONTENT", errorCode: "UNSUPPORTED_MEDIA_TYPE" },
    });
    expect(await server.app.db.file.findUnique({ where: { id: seen.at(-1)!.file.id } })).toBeNull();
  });

  it("UPDATED, DELETED and UPLOAD_ABORTED carry the file", async () => {
    const events = record(busEvents(server.app.events, workspaceId));
    const kept = await createFile(server, { name: "a.txt", content: Buffer.from("a").toString("base64") });
    const pending = await createFile(server, { name: "b.txt", size: 1 });
    await server.graphql(`mutation ($id: ID!) { updateFile(input: { id: $id, name: "renamed.txt" }) { __typename } }`, {
      id: kept.file!.id,
    });
    await server.graphql(`mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`, { id: kept.file!.id });
    await server.graphql(`mutation ($id: ID!) { abortUpload(id: $id) { __typename } }`, { id: pending.file!.id });
    const seen = await events.until((event) => event.type === "UPLOAD_ABORTED");
    await events.stop();
    const later = seen.filter((event) => ["UPDATED", "DELETED", "UPLOAD_ABORTED"].includes(event.type));
    expect(later.map((event) => [event.type, event.file.id])).toEqual([
      ["UPDATED", internalFileId(kept.file!.id)],
      ["DELETED", internalFileId(kept.file!.id)],
      ["UPLOAD_ABORTED", internalFileId(pending.file!.id)],
    ]);
    expect(later[0]!.file.name).toBe("renamed.txt");
  });
});

describe("file events of an overwrite", () => {
  it("bytes in the request replacing a file's content: UPLOADED for the same file, no CREATED", async () => {
    const first = await createFile(server, {
      name: "report.txt",
      externalId: "report",
      content: Buffer.from("v1").toString("base64"),
    });
    const events = record(busEvents(server.app.events, workspaceId));
    const second = await createFile(server, {
      name: "report.txt",
      externalId: "report",
      overwrite: true,
      content: Buffer.from("v2!").toString("base64"),
    });
    expect(second.file!.id).toBe(first.file!.id);
    const seen = await events.until((event) => event.type === "UPLOADED");
    await events.stop();
    expect(seen.map((event) => [event.type, event.file.id, event.file.size])).toEqual([
      ["UPLOADED", internalFileId(first.file!.id), 3],
    ]);
  });

  it("a pending overwrite: UPDATED when it starts, PROGRESS and UPLOADED of the same file", async () => {
    const first = await createFile(server, {
      name: "doc.txt",
      externalId: "doc",
      content: Buffer.from("old").toString("base64"),
    });
    const id = internalFileId(first.file!.id);
    const events = record(busEvents(server.app.events, workspaceId));
    const body = Buffer.from("new content");
    const pending = await createFile(server, {
      name: "doc.txt",
      externalId: "doc",
      overwrite: true,
      size: body.length,
    });
    await putBytes(pending.upload!, body);
    expect((await completeUpload(server, first.file!.id)).__typename).toBe("FilePayload");
    const seen = await events.until((event) => event.type === "UPLOADED");
    await events.stop();
    expect(seen.map((event) => [event.type, event.file.id])).toEqual([
      ["UPDATED", id],
      ["PROGRESS", id],
      ["UPLOADED", id],
    ]);
    expect(seen.at(-1)!.file.size).toBe(body.length);
  });
});

describe("file events of an overwrite's pending upload", () => {
  it("an expired pending overwrite: UPLOAD_ABORTED with EXPIRED under the file's id, and the file stays", async () => {
    const first = await createFile(server, {
      name: "kept.txt",
      externalId: "kept",
      content: Buffer.from("old").toString("base64"),
    });
    const id = internalFileId(first.file!.id);
    const pending = await createFile(server, { name: "kept.txt", externalId: "kept", overwrite: true, size: 3 });
    expect(pending.file!.id).toBe(first.file!.id);
    const events = record(busEvents(server.app.events, workspaceId));
    const ttl = Number(process.env.PENDING_UPLOAD_TTL ?? 86_400);
    await server.app.sweeper.sweep(new Date(Date.now() + (ttl + 60) * 1000));
    const aborted = (event: FileEvent) => event.type === "UPLOAD_ABORTED" && event.file.id === id;
    const seen = await events.until(aborted);
    await events.stop();
    // The sweep removes other expired uploads too (earlier tests'): their events name their own files.
    expect(seen.find(aborted)).toMatchObject({
      type: "UPLOAD_ABORTED",
      file: { id, pendingForId: null, status: "UPLOADED", size: 3 },
      upload: { method: "PUT", errorCode: "EXPIRED" },
    });
    expect(await server.app.db.file.count({ where: { pendingForId: id } })).toBe(0);
  });

  it("a pending overwrite refused as an executable, then one aborted: FAILED and UPLOAD_ABORTED under the file's id", async () => {
    const first = await createFile(server, {
      name: "tool.txt",
      externalId: "tool",
      content: Buffer.from("text").toString("base64"),
    });
    const id = internalFileId(first.file!.id);
    const events = record(busEvents(server.app.events, workspaceId));
    const body = peStub();
    const refused = await createFile(server, {
      name: "tool.txt",
      externalId: "tool",
      overwrite: true,
      size: body.length,
    });
    await putBytes(refused.upload!, body);
    expect((await completeUpload(server, first.file!.id)).__typename).toBe("UnsupportedMediaTypeError");
    await createFile(server, { name: "tool.txt", externalId: "tool", overwrite: true, size: 1 });
    await server.graphql(`mutation ($id: ID!) { abortUpload(id: $id) { __typename } }`, { id: first.file!.id });
    const seen = await events.until((event) => event.type === "UPLOAD_ABORTED" && event.file.id === id);
    await events.stop();
    const ended = seen.filter((event) => event.type === "FAILED" || event.type === "UPLOAD_ABORTED");
    expect(ended).toMatchObject([
      { type: "FAILED", file: { id, status: "UPLOADED" }, upload: { errorCode: "UNSUPPORTED_MEDIA_TYPE" } },
      { type: "UPLOAD_ABORTED", file: { id, status: "UPLOADED" } },
    ]);
    expect(seen.every((event) => event.file.id === id && event.file.pendingForId === null)).toBe(true);
  });
});

describe("events of a change whose transaction is retried", () => {
  it("publishes and writes to the outbox each event of the attempt that committed, once", async () => {
    const file = await createFile(server, { name: "retried.txt", content: Buffer.from("r").toString("base64") });
    const id = internalFileId(file.file!.id);
    const webhook = await server.app.db.webhook.create({
      data: { id: randomUUID(), workspaceId, url: "http://127.0.0.1:9/never", events: "UPDATED", secret: "whsec_x" },
    });
    const published: FileEvent[] = [];
    const transactions = new OutboxTransactions({
      db: server.app.db,
      events: { publish: (event) => published.push(event) },
    });
    let attempts = 0;
    const renamed = await transactions.run(
      workspaceId,
      async (tx, recordEvent) => {
        attempts += 1;
        const updated = await updateFileIn(tx, id, { name: `retried-${attempts}.txt` }, undefined);
        await recordEvent(fileEvent("UPDATED", updated));
        // The first attempt loses a write conflict after recording its event: the database rolls it back.
        if (attempts === 1)
          throw new Prisma.PrismaClientKnownRequestError("write conflict", { code: "P2034", clientVersion: "test" });
        return updated;
      },
      () => new Error("busy"),
    );
    const deliveries = await server.app.db.webhookDelivery.findMany({ where: { webhookId: webhook.id } });
    await server.app.db.webhook.delete({ where: { id: webhook.id } });
    expect(deliveries.map((delivery) => JSON.parse(delivery.payload).file.name)).toEqual(["retried-2.txt"]);
    expect(attempts).toBe(2);
    expect(renamed.name).toBe("retried-2.txt");
    expect(published.map((event) => [event.type, event.file.name])).toEqual([["UPDATED", "retried-2.txt"]]);
  });
});

describe("file events on S3, where the bytes bypass the server", () => {
  let s3: TestServer;
  beforeAll(async () => {
    s3 = await startServer({}, "s3");
  });
  afterAll(() => s3.close());

  it("a MULTIPART upload's PROGRESS comes from the parts listed when File.upload is asked", async () => {
    const s3Workspace = (await s3.app.db.workspace.findUniqueOrThrow({ where: { slug: "default" } })).id;
    const events = record(busEvents(s3.app.events, s3Workspace));
    const partSize = 8 * MiB;
    const body = randomContent(partSize + 1000);
    const created = await createFile(s3, { name: "remote.bin", size: body.length, uploadMethod: "MULTIPART" });
    const first = created.upload!.parts[0]!;
    const sent = await fetch(first.url, {
      method: "PUT",
      headers: Object.fromEntries(first.headers.map((h) => [h.name, h.value])),
      body: Uint8Array.from(body.subarray(0, partSize)),
    });
    expect(sent.ok).toBe(true);
    const asked = await s3.graphql<{ file: { upload: { receivedParts: { size: number }[] } } }>(
      `query ($id: ID!) { file(id: $id) { upload { receivedParts { size } } } }`,
      { id: created.file!.id },
    );
    expect(asked.data.file.upload.receivedParts).toEqual([{ size: partSize }]);
    const seen = await events.until((event) => event.type === "PROGRESS");
    await events.stop();
    expect(
      seen.filter(ofFile(internalFileId(created.file!.id))).map((event) => [event.type, event.upload?.receivedBytes]),
    ).toEqual([
      ["CREATED", undefined],
      ["PROGRESS", partSize],
    ]);
  });
});
