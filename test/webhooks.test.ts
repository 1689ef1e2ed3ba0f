import type { ChildProcess } from "node:child_process";

import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Webhook as Verifier } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiKey, grantCategory } from "../src/access/admin.js";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { createFile, createFileMutation, type MutationResult, uploadFile } from "./helpers/files.js";
import { root, startMain } from "./helpers/main-process.js";
import { randomContent } from "./helpers/samples.js";
import { apiKey, startServer, type TestServer } from "./helpers/server.js";
import { type Received, WebhookReceiver } from "./helpers/webhook-receiver.js";

/**
 * Loopback receivers are allowed; retries come fast and the outbox is looked at often. Receivers
 * keep the default 10 s to answer: on a loaded machine a shorter limit retries deliveries that
 * did arrive, which is correct (at least once) but not what the exactly-once test counts.
 */
const webhookEnv = {
  WEBHOOK_ALLOWED_HOSTS: "127.0.0.1",
  WEBHOOK_RETRY_BASE_MS: "200",
  WEBHOOK_POLL_INTERVAL_MS: "100",
};
const allEvents = ["CREATED", "UPLOADED", "FAILED", "UPDATED", "DELETED", "UPLOAD_ABORTED"];

const createWebhookMutation = `mutation ($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    __typename
    ... on CreateWebhookPayload { secret webhook { id url events } }
    ... on ValidationError { fieldErrors { path message } }
    ... on Error { message code }
  }
}`;

async function createWebhook(
  server: TestServer,
  url: string,
  extra: Record<string, unknown> = {},
  headers?: Record<string, string>,
) {
  const response = await server.graphql<{
    createWebhook: {
      __typename: string;
      secret?: string;
      webhook?: { id: string };
      fieldErrors?: unknown[];
      code?: string;
    };
  }>(createWebhookMutation, { input: { workspaceId: "default", url, events: allEvents, ...extra } }, headers);
  return response;
}

/** The event types each file's deliveries came in, in arrival order. */
function typesByFile(received: Received[]): Map<string, string[]> {
  const byFile = new Map<string, string[]>();
  for (const { event } of received) byFile.set(event.file.id, [...(byFile.get(event.file.id) ?? []), event.type]);
  return byFile;
}

