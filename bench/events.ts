/**
 * Live file events under load: two servers in the same run, one emitting PROGRESS events (the
 * default, one per 250 ms per upload) and one with them off (UPLOAD_PROGRESS_INTERVAL_MS=0).
 * A round is UPLOADS_PER_ROUND signed PUTs of 32 MiB, CONCURRENT at a time, each followed by
 * completeUpload; the upload throughput (MB/s of the PUTs) of the two servers gives the cost of
 * progress (target: at most 5 %). Measured twice: with nobody subscribed (the cost of emitting),
 * then with 100 subscribers on `fileEvents` over server-sent events on each server (the cost of
 * delivering; bench/events-subscribers.ts parses and checks every event they receive).
 *
 * Rounds come in pairs, one per server, the order alternating from pair to pair, so that the
 * machine's drift falls on both; each phase starts with a warm-up pair that is not counted. The
 * cost is the median of the pairs' ratios with a distribution-free 95 % interval of that median.
 * BENCH_EVENTS_PAIRS sets the pairs per phase; BENCH_EVENTS_AA=on (or off) runs both servers with
 * progress on (or off), which measures the bench's own noise: a real cost must stand out of it.
 *
 * On a machine others share, wall-clock throughput mostly measures who else wants the cores. So
 * the cost is also given as the servers' own CPU time per MB uploaded (all threads, from
 * `process_cpu_seconds_total` on /metrics, read before and after each round), with each
 * server's event-loop delay during its rounds (bench/loop-delay.ts), the PUTs' latencies, and
 * the CPU the uploading client and the subscribers' process spent per MB: what the two cores
 * gave to other work than the servers.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import os from "node:os";
import path from "node:path";
import { Subscribers } from "./events-subscribers.js";
import type { LoopDelay } from "./loop-delay.js";
import { apiKey, freePort, mbps, startChild, waitFor } from "./uploads.js";

const MiB = 1024 * 1024;
const SUBSCRIBERS = 100;
const UPLOAD_BYTES = 32 * MiB;
const CONCURRENT = 4;
const UPLOADS_PER_ROUND = 8;
const PAIRS = Number(process.env.BENCH_EVENTS_PAIRS ?? 30);
const AA = process.env.BENCH_EVENTS_AA;
const block = Buffer.alloc(4 * MiB, 7);

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  progress: boolean;
  /** Where the subscribers count what they receive from this server. */
  slot: number;
}

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

/** One upload: createFile, the PUT, completeUpload; resolves with the file's id and the PUT's seconds. */
async function upload(server: Server, index: number): Promise<{ id: string; seconds: number }> {
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
  const { id } = createFile.file;
  await graphql(server.url, `mutation ($id: ID!) { completeUpload(input: { id: $id }) { __typename } }`, { id });
  return { id, seconds };
}

/** The server's CPU seconds so far (all threads), from its metrics. */
async function cpuSeconds(server: Server): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = /^process_cpu_seconds_total (\S+)$/m.exec(text);
  if (line === null) throw new Error("process_cpu_seconds_total is missing from /metrics");
  return Number(line[1]);
}

/** The server's event-loop delay since it was last asked (bench/loop-delay.ts). */
async function loopDelay(server: Server): Promise<LoopDelay> {
  server.child.send("loop-delay");
  const [delay] = await once(server.child, "message");
  return delay as LoopDelay;
}

interface Round {
  mbps: number;
  cpuMsPerMb: number;
  /** Each PUT's seconds. */
  puts: number[];
  loop: LoopDelay;
  /** Events the subscribers received per second of the round (0 with nobody subscribed). */
  eventsPerSecond: number;
  /** The uploading client's CPU per MB in the round. */
  clientCpuMsPerMb: number;
  /** The subscribers' CPU per MB in the round (0 with nobody subscribed). */
  subscribersCpuMsPerMb: number;
}

