/**
 * Live file events under load: two servers in the same run, one emitting PROGRESS events (the
 * default, one per 250 ms per upload) and one with them off (UPLOAD_PROGRESS_INTERVAL_MS=0).
 * Uploads run 4 clients at a time, each a signed PUT of 32 MiB followed by completeUpload; the
 * upload throughput (MB/s of the PUTs) of the two servers gives the cost of progress (target: at
 * most 5 %). Measured twice: with nobody subscribed (the cost of emitting), then with 100
 * subscribers on `fileEvents` over server-sent events on each server (the cost of delivering),
 * where the events per second they receive (summed over them) are reported too. Rounds alternate
 * between the servers so that machine noise falls on both. The 100 subscribers read their
 * streams in a worker thread, apart from the uploading client's event loop, on the same machine:
 * reading them costs CPU the servers and the uploads then lack.
 *
 * On a machine others share, wall-clock throughput mostly measures who else wants the cores. So
 * the cost is also given as the servers' own CPU time per MB uploaded (all threads, from
 * `process_cpu_seconds_total` on /metrics, read before and after each round): what progress
 * costs the server whatever the load beside it. The load average is printed with each phase.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { apiKey, freePort, mbps, startChild, waitFor } from "./uploads.js";

const MiB = 1024 * 1024;
const SUBSCRIBERS = 100;
const UPLOAD_BYTES = 32 * MiB;
const CONCURRENT = 4;
const UPLOADS_PER_ROUND = 8;
const ROUNDS = 10;
const block = Buffer.alloc(4 * MiB, 7);

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  /** Where the subscribers count the `next` events they receive from this server (`delivered`). */
  slot: number;
}

/** `next` events the subscribers received, per server slot; reset before each round. */
const delivered = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));

async function graphql<T>(url: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/**
 * The subscribers' side, in a worker thread of its own: the 100 streams are other clients (in
 * practice browser tabs on other machines), so reading them must not hold up the uploading
 * client's event loop, as it did when both shared one thread. The thread still runs on the same
 * two cores as the servers. Each SSE subscription counts the `next` events it receives into
 * `counts[slot]` (shared memory, read by the uploading thread).
 */
const subscribersSource = `
const { parentPort, workerData } = require("node:worker_threads");
const { request } = require("node:http");
const counts = new Int32Array(workerData.counts);
const body = JSON.stringify({
  query: 'subscription { fileEvents(workspaceId: "default") { type receivedBytes file { id status } } }',
});
function subscribe(url, slot) {
  return new Promise((resolve, reject) => {
    const req = request(url + "/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: "Bearer " + workerData.apiKey },
    }, (res) => {
      if (res.statusCode !== 200) reject(new Error("subscription answered " + res.statusCode));
      res.setEncoding("utf8");
      let tail = "";
      res.on("data", (chunk) => {
        const text = tail + chunk;
        let at = 0;
        for (;;) {
          const found = text.indexOf("event: next", at);
          if (found === -1) break;
          Atomics.add(counts, slot, 1);
          at = found + 11;
        }
        tail = text.slice(Math.max(at, text.length - 11));
      });
      res.on("error", () => undefined);
      resolve();
    });
    req.on("error", reject);
    req.end(body);
  });
}
parentPort.on("message", async ({ url, slot, count }) => {
  for (let i = 0; i < count; i++) await subscribe(url, slot);
  parentPort.postMessage("subscribed");
});
`;

/** Opens SUBSCRIBERS subscriptions to each server in a worker thread (subscribersSource). */
async function subscribeAll(servers: Server[], counts: SharedArrayBuffer): Promise<Worker> {
  const worker = new Worker(subscribersSource, { eval: true, workerData: { counts, apiKey } });
  for (const server of servers) {
    worker.postMessage({ url: server.url, slot: server.slot, count: SUBSCRIBERS });
    await once(worker, "message");
  }
  return worker;
}

/** PUTs `size` bytes to a signed URL; resolves with the seconds it took. */
function put(url: string, headers: Record<string, string>, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(url, { method: "PUT", headers: { ...headers, "content-length": String(size) } }, (res) => {
      res.resume();
      res.on("end", () => {
        if (res.statusCode !== 200) reject(new Error(`PUT answered ${res.statusCode}`));
        else resolve(Number(process.hrtime.bigint() - started) / 1e9);
      });
    });
    req.on("error", reject);
    let sent = 0;
    const write = (): void => {
      while (sent < size) {
        const piece = block.subarray(0, Math.min(block.length, size - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once("drain", write);
      }
      req.end();
    };
    write();
  });
}

/** One upload: createFile, the PUT, completeUpload; resolves with the PUT's seconds. */
async function upload(server: Server, index: number): Promise<number> {
  type Created = {
    createFile: { file: { id: string }; upload: { url: string; headers: { name: string; value: string }[] } };
  };
  const { createFile } = await graphql<Created>(
    server.url,
    `mutation ($input: CreateFileInput!) { createFile(input: $input) { ... on CreateFilePayload { file { id } upload { url headers { name value } } } } }`,
    { input: { workspaceId: "default", name: `bench-${index}.bin`, size: UPLOAD_BYTES } },
  );
  const headers = Object.fromEntries(
    createFile.upload.headers.filter((h) => h.name !== "Content-Length").map((h) => [h.name, h.value]),
  );
  const seconds = await put(createFile.upload.url, headers, UPLOAD_BYTES);
  await graphql(server.url, `mutation ($id: ID!) { completeUpload(input: { id: $id }) { __typename } }`, {
    id: createFile.file.id,
  });
  return seconds;
}

/** The server's CPU seconds so far (all threads), from its metrics. */
async function cpuSeconds(server: Server): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = /^process_cpu_seconds_total (\S+)$/m.exec(text);
  if (line === null) throw new Error("process_cpu_seconds_total is missing from /metrics");
  return Number(line[1]);
}