describe("webhooks on one instance", () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let webhookId: string;
  beforeEach(async () => {
    receiver = new WebhookReceiver();
    await receiver.up();
    server = await startServer(webhookEnv);
    const created = await createWebhook(server, receiver.url);
    expect(created.data.createWebhook.__typename).toBe("CreateWebhookPayload");
    webhookId = created.data.createWebhook.webhook!.id;
    (server as TestServer & { secret?: string }).secret = created.data.createWebhook.secret;
  });
  afterEach(async () => {
    await server.close();
    await receiver.down();
  });

  it("delivers each event once with a valid Standard Webhooks signature", async () => {
    const secret = (server as TestServer & { secret?: string }).secret!;
    expect(secret).toMatch(/^whsec_/);
    const file = await uploadFile(server, { name: "hello.txt", size: 5 }, Buffer.from("hello"));
    await server.graphql(`mutation ($id: ID!) { updateFile(input: { id: $id, name: "renamed.txt" }) { __typename } }`, {
      id: file.id,
    });
    await server.graphql(`mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`, { id: file.id });
    const received = await receiver.waitFor(4);
    await sleep(300);
    expect(receiver.received.map((request) => request.event.type)).toEqual([
      "CREATED",
      "UPLOADED",
      "UPDATED",
      "DELETED",
    ]);
    const verifier = new Verifier(secret);
    for (const request of received) {
      expect(request.headers["content-type"]).toBe("application/json");
      expect(request.headers["webhook-id"]).toBe(request.event.id);
      expect(Math.abs(Number(request.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
      expect(verifier.verify(request.body, request.headers)).toMatchObject({
        id: request.event.id,
        file: { id: file.id },
      });
    }
    expect(new Set(received.map((request) => request.event.id)).size).toBe(4);
    expect(received[1]!.event).toMatchObject({
      type: "UPLOADED",
      workspaceId: expect.any(String),
      file: { id: file.id, name: "hello.txt", status: "UPLOADED" },
    });
    // A body changed on the way fails verification.
    expect(() => verifier.verify(received[0]!.body.replace("CREATED", "DELETED"), received[0]!.headers)).toThrow();
  });

  it("retries while the receiver is down and delivers every event, in order per file, once it is up", async () => {
    await receiver.down();
    const files = [];
    for (let i = 0; i < 3; i++) {
      const file = await uploadFile(server, { name: `f${i}.txt`, size: 1 }, Buffer.from(String(i)));
      await server.graphql(
        `mutation ($id: ID!) { updateFile(input: { id: $id, description: "changed" }) { __typename } }`,
        { id: file.id },
      );
      files.push(file.id);
    }
    await sleep(1500);
    await receiver.up();
    await receiver.waitFor(9);
    const byFile = typesByFile(receiver.received);
    for (const id of files) expect(byFile.get(id)).toEqual(["CREATED", "UPLOADED", "UPDATED"]);
    type Node = {
      status: string;
      attemptCount: number;
      attempts: { statusCode: number | null; error: string | null }[];
    };
    // The worker records an answer just after the receiver gave it.
    let nodes: Node[] = [];
    for (let i = 0; i < 50 && !(nodes.length === 9 && nodes.every((node) => node.status === "DELIVERED")); i++) {
      if (i > 0) await sleep(100);
      const deliveries = await server.graphql<{ webhookDeliveries: { edges: { node: Node }[] } }>(
        `query ($id: ID!) { webhookDeliveries(webhookId: $id, first: 20) { edges { node { status attemptCount attempts { statusCode error } } } } }`,
        { id: webhookId },
      );
      nodes = deliveries.data.webhookDeliveries.edges.map((edge) => edge.node);
    }
    expect(nodes).toHaveLength(9);
    expect(nodes.every((node) => node.status === "DELIVERED")).toBe(true);
    // The first deliveries failed while the receiver was down, and each attempt is recorded.
    const retried = nodes.filter((node) => node.attemptCount > 1);
    expect(retried.length).toBeGreaterThan(0);
    for (const node of retried) {
      expect(node.attempts.at(0)).toMatchObject({
        statusCode: null,
        error: expect.stringMatching(/ECONNREFUSED|connect/),
      });
      expect(node.attempts.at(-1)).toMatchObject({ statusCode: 204, error: null });
    }
  });

  it("redelivers a delivery an ADMIN asks for, with the same webhook-id", async () => {
    await createFile(server, { name: "again.txt", size: 1 });
    const [first] = await receiver.waitFor(1);
    const listed = await server.graphql<{ webhookDeliveries: { edges: { node: { id: string; eventId: string } }[] } }>(
      `query ($id: ID!) { webhookDeliveries(webhookId: $id) { edges { node { id eventId } } } }`,
      { id: webhookId },
    );
    const delivery = listed.data.webhookDeliveries.edges[0]!.node;
    expect(delivery.eventId).toBe(first!.event.id);
    const again = await server.graphql<{ redeliverWebhook: { __typename: string; status?: string } }>(
      `mutation ($id: ID!) { redeliverWebhook(deliveryId: $id) { __typename ... on WebhookDelivery { status } } }`,
      { id: delivery.id },
    );
    expect(again.data.redeliverWebhook).toEqual({ __typename: "WebhookDelivery", status: "PENDING" });
    const both = await receiver.waitFor(2);
    expect(both[1]!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
  });

  it("refuses URLs of private addresses that WEBHOOK_ALLOWED_HOSTS does not name, and other schemes", async () => {
    for (const url of [
      "http://10.0.0.1/hook",
      "http://169.254.169.254/latest",
      "http://[::1]:8080/",
      "ftp://example.com/",
      "not a url",
    ]) {
      const result = await createWebhook(server, url);
      expect(result.data.createWebhook.__typename, url).toBe("ValidationError");
    }
  });

  it("lets only ADMINs manage webhooks", async () => {
    const writer = await createApiKey(server.app.db, "default", "WRITER");
    const refused = await createWebhook(server, receiver.url, {}, { authorization: `Bearer ${writer}` });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const listed = await server.graphql(
      `{ webhooks(workspaceId: "default") { id } }`,
      {},
      { authorization: `Bearer ${writer}` },
    );
    expect(listed.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const removed = await server.graphql<{ deleteWebhook: { __typename: string } }>(
      `mutation ($id: ID!) { deleteWebhook(id: $id) { __typename } }`,
      { id: webhookId },
    );
    expect(removed.data.deleteWebhook.__typename).toBe("DeletedWebhook");
    const mine = await server.graphql<{ webhooks: unknown[] }>(`{ webhooks(workspaceId: "default") { id } }`);
    expect(mine.data.webhooks).toEqual([]);
  });
});

describe("webhooks and security categories", () => {
  let server: TestServer;
  /** An ADMIN key holding category 5 in workspace default (the bootstrap key holds none). */
  let fiveKey: string;
  const receivers = { five: new WebhookReceiver(), none: new WebhookReceiver() };
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  beforeAll(async () => {
    for (const receiver of Object.values(receivers)) await receiver.up();
    server = await startServer(webhookEnv);
    fiveKey = await createApiKey(server.app.db, "default", "ADMIN", "categories-admin-five");
    await grantCategory(server.app.db, "default", 5, { keyLabel: "categories-admin-five" });
  });
  afterAll(async () => {
    await server.close();
    for (const receiver of Object.values(receivers)) await receiver.down();
  });

  it("tells a webhook only of the files whose every category it holds, and names them in its securityCategories", async () => {
    const five = await createWebhook(server, receivers.five.url, { securityCategories: [5] }, as(fiveKey));
    expect(five.data.createWebhook.__typename).toBe("CreateWebhookPayload");
    const none = await createWebhook(server, receivers.none.url, {}, as(fiveKey));
    expect(none.data.createWebhook.__typename).toBe("CreateWebhookPayload");
    const listed = await server.graphql<{ webhooks: { url: string; securityCategories: number[] }[] }>(
      `{ webhooks(workspaceId: "default") { url securityCategories } }`,
    );
    expect(listed.data.webhooks).toEqual([
      { url: receivers.five.url, securityCategories: [5] },
      { url: receivers.none.url, securityCategories: [] },
    ]);

    const secret = await server.graphql<{ createFile: MutationResult }>(
      createFileMutation,
      { input: { workspaceId: "default", name: "secret.txt", securityCategories: [5], content: "c2VjcmV0" } },
      as(fiveKey),
    );
    expect(secret.data.createFile.__typename).toBe("CreateFilePayload");
    const secretId = secret.data.createFile.file!.id;
    await server.graphql(`mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`, { id: secretId }, as(fiveKey));
    const open = await createFile(server, { name: "open.txt", content: "b3Blbg==" });
    const openId = open.file!.id;

    await receivers.five.waitFor(5);
    await receivers.none.waitFor(2);
    await sleep(500);
    expect([...typesByFile(receivers.five.received)]).toEqual([
      [secretId, ["CREATED", "UPLOADED", "DELETED"]],
      [openId, ["CREATED", "UPLOADED"]],
    ]);
    expect([...typesByFile(receivers.none.received)]).toEqual([[openId, ["CREATED", "UPLOADED"]]]);
    // Nothing about the categorized file was written for the webhook that may not read it either.
    const deliveries = await server.graphql<{ webhookDeliveries: { edges: { node: { fileId: string } }[] } }>(
      `query ($id: ID!) { webhookDeliveries(webhookId: $id) { edges { node { fileId } } } }`,
      { id: none.data.createWebhook.webhook!.id },
    );
    expect(deliveries.data.webhookDeliveries.edges.map((edge) => edge.node.fileId)).toEqual([openId, openId]);
  });

  it("refuses categories the creator does not hold, and lists that are not categories", async () => {
    const cases: [unknown, string[]][] = [
      [[6], ["input", "securityCategories", "0"]],
      [
        [5, 6],
        ["input", "securityCategories", "1"],
      ],
      [[0], ["input", "securityCategories", "0"]],
      [
        [5, 5],
        ["input", "securityCategories", "1"],
      ],
      [Array.from({ length: 101 }, (_, index) => index + 1), ["input", "securityCategories"]],
    ];
    for (const [securityCategories, path] of cases) {
      const refused = await createWebhook(server, receivers.five.url, { securityCategories }, as(fiveKey));
      expect(refused.data.createWebhook, JSON.stringify(securityCategories)).toMatchObject({
        __typename: "ValidationError",
        fieldErrors: [{ path }],
      });
    }
    // The bootstrap ADMIN holds no category: it cannot hand one to a webhook.
    const unheld = await createWebhook(server, receivers.five.url, { securityCategories: [5] });
    expect(unheld.data.createWebhook.__typename).toBe("ValidationError");
  });
});

describe("webhooks across processes", () => {
  let dir: string;
  let database: TestDatabase;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "files-webhooks-"));
    database = await createTestDatabase(dir);
  });
  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts the compiled server (dist/main.js) on this database; resolves with its URL once it listens. */
  async function startProcess(): Promise<{ url: string; child: ChildProcess }> {
    const { port, child } = await startMain(root, {
      ...webhookEnv,
      // A claim lapses after twice this plus 5 s: the restarted process retries the delivery the killed one held.
      WEBHOOK_TIMEOUT: "1",
      DATABASE_URL: database.url,
      STORAGE_LOCAL_DIR: path.join(dir, "objects"),
      SIGNING_SECRET: "shared",
      BOOTSTRAP_API_KEY: apiKey,
    });
    children.push(child);
    return { url: `http://127.0.0.1:${port}`, child };
  }

  it("delivers after a kill -9 that came between the change and the delivery", { timeout: 90_000 }, async () => {
    const receiver = new WebhookReceiver();
    await receiver.up();
    receiver.hold = true;
    const first = await startProcess();
    const call = (url: string, query: string, variables: Record<string, unknown> = {}) =>
      fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ query, variables }),
      }).then(
        (response) =>
          response.json() as Promise<{ data: Record<string, { __typename: string; file?: { id: string } }> }>,
      );
    const hook = await call(first.url, createWebhookMutation, {
      input: { workspaceId: "default", url: receiver.url, events: ["CREATED"] },
    });
    expect(hook.data.createWebhook!.__typename).toBe("CreateWebhookPayload");
    const created = await call(
      first.url,
      `mutation { createFile(input: { workspaceId: "default", name: "survives.txt", size: 3 }) { __typename ... on CreateFilePayload { file { id } } } }`,
    );
    // The delivery is in flight (the receiver holds it): the process dies before it is answered.
    const deadline = Date.now() + 10_000;
    while (receiver.held.length === 0 && Date.now() < deadline) await sleep(20);
    expect(receiver.held).toHaveLength(1);
    first.child.kill("SIGKILL");
    await new Promise((resolve) => first.child.once("exit", resolve));
    receiver.hold = false;
    await startProcess();
    const [delivered] = await receiver.waitFor(1, () => true, 30_000);
    expect(delivered!.event).toMatchObject({ type: "CREATED", file: { id: created.data.createFile!.file!.id } });
    expect(delivered!.headers["webhook-id"]).toBe(receiver.held[0]!.headers["webhook-id"]);
    await receiver.down();
  });
});

describe("webhooks from two instances on one database", () => {
  let a: TestServer;
  let b: TestServer;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = new WebhookReceiver();
    await receiver.up();
    a = await startServer(webhookEnv);
    b = await startServer({ ...webhookEnv, DATABASE_URL: a.database.url, STORAGE_LOCAL_DIR: a.objectsDir });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    await receiver.down();
  });

  it("deliver each event exactly once to a receiver that counts", { timeout: 60_000 }, async () => {
    expect(
      (await createWebhook(a, receiver.url, { events: ["CREATED", "UPLOADED"] })).data.createWebhook.__typename,
    ).toBe("CreateWebhookPayload");
    const count = 20;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        createFile(i % 2 === 0 ? a : b, { name: `n${i}.txt`, content: randomContent(16).toString("base64") }),
      ),
    );
    await receiver.waitFor(count * 2);
    // Both instances keep polling; nothing more may arrive.
    await sleep(1000);
    const ids = receiver.received.map((request) => request.headers["webhook-id"]);
    expect(ids).toHaveLength(count * 2);
    expect(new Set(ids).size).toBe(count * 2);
    for (const types of typesByFile(receiver.received).values()) expect(types).toEqual(["CREATED", "UPLOADED"]);
  });
});