/** A round: UPLOADS_PER_ROUND uploads, CONCURRENT at a time; with subscribers, until they have every event. */
async function round(server: Server, subscribers: Subscribers | undefined): Promise<Round> {
  const cpuBefore = await cpuSeconds(server);
  await loopDelay(server);
  const clientCpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  let next = 0;
  const uploads: { id: string; seconds: number }[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      while (next < UPLOADS_PER_ROUND) uploads.push(await upload(server, next++));
    }),
  );
  const files = uploads.map((u) => u.id);
  const received = await subscribers?.received(server.slot, files, UPLOAD_BYTES, server.progress);
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { user, system } = process.cpuUsage(clientCpu);
  const loop = await loopDelay(server);
  const puts = uploads.map((u) => u.seconds);
  const megabytes = (UPLOADS_PER_ROUND * UPLOAD_BYTES) / 1e6;
  return {
    // Throughput as each PUT saw it: bytes over the time the PUTs took, CONCURRENT at a time.
    mbps: mbps(UPLOADS_PER_ROUND * UPLOAD_BYTES, puts.reduce((a, b) => a + b, 0) / CONCURRENT),
    cpuMsPerMb: (((await cpuSeconds(server)) - cpuBefore) * 1000) / megabytes,
    puts,
    loop,
    eventsPerSecond: (received?.events ?? 0) / wallSeconds,
    clientCpuMsPerMb: (user + system) / 1000 / megabytes,
    subscribersCpuMsPerMb: (received?.cpuMs ?? 0) / megabytes,
  };
}

