/**
 * What a request costs when the bytes are few, on the embedded default (SQLite, local disk), with
 * the server started as documented (`node dist/main.js`) in a child process on loopback:
 * - 4 KiB presigned flows (createFile, PUT to the signed URL, completeUpload) at 16 concurrent,
 *   flows per second; with PEER_DIRECTUS_URL set, the peer's single-request `POST /files` of the
 *   same bytes at the same concurrency in the same run, and the ratio. Each server first gets the
 *   same warm-up at that concurrency (BENCH_FLOW_WARMUP seconds, default 20), reported by window,
 *   so that what is measured is the steady state of a warm JIT, not its first minutes;
 * - the server's own time (the access log's `durationMs`, from the request's arrival to its
 *   response's end) of a one-row `file(id)` query and of a `createFile` without bytes, one at a
 *   time: p50 and p95 of BENCH_FLOW_RUNS (default 1000) each after a warm-up;
 * - the server's CPU time (user + system, all threads, from /proc) per flow in the concurrent
 *   phase and per request of each of those two, which other work on the machine disturbs less
 *   than times on the clock;
 * - the SQL statements each step runs (the `db_statement_duration_seconds` counts at /metrics
 *   before and after 100 sequential requests of the step, by statement kind).
 * BENCH_DATABASE_URL runs the server on that database (e.g. an empty PostgreSQL one) instead of a
 * new SQLite file.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import {
  apiKey,
  cpuSeconds,
  directusParts,
  freePort,
  peer,
  send,
  serverEntry,
  startChild,
  throughput,
  waitFor,
} from "./uploads.js";

const concurrency = 16;
const seconds = 10;
const fileBytes = randomBytes(4096);
const runs = Number(process.env.BENCH_FLOW_RUNS ?? 1000);
const warmUpSeconds = Number(process.env.BENCH_FLOW_WARMUP ?? 20);
const warmUpWindow = 2;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP exchange on a keep-alive connection; resolves with the status and the body. */
function exchange(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Buffer | string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, agent, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

interface GraphQLAnswer {
  data?: Record<string, Record<string, unknown> & { __typename?: string }>;
  errors?: unknown[];
}

async function graphql(url: string, query: string, variables: Record<string, unknown>): Promise<GraphQLAnswer> {
  const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  const answer = await exchange(url, "POST", headers, JSON.stringify({ query, variables }));
  if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.body}`);
  const parsed = JSON.parse(answer.body) as GraphQLAnswer;
  if (parsed.errors !== undefined) throw new Error(JSON.stringify(parsed.errors));
  return parsed;
}

const createFile = `mutation CreateFile($input: CreateFileInput!) { createFile(input: $input) {
  __typename ... on CreateFilePayload { file { id } upload { url headers { name value } } } ... on Error { message } } }`;
const completeUpload = `mutation CompleteUpload($input: CompleteUploadInput!) { completeUpload(input: $input) {
  __typename ... on FilePayload { file { status } } ... on Error { message } } }`;
const fileById = `query FileById($id: ID!) { file(id: $id) { id name size status } }`;

interface Target {
  id: string;
  url: string;
  headers: { name: string; value: string }[];
}

async function create(url: string, name: string): Promise<Target> {
  const answer = await graphql(url, createFile, {
    input: { workspaceId: "default", name, mimeType: "application/octet-stream", size: fileBytes.length },
  });
  const payload = answer.data?.createFile as { __typename: string; file: { id: string }; upload: Omit<Target, "id"> };
  if (payload.__typename !== "CreateFilePayload") throw new Error(JSON.stringify(payload));
  return { id: payload.file.id, ...payload.upload };
}

/** createFile, PUT the bytes to the signed URL with the headers it lists, completeUpload. */
async function flow(url: string): Promise<void> {
  const target = await create(url, "flow.bin");
  const headers = Object.fromEntries(target.headers.map(({ name, value }) => [name, value]));
  const put = await exchange(target.url, "PUT", headers, fileBytes);
  if (put.status !== 200) throw new Error(`PUT answered ${put.status}: ${put.body}`);
  const done = await graphql(url, completeUpload, { input: { id: target.id } });
  const status = (done.data?.completeUpload as { file?: { status: string } } | undefined)?.file?.status;
  if (status !== "UPLOADED") throw new Error(JSON.stringify(done));
}

/** Statements run so far, by kind, from the server's /metrics. */
async function statementCounts(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^db_statement_duration_seconds_count\{kind="(\w+)"\} (\d+)$/gm))
    counts.set(match[1]!, Number(match[2]));
  return counts;
}

/** Statements per call of `step`, by kind, over `calls` sequential calls. */
async function statementsPer(base: string, step: () => Promise<unknown>, calls = 100): Promise<string> {
  const before = await statementCounts(base);
  for (let i = 0; i < calls; i++) await step();
  const after = await statementCounts(base);
  const kinds = [...after].map(([kind, count]) => [kind, (count - (before.get(kind) ?? 0)) / calls] as const);
  const total = kinds.reduce((sum, [, per]) => sum + per, 0);
  return `${total.toFixed(2)} (${kinds
    .filter(([, per]) => per > 0)
    .map(([kind, per]) => `${kind} ${per.toFixed(2)}`)
    .join(", ")})`;
}

/**
 * Drives `once` at the bench's concurrency for `warmUpSeconds` before a server is measured, in
 * windows of `warmUpWindow` seconds; returns each window's rate and, given `cpuSeconds` (the
 * server's CPU time so far), its CPU per call, to show where they level off.
 */
async function warmUp(once: () => Promise<unknown>, cpuSeconds?: () => Promise<number>): Promise<string> {
  const windows: string[] = [];
  for (let left = warmUpSeconds; left > 0; left -= warmUpWindow) {
    let calls = 0;
    const cpuBefore = await cpuSeconds?.();
    const rate = await throughput(
      async () => {
        await once();
        calls += 1;
      },
      concurrency,
      Math.min(warmUpWindow, left),
    );
    const cpuAfter = await cpuSeconds?.();
    const cpu =
      cpuBefore === undefined || cpuAfter === undefined
        ? ""
        : ` (${(((cpuAfter - cpuBefore) * 1000) / calls).toFixed(2)} ms CPU)`;
    windows.push(`${rate.toFixed(0)}/s${cpu}`);
  }
  return windows.join(", ");
}

const percentile = (values: number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)] ?? Number.NaN;

export async function run(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), "files-bench-flows-"));
  const port = await freePort();
  const server = startChild([serverEntry], {
    PORT: String(port),
    HOST: "127.0.0.1",
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `file:${path.join(work, "app.db")}`,
    STORAGE_LOCAL_DIR: path.join(work, "objects"),
    BOOTSTRAP_API_KEY: apiKey,
    SIGNING_SECRET: "bench",
    RATE_LIMIT_PER_MINUTE: "100000000",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
  });
  // The access log: the server's own duration of each GraphQL operation, by operation.
  const serverMs = new Map<string, number[]>();
  let recording = false;
  createInterface({ input: server.stdout! }).on("line", (line) => {
    if (!recording) return;
    const entry = JSON.parse(line) as { msg?: string; durationMs?: number; operations?: string[] };
    if (entry.msg !== "request" || entry.operations?.length !== 1 || entry.durationMs === undefined) return;
    const name = entry.operations[0]!;
    serverMs.set(name, [...(serverMs.get(name) ?? []), entry.durationMs]);
  });
  try {
    await waitFor(`http://127.0.0.1:${port}/healthz`);
    const url = `http://127.0.0.1:${port}/graphql`;

    const pid = server.pid!;
    const warm = await warmUp(
      () => flow(url),
      () => cpuSeconds(pid),
    );
    console.log(`warm-up, ${concurrency} concurrent, ${warmUpWindow} s windows: flows ${warm}`);
    let flowsDone = 0;
    const cpuBefore = await cpuSeconds(pid);
    const flows = await throughput(
      async () => {
        await flow(url);
        flowsDone += 1;
      },
      concurrency,
      seconds,
    );
    const cpuPerFlow = ((await cpuSeconds(pid)) - cpuBefore) / flowsDone;
    let line = `4 KiB presigned flows (createFile + PUT + completeUpload), ${concurrency} concurrent, ${seconds} s: ${flows.toFixed(0)} flows/s, server CPU ${(cpuPerFlow * 1000).toFixed(2)} ms per flow`;
    if (peer !== undefined) {
      const { url: peerUrl, token } = peer;
      const parts = directusParts(token);
      const upload = () =>
        send(`${peerUrl}/files`, parts.headers, Buffer.concat([parts.head, fileBytes]), 0, parts.tail);
      console.log(`warm-up, ${concurrency} concurrent, ${warmUpWindow} s windows: directus ${await warmUp(upload)}`);
      const peerRate = await throughput(upload, concurrency, seconds);
      line += `; directus ${peerRate.toFixed(0)} uploads/s (POST /files, one request each): ${(flows / peerRate).toFixed(2)}x`;
    }
    console.log(line);

    const base = `http://127.0.0.1:${port}`;
    const { id } = await create(url, "probe.bin");
    const targets: Target[] = [];
    console.log("\nSQL statements per request (100 sequential requests each):");
    console.log(`  file(id)                     ${await statementsPer(base, () => graphql(url, fileById, { id }))}`);
    console.log(
      `  createFile (no bytes)        ${await statementsPer(base, async () => targets.push(await create(url, "count.bin")))}`,
    );
    const pending = [...targets];
    console.log(
      `  PUT to the signed URL        ${await statementsPer(base, async () => {
        const target = pending.shift()!;
        const headers = Object.fromEntries(target.headers.map(({ name, value }) => [name, value]));
        await exchange(target.url, "PUT", headers, fileBytes);
      })}`,
    );
    console.log(
      `  completeUpload               ${await statementsPer(base, async () => {
        await graphql(url, completeUpload, { input: { id: targets.shift()!.id } });
      })}`,
    );
    for (let i = 0; i < 300; i++) {
      await graphql(url, fileById, { id });
      await create(url, "warm.bin");
    }
    recording = true;
    const cpuMs = new Map<string, number>();
    for (const [operation, request] of [
      ["query FileById", () => graphql(url, fileById, { id })],
      ["mutation CreateFile", () => create(url, "timed.bin")],
    ] as const) {
      const before = await cpuSeconds(pid);
      for (let i = 0; i < runs; i++) await request();
      cpuMs.set(operation, (((await cpuSeconds(pid)) - before) * 1000) / runs);
    }
    // The last lines may still be on their way through the pipe.
    await new Promise((resolve) => setTimeout(resolve, 500));
    recording = false;
    console.log(
      `\nserver time (access log durationMs), ${runs} runs each, one at a time (${runs} of one, then of the other):`,
    );
    for (const operation of ["query FileById", "mutation CreateFile"]) {
      const times = serverMs.get(operation) ?? [];
      console.log(
        `  ${operation.padEnd(20)} n=${times.length}  p50 ${percentile(times, 0.5).toFixed(3)} ms  p95 ${percentile(times, 0.95).toFixed(3)} ms  server CPU ${cpuMs.get(operation)?.toFixed(2)} ms per request`,
      );
    }
    console.log(
      `load average at the end: ${os
        .loadavg()
        .map((load) => load.toFixed(2))
        .join(" ")} on ${os.cpus().length} cores`,
    );
  } finally {
    agent.destroy();
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill();
    await exited;
    await rm(work, { recursive: true, force: true });
  }
}
