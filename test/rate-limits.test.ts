import { randomUUID } from "node:crypto";
import { type AddressInfo, createServer, type Server, Socket } from "node:net";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { uploadFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

const redisUrl = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
const ci = /^(1|true)$/i.test(process.env.CI ?? "");

/** Why Redis cannot be used, or undefined when it answers. */
async function redisProblem(): Promise<string | undefined> {
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    client.disconnect();
  }
}
const redisUnavailable = await redisProblem();

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(env: Record<string, string>, logs?: Record<string, unknown>[]): Promise<TestServer> {
  const server = await startServer(env, "local", { logs });
  servers.push(server);
  return server;
}

const anonymous = { authorization: "" };
const query = `{ viewer { workspaces { slug } } }`;

function expectRateLimited(response: {
  status: number;
  headers: Headers;
  errors?: { extensions?: Record<string, unknown> }[];
}): number {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
  expect(response.errors?.[0]?.extensions).toEqual({
    code: "RATE_LIMITED",
    retryAfter,
    requestId: response.headers.get("x-request-id"),
  });
  return retryAfter;
}

describe("rate limits", () => {
  it("answers 429 with Retry-After and RATE_LIMITED once an address's anonymous budget is spent", async () => {
    const server = await serve({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: "3" });
    for (let i = 0; i < 3; i += 1) expect((await server.graphql(query, undefined, anonymous)).status).toBe(200);
    expectRateLimited(await server.graphql(query, undefined, anonymous));
  });

  it("counts failed authentication against the address: bad keys get 401, then 429, while a good key still passes", async () => {
    const server = await serve({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: "2" });
    const wrong = { authorization: "Bearer wrong-key" };
    expect((await server.graphql(query, undefined, wrong)).status).toBe(401);
    expect((await server.graphql(query, undefined, wrong)).status).toBe(401);
    expectRateLimited(await server.graphql(query, undefined, wrong));
    expect((await server.graphql(query)).status).toBe(200);
  });

  it("gives each principal its own budget, apart from the address's anonymous one", async () => {
    const server = await serve({ RATE_LIMIT_PER_MINUTE: "3" });
    for (let i = 0; i < 3; i += 1) expect((await server.graphql(query)).status).toBe(200);
    expectRateLimited(await server.graphql(query));
    expect((await server.graphql(query, undefined, anonymous)).status).toBe(200);
  });

  it("limits the signed URLs by address, answering 429 with Retry-After", async () => {
    const server = await serve({ RATE_LIMIT_PER_MINUTE: "4" });
    // Two GraphQL requests and a PUT; the signed budget has 3 requests left after the PUT.
    const file = await uploadFile(server, { workspaceId: "default", name: "a.txt" }, Buffer.from("abc"));
    const url = file.downloadUrl ?? "";
    for (let i = 0; i < 3; i += 1) expect((await fetch(url)).status).toBe(200);
    const refused = await fetch(url);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ error: { code: "RATE_LIMITED", retryAfter } });
  });

  it("never limits the health probes", async () => {
    const server = await serve({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1" });
    for (let i = 0; i < 5; i += 1) expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it("lets a budget recover once Retry-After has passed", { timeout: 90_000 }, async () => {
    const server = await serve({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1" });
    expect((await server.graphql(query, undefined, anonymous)).status).toBe(200);
    const retryAfter = expectRateLimited(await server.graphql(query, undefined, anonymous));
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 250));
    expect((await server.graphql(query, undefined, anonymous)).status).toBe(200);
  });
});

/** A TCP relay to Redis that the test can cut, as if Redis went away. */
async function startRelay(target: URL): Promise<{ url: string; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const relay: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    upstream.connect(Number(target.port || 6379), target.hostname);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  return {
    url: `redis://127.0.0.1:${(relay.address() as AddressInfo).port}`,
    async cut() {
      await new Promise<void>((resolve) => {
        relay.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

describe.skipIf(redisUnavailable !== undefined && !ci)(`rate limits shared through Redis (${redisUrl})`, () => {
  it("is reachable, as CI requires", () => {
    expect(redisUnavailable).toBeUndefined();
  });

  it("shares one budget between two instances", async () => {
    const env = {
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: `test-${randomUUID()}:`,
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: "4",
    };
    const [a, b] = [await serve(env), await serve(env)];
    for (const server of [a, b, a, b]) expect((await server.graphql(query, undefined, anonymous)).status).toBe(200);
    expectRateLimited(await a.graphql(query, undefined, anonymous));
    expectRateLimited(await b.graphql(query, undefined, anonymous));
  });

  it("keeps serving with its own budget when Redis goes away, and logs it", async () => {
    const relay = await startRelay(new URL(redisUrl));
    const logs: Record<string, unknown>[] = [];
    const env = {
      REDIS_URL: relay.url,
      REDIS_KEY_PREFIX: `test-${randomUUID()}:`,
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: "3",
    };
    const server = await serve(env, logs);
    for (let i = 0; i < 2; i += 1) expect((await server.graphql(query, undefined, anonymous)).status).toBe(200);
    await relay.cut();
    await expect
      .poll(() => logs.some((line) => String(line.msg).includes("Redis is unreachable")), { timeout: 10_000 })
      .toBe(true);
    // The instance's own budget starts afresh in memory and still limits.
    for (let i = 0; i < 3; i += 1) expect((await server.graphql(query, undefined, anonymous)).status).toBe(200);
    expectRateLimited(await server.graphql(query, undefined, anonymous));
  });
});