async function start(name: string, work: string, progress: boolean, slot: number): Promise<Server> {
  const port = await freePort();
  const child = startChild(
    ["src/main.ts"],
    {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: `file:${path.join(work, name, "app.db")}`,
      STORAGE_LOCAL_DIR: path.join(work, name, "objects"),
      BOOTSTRAP_API_KEY: apiKey,
      SIGNING_SECRET: "bench",
      RATE_LIMIT_PER_MINUTE: "100000000",
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000000",
      UPLOAD_PROGRESS_INTERVAL_MS: progress ? "250" : "0",
      LOG_LEVEL: "warn",
    },
    "./bench/loop-delay.ts",
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`);
  return { name, url, child, progress, slot };
}

const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);
const median = (values: number[]): number => {
  const s = sorted(values);
  const middle = s.length / 2;
  return s.length % 2 === 1 ? s[Math.floor(middle)]! : (s[middle - 1]! + s[middle]!) / 2;
};
const quantile = (values: number[], q: number): number =>
  sorted(values)[Math.min(values.length - 1, Math.floor(q * values.length))]!;

/**
 * A distribution-free 95 % interval of the median of `values` (independent pairs): the order
 * statistics k and n−k+1 with k the largest such that P(Binomial(n, ½) < k) ≤ 2.5 %.
 */
function medianInterval(values: number[]): [number, number] {
  const n = values.length;
  const s = sorted(values);
  let k = 0;
  let below = 0;
  let choose = 1;
  for (let i = 0; i < n; i++) {
    // P(X ≤ i) for X ~ Binomial(n, ½).
    below += choose / 2 ** n;
    choose = (choose * (n - i)) / (i + 1);
    if (below > 0.025) break;
    k = i + 1;
  }
  return k === 0 ? [s[0]!, s[n - 1]!] : [s[k - 1]!, s[n - k]!];
}

/** Alternating pairs of rounds after a warm-up pair; per server, its rounds in pair order. */
async function compare(
  first: Server,
  second: Server,
  subscribers: Subscribers | undefined,
): Promise<Map<Server, Round[]>> {
  await round(first, subscribers);
  await round(second, subscribers);
  const rounds = new Map<Server, Round[]>([
    [first, []],
    [second, []],
  ]);
  for (let i = 0; i < PAIRS; i++) {
    for (const server of i % 2 === 0 ? [first, second] : [second, first]) {
      rounds.get(server)!.push(await round(server, subscribers));
    }
  }
  return rounds;
}

const loadAverage = (): string =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(", ");

const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)} %`;

function report(title: string, first: Server, second: Server, rounds: Map<Server, Round[]>, started: string): void {
  console.log(`\n### ${title}\n\nload average before: ${started}; after: ${loadAverage()}\n`);
  console.log(
    "| server | upload MB/s | server CPU ms/MB | PUT s median / p90 | loop delay ms mean / p99 / max | events/s delivered | CPU ms/MB uploader / subscribers |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const server of [first, second]) {
    const r = rounds.get(server)!;
    const puts = r.flatMap((x) => x.puts);
    console.log(
      `| ${server.name} | ${median(r.map((x) => x.mbps)).toFixed(1)} | ${median(r.map((x) => x.cpuMsPerMb)).toFixed(2)} | ` +
        `${median(puts).toFixed(3)} / ${quantile(puts, 0.9).toFixed(3)} | ` +
        `${median(r.map((x) => x.loop.meanMs)).toFixed(2)} / ${median(r.map((x) => x.loop.p99Ms)).toFixed(1)} / ${Math.max(...r.map((x) => x.loop.maxMs)).toFixed(1)} | ` +
        `${median(r.map((x) => x.eventsPerSecond)).toFixed(0)} | ${median(r.map((x) => x.clientCpuMsPerMb)).toFixed(2)} / ${median(r.map((x) => x.subscribersCpuMsPerMb)).toFixed(2)} |`,
    );
  }
  const a = rounds.get(first)!;
  const b = rounds.get(second)!;
  // Each round of one server is paired with the other's next to it: the median of the pairs'
  // ratios is steadier than the ratio of medians when the machine's load drifts.
  const throughput = a.map((x, i) => 1 - x.mbps / b[i]!.mbps);
  const cpu = a.map((x, i) => x.cpuMsPerMb / b[i]!.cpuMsPerMb - 1);
  const [tLow, tHigh] = medianInterval(throughput);
  const [cLow, cHigh] = medianInterval(cpu);
  console.log(
    `\nupload throughput cost of ${first.name} against ${second.name} (median of ${a.length} paired rounds): ` +
      `${percent(median(throughput))}, 95 % interval ${percent(tLow)} … ${percent(tHigh)} (target ≤ 5 %)`,
  );
  console.log(
    `server CPU per MB cost: ${percent(median(cpu))}, 95 % interval ${percent(cLow)} … ${percent(cHigh)} (target ≤ 5 %)`,
  );
  for (const server of [first, second])
    console.log(
      `per-round MB/s, ${server.name}: ${rounds
        .get(server)!
        .map((x) => x.mbps.toFixed(0))
        .join(", ")}`,
    );
}

export async function run(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), "files-bench-events-"));
  const [firstProgress, secondProgress, names] =
    AA === undefined
      ? [true, false, ["progress-on", "progress-off"]]
      : [AA === "on", AA === "on", [`A (progress ${AA})`, `B (progress ${AA})`]];
  const first = await start("first", work, firstProgress, 0);
  const second = await start("second", work, secondProgress, 1);
  first.name = names[0]!;
  second.name = names[1]!;
  const subscribers = new Subscribers(apiKey);
  try {
    console.log(`load average at the start: ${loadAverage()} (${os.availableParallelism()} cores, shared)`);
    console.log(
      `${PAIRS} pairs of rounds (+1 warm-up pair) per phase; a round is ${UPLOADS_PER_ROUND} signed PUTs of ${UPLOAD_BYTES / MiB} MiB, ${CONCURRENT} at a time`,
    );
    let started = loadAverage();
    report("nobody subscribed", first, second, await compare(first, second, undefined), started);
    await subscribers.subscribe(first.url, first.slot, SUBSCRIBERS);
    await subscribers.subscribe(second.url, second.slot, SUBSCRIBERS);
    started = loadAverage();
    const subscribed = await compare(first, second, subscribers);
    report(
      `${SUBSCRIBERS} SSE subscribers on fileEvents (every event parsed and checked)`,
      first,
      second,
      subscribed,
      started,
    );
  } finally {
    subscribers.terminate();
    for (const server of [first, second]) server.child.kill("SIGTERM");
    await rm(work, { recursive: true, force: true });
  }
}
