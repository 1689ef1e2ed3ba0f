import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApiKey, grantCategory, revokeApiKey } from "../src/access/admin.js";
import { startServer, type TestServer } from "./helpers/server.js";

// An API key's grants are cached (GRANT_CACHE_MS); a change must still take effect at the next
// request. The cache here keeps grants for ten minutes, so only the announcement of a change can
// make a server read them again within the test.

const run = promisify(execFile);
const adminScript = path.resolve(import.meta.dirname, "../scripts/admin.ts");
const redisEnv = {
  REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
  REDIS_KEY_PREFIX: `test-${randomBytes(6).toString("hex")}:`,
};
const longCache = { GRANT_CACHE_MS: "600000" };

let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  a = await startServer({ ...redisEnv, ...longCache });
  b = await startServer({ ...redisEnv, ...longCache, DATABASE_URL: a.database.url, STORAGE_LOCAL_DIR: a.objectsDir });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const viewer = `{ viewer { workspaces { slug } } }`;

/** The HTTP status of a query with `key`, on `server`. */
async function statusWith(server: TestServer, key: string): Promise<number> {
  return (await server.graphql(viewer, undefined, { authorization: `Bearer ${key}` })).status;
}

/** The status `server` answers with `key` once it is 401, or the last one after `ms`. */
async function refusedWithin(server: TestServer, key: string, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let status = await statusWith(server, key);
  while (status !== 401 && Date.now() < until) {
    await sleep(50);
    status = await statusWith(server, key);
  }
  return status;
}

it("refuses a key revoked in the server's process at the next request, though its grants were cached", async () => {
  const key = await createApiKey(a.app.db, "default", "READER", "revoked-here");
  expect(await statusWith(a, key)).toBe(200);
  expect(await revokeApiKey(a.app.db, key)).toBe(true);
  expect(await statusWith(a, key)).toBe(401);
});

it("applies a security category granted in the server's process at the next request", async () => {
  const key = await createApiKey(a.app.db, "default", "WRITER", "gains-a-category");
  const create = `mutation ($input: CreateFileInput!) { createFile(input: $input) { __typename ... on Error { message } } }`;
  const input = { workspaceId: "default", name: "secret.txt", securityCategories: [9], content: "eA==" };
  const before = await a.graphql<{ createFile: { __typename: string } }>(
    create,
    { input },
    {
      authorization: `Bearer ${key}`,
    },
  );
  expect(before.data?.createFile.__typename).toBe("ValidationError");
  await grantCategory(a.app.db, "default", 9, { keyLabel: "gains-a-category" });
  const after = await a.graphql<{ createFile: { __typename: string } }>(
    create,
    { input },
    {
      authorization: `Bearer ${key}`,
    },
  );
  expect(after.data?.createFile.__typename).toBe("CreateFilePayload");
});

it("refuses a key revoked with npm run admin on every instance sharing Redis, though both cached its grants", {
  timeout: 120_000,
}, async () => {
  const key = await createApiKey(a.app.db, "default", "READER", "revoked-elsewhere");
  expect(await statusWith(a, key)).toBe(200);
  expect(await statusWith(b, key)).toBe(200);
  // Another process, as an operator runs it: only Redis can tell the two servers.
  const { stdout } = await run(process.execPath, ["--import", "tsx", adminScript, "revoke-key", key], {
    env: { ...process.env, ...redisEnv, DATABASE_URL: a.database.url },
  });
  expect(stdout.trim()).toBe("revoked");
  expect(await refusedWithin(a, key, 2000)).toBe(401);
  expect(await refusedWithin(b, key, 2000)).toBe(401);
});