/** A round: UPLOADS_PER_ROUND uploads, CONCURRENT at a time. */
async function round(
  server: Server,
): Promise<{ putSeconds: number; wallSeconds: number; events: number; cpuSeconds: number }> {
  Atomics.store(delivered, server.slot, 0);
  const cpuBefore = await cpuSeconds(server);
  const started = process.hrtime.bigint();
  let next = 0;
  let putSeconds = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      while (next < UPLOADS_PER_ROUND) putSeconds += await upload(server, next++);
    }),
  );
  // The last events are on their way to the subscribers.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    putSeconds,
    wallSeconds,
    events: Atomics.load(delivered, server.slot),
    cpuSeconds: (await cpuSeconds(server)) - cpuBefore,
  };
}

async function start(name: string, work: string, progressMs: string, slot: number): Promise<Server> {
  const port = await freePort();
  const child = startChild(["src/main.ts"], {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: `file:${path.join(work, name, "app.db")}`,
    STORAGE_LOCAL_DIR: path.join(work, name, "objects"),
    BOOTSTRAP_API_KEY: apiKey,
    SIGNING_SECRET: "bench",
    RATE_LIMIT_PER_MINUTE: "100000000",
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000000",
    UPLOAD_PROGRESS_INTERVAL_MS: progressMs,
    LOG_LEVEL: "warn",
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`);
  return { name, url, child, slot };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Alternating rounds on both servers; medians of upload MB/s and of events/s delivered. */
interface Compared {
  mbps: number;
  eventsPerSecond: number;
  /** Server CPU milliseconds per MB uploaded (median of the rounds). */
  cpuMsPerMb: number;
  rounds: number[];
  cpuRounds: number[];
}

async function compare(on: Server, off: Server): Promise<Record<string, Compared>> {
  const results: Record<string, { mbps: number[]; eventsPerSecond: number[]; cpuMsPerMb: number[] }> = {
    [on.name]: { mbps: [], eventsPerSecond: [], cpuMsPerMb: [] },
    [off.name]: { mbps: [], eventsPerSecond: [], cpuMsPerMb: [] },
  };
  const megabytes = (UPLOADS_PER_ROUND * UPLOAD_BYTES) / 1e6;
  for (let i = 0; i < ROUNDS; i++) {
    for (const server of i % 2 === 0 ? [on, off] : [off, on]) {
      const { putSeconds, wallSeconds, events, cpuSeconds } = await round(server);
      // Throughput as each PUT saw it: bytes over the time the PUTs took, CONCURRENT at a time.
      results[server.name]!.mbps.push(mbps(UPLOADS_PER_ROUND * UPLOAD_BYTES, putSeconds / CONCURRENT));
      results[server.name]!.eventsPerSecond.push(events / wallSeconds);
      results[server.name]!.cpuMsPerMb.push((cpuSeconds * 1000) / megabytes);
    }
  }
  return Object.fromEntries(
    Object.entries(results).map(([name, result]) => [
      name,
      {
        mbps: median(result.mbps),
        eventsPerSecond: median(result.eventsPerSecond),
        cpuMsPerMb: median(result.cpuMsPerMb),
        rounds: result.mbps,
        cpuRounds: result.cpuMsPerMb,
      },
    ]),
  );
}

const loadAverage = (): string =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(", ");

function report(
  title: string,
  on: Server,
  off: Server,
  results: Awaited<ReturnType<typeof compare>>,
  subscribers: boolean,
): void {
  console.log(
    `\n### ${title}\n\nload average after the phase: ${loadAverage()} (${os.availableParallelism()} cores)\n`,
  );
  console.log(
    subscribers
      ? "| server | upload MB/s | server CPU ms per MB | events/s delivered (all subscribers) |\n|---|---|---|---|"
      : "| server | upload MB/s | server CPU ms per MB |\n|---|---|---|",
  );
  for (const server of [on, off]) {
    const result = results[server.name]!;
    console.log(
      `| ${server.name} | ${result.mbps.toFixed(1)} | ${result.cpuMsPerMb.toFixed(2)} |${subscribers ? ` ${result.eventsPerSecond.toFixed(0)} |` : ""}`,
    );
  }
  // Each round of one server is paired with the other's next to it: the median of the pairs'
  // ratios is steadier than the ratio of medians when the machine's load drifts.
  const onRounds = results[on.name]!.rounds;
  const offRounds = results[off.name]!.rounds;
  const ratio = median(onRounds.map((value, i) => value / offRounds[i]!));
  console.log(
    `\nupload throughput with progress / without (median of paired rounds): ${ratio.toFixed(3)} (cost ${((1 - ratio) * 100).toFixed(1)} %; target ≤ 5 %)`,
  );
  console.log(
    `per-round MB/s, progress on: ${results[on.name]!.rounds.map((v) => v.toFixed(0)).join(", ")}; off: ${results[off.name]!.rounds.map((v) => v.toFixed(0)).join(", ")}`,
  );
  const onCpu = results[on.name]!.cpuRounds;
  const offCpu = results[off.name]!.cpuRounds;
  const cpuRatio = median(onCpu.map((value, i) => value / offCpu[i]!));
  console.log(
    `server CPU per MB with progress / without (median of paired rounds): ${cpuRatio.toFixed(3)} (cost ${((cpuRatio - 1) * 100).toFixed(1)} %; target ≤ 5 %)`,
  );
  console.log(
    `per-round CPU ms/MB, progress on: ${onCpu.map((v) => v.toFixed(2)).join(", ")}; off: ${offCpu.map((v) => v.toFixed(2)).join(", ")}`,
  );
}

export async function run(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), "files-bench-events-"));
  const on = await start("progress-on", work, "250", 0);
  const off = await start("progress-off", work, "0", 1);
  let subscribers: Worker | undefined;
  try {
    console.log(`load average at the start: ${loadAverage()} (${os.availableParallelism()} cores, shared)`);
    console.log(
      `${ROUNDS} rounds per server of ${UPLOADS_PER_ROUND} signed PUTs of ${UPLOAD_BYTES / MiB} MiB, ${CONCURRENT} at a time; medians`,
    );
    // One warm-up round each (JIT, page cache, SQLite's first writes).
    await round(on);
    await round(off);
    report("emitting progress, nobody subscribed", on, off, await compare(on, off), false);
    subscribers = await subscribeAll([on, off], delivered.buffer as SharedArrayBuffer);
    report(`${SUBSCRIBERS} SSE subscribers on fileEvents`, on, off, await compare(on, off), true);
  } finally {
    await subscribers?.terminate();
    for (const server of [on, off]) server.child.kill("SIGTERM");
    await rm(work, { recursive: true, force: true });
  }
}
