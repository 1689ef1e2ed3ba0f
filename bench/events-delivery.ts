/**
 * What one delivery of a live event costs the server, apart from uploads and other processes:
 * one in-process server (test/helpers/server.ts: SQLite, local disk), SUBSCRIBERS server-sent
 * event streams of `fileEvents` read in this process (counting `event: next`, nothing parsed),
 * and rounds of BENCH_DELIVERY_EVENTS `PROGRESS` events published on the bus, BENCH_DELIVERY_BATCH
 * (default 1) per turn of the event loop (4: as a tick of the progress clock reports 4 uploads in
 * flight). Per round: this process's CPU time (user + system, process.cpuUsage) over the
 * deliveries (events × subscribers), the first round a warm-up not counted, and the sockets'
 * writes to the kernel per delivery (the server's: the readers write nothing once subscribed;
 * counted on `net.Socket`'s `_write` and `_writev`). The readers' side is
 * in the figure too, the same for any server code: compare two commits by running this bench in
 * each, back to back.
 */
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { Socket } from "node:net";
import type { FileEvent } from "../src/events/file-event.js";
import { busEvents } from "../test/helpers/events.js";
import { createFile } from "../test/helpers/files.js";
import { apiKey, startServer, type TestServer } from "../test/helpers/server.js";

const SUBSCRIBERS = 100;
const EVENTS = Number(process.env.BENCH_DELIVERY_EVENTS ?? 400);
const ROUNDS = Number(process.env.BENCH_DELIVERY_ROUNDS ?? 5);
const BATCH = Number(process.env.BENCH_DELIVERY_BATCH ?? 1);

/** Counts the calls of a socket's `method` (its flushes to the kernel) in `counter.writes`. */
function countWrites(method: "_write" | "_writev", counter: { writes: number }): void {
  const original = Socket.prototype[method] as (this: Socket, ...args: unknown[]) => void;
  Socket.prototype[method] = function (this: Socket, ...args: unknown[]) {
    counter.writes += 1;
    return original.apply(this, args);
  } as never;
}
const query = 'subscription { fileEvents(workspaceId: "default") { type receivedBytes file { id status } } }';

/** Opens a subscription and adds the events it receives to `count`. */
function subscribe(server: TestServer, count: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers = {
      "content-type": "application/json",
      accept: "text/event-stream",
      authorization: `Bearer ${apiKey}`,
    };
    const req = request(`${server.url}/graphql`, { method: "POST", headers }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`subscription answered ${res.statusCode}`));
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        for (let at = chunk.indexOf("event: next"); at !== -1; at = chunk.indexOf("event: next", at + 1)) count();
      });
      resolve();
    });
    req.on("error", reject);
    req.end(JSON.stringify({ query }));
  });
}

export async function run(): Promise<void> {
  const server = await startServer();
  try {
    const workspace = await server.app.db.workspace.findUniqueOrThrow({ where: { slug: "default" } });
    // A real event of a real file, published again as PROGRESS.
    const heard = busEvents(server.app.events, workspace.id);
    const first = heard.next();
    await createFile(server, { name: "delivered.bin", size: EVENTS });
    const created: FileEvent = (await first).value;
    await heard.return?.();
    let received = 0;
    await Promise.all(Array.from({ length: SUBSCRIBERS }, () => subscribe(server, () => (received += 1))));
    const perDelivery: string[] = [];
    const writesPerDelivery: string[] = [];
    const counter = { writes: 0 };
    countWrites("_write", counter);
    countWrites("_writev", counter);
    for (let round = 0; round <= ROUNDS; round += 1) {
      received = 0;
      counter.writes = 0;
      const cpu = process.cpuUsage();
      for (let i = 1; i <= EVENTS; i += 1) {
        const upload = { method: "PUT" as const, driver: "local", receivedBytes: i, totalBytes: EVENTS };
        server.app.events.publish({ ...created, id: randomUUID(), type: "PROGRESS", upload });
        if (i % BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const deadline = Date.now() + 60_000;
      while (received < EVENTS * SUBSCRIBERS) {
        if (Date.now() > deadline) throw new Error(`${received} of ${EVENTS * SUBSCRIBERS} deliveries arrived`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const used = process.cpuUsage(cpu);
      if (round > 0) {
        perDelivery.push(((used.user + used.system) / (EVENTS * SUBSCRIBERS)).toFixed(1));
        writesPerDelivery.push((counter.writes / (EVENTS * SUBSCRIBERS)).toFixed(2));
      }
    }
    console.log(
      `CPU µs per delivery (server and readers), ${ROUNDS} rounds of ${EVENTS} events (${BATCH} per turn) × ${SUBSCRIBERS} subscribers: ${perDelivery.join(", ")}; socket writes per delivery: ${writesPerDelivery.join(", ")}`,
    );
  } finally {
    await server.close();
  }
}
