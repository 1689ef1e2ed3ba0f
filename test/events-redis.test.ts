import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { record, type SubscriptionResult, slowPut, sseSubscription } from "./helpers/events.js";
import { completeUpload, createFile } from "./helpers/files.js";
import { randomContent } from "./helpers/samples.js";
import { apiKey, startServer, type TestServer } from "./helpers/server.js";

// Two instances on one database, one object directory and one Redis, as behind a load balancer.

const redisEnv = {
  REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
  REDIS_KEY_PREFIX: `test-${randomBytes(6).toString("hex")}:`,
};
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  a = await startServer(redisEnv);
  b = await startServer({ ...redisEnv, DATABASE_URL: a.database.url, STORAGE_LOCAL_DIR: a.objectsDir });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

type Delivery = SubscriptionResult<{
  fileEvents: { type: string; receivedBytes: number | null; file: { id: string } };
}>;

it("a subscriber on instance B sees CREATED, PROGRESS and UPLOADED of an upload handled by instance A", async () => {
  const stream = record(
    sseSubscription<Delivery["data"]>(
      b.url,
      `subscription { fileEvents(workspaceId: "default") { type receivedBytes file { id } } }`,
      {},
      {
        authorization: `Bearer ${apiKey}`,
      },
    ),
  );
  await sleep(300);
  const body = randomContent(4 * 1024 * 1024);
  const created = await createFile(a, { name: "through-a.bin", size: body.length });
  expect(created.upload!.url!.startsWith(a.url)).toBe(true);
  await slowPut(created.upload!, body, 8, 80);
  await completeUpload(a, created.file!.id);
  const all = await stream.until((delivery) => delivery.data?.fileEvents.type === "UPLOADED");
  await stream.stop();
  const events = all.map((delivery) => delivery.data!.fileEvents).filter((event) => event.file.id === created.file!.id);
  expect(events[0]?.type).toBe("CREATED");
  expect(events.some((event) => event.type === "PROGRESS")).toBe(true);
  expect(events.at(-1)).toMatchObject({ type: "UPLOADED", receivedBytes: body.length });
});
