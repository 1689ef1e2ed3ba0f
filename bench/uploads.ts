/**
 * GraphQL multipart uploads to the local driver against a raw Node server that streams the body
 * to disk: MB/s of each, their ratio, and the real server's peak RSS growth and CPU time during the
 * 512 MiB and 1 GiB uploads, against the issue's targets.
 * With PEER_DIRECTUS_URL (and PEER_DIRECTUS_TOKEN) set, the peer's `POST /files` is measured in
 * the same rounds, and 4 KiB uploads at 16 concurrent compare requests per second.
 * The target ratio is against that minimal raw server, whose file stream has Node's default
 * 16 KiB buffer. A second, buffered baseline (the same server with a 1 MiB file stream buffer, as
 * the local driver uses) is reported beside it, so the comparison is not flattered by the minimal
 * server's small writes. It is measured in a phase of its own before the main rounds, on a page
 * cache that earlier uploads have not filled, and its files are deleted before the main rounds
 * start, which therefore run as they would without it. In the main rounds each server's upload is
 * deleted once measured (removeFilesIn, removePeerFiles): otherwise the later servers of a round
 * would write while the kernel writes back the earlier ones' gigabytes of dirty pages.
 * All servers run as child processes on loopback; their RSS is read from /proc/<pid>/status.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MiB = 1024 * 1024;
const root = fileURLToPath(new URL("..", import.meta.url));
export const apiKey = "bench-key";
/**
 * The compiled server the benches start (`node dist/main.js`, as documented); BENCH_SERVER names
 * another build's entry to measure it the same way (a copy of an earlier `dist`, to compare builds).
 */
export const serverEntry = process.env.BENCH_SERVER ?? "dist/main.js";
/**
 * The sizes measured. The largest is one byte short of 1 GiB for every server: the peer is started
 * with FILES_MAX_UPLOAD_SIZE=1gb, and its parser (busboy) refuses a file of exactly its limit.
 * BENCH_UPLOAD_SIZES (MiB, comma-separated; 1024 is that largest size) and BENCH_UPLOAD_RUNS (runs
 * per size) narrow a run, e.g. to the large sizes while profiling.
 */
const defaultSizes = [
  { label: "1 MiB", bytes: MiB, runs: 20 },
  { label: "64 MiB", bytes: 64 * MiB, runs: 3 },
  { label: "512 MiB", bytes: 512 * MiB, runs: 2 },
  { label: "1 GiB-1", bytes: 1024 * MiB - 1, runs: 2 },
];
const chosenSizes = process.env.BENCH_UPLOAD_SIZES?.split(",").map((mib) => Math.round(Number(mib) * MiB));
const sizes = defaultSizes
  .filter(({ bytes }) => chosenSizes === undefined || chosenSizes.some((chosen) => Math.abs(chosen - bytes) <= 1))
  .map((size) => ({ ...size, runs: Number(process.env.BENCH_UPLOAD_RUNS ?? size.runs) }));
/** The sizes whose server RSS growth is reported (the target: at most 32 MiB). */
const rssSizes = new Set([512 * MiB, 1024 * MiB - 1]);
const targets = { peer: 1.2, raw: 0.9, rssMiB: 32, small: 4 };
/** BENCH_SMALL=0 skips the 4 KiB rounds. */
const measureSmall = process.env.BENCH_SMALL !== "0";
/** The peer measured beside us when PEER_DIRECTUS_URL is set (../shared/peers/run-directus.sh). */
export const peer =
  process.env.PEER_DIRECTUS_URL === undefined
    ? undefined
    : {
        url: process.env.PEER_DIRECTUS_URL.replace(/\/+$/, ""),
        token: process.env.PEER_DIRECTUS_TOKEN ?? "peer-bench-static-token",
      };
const smallFile = { bytes: 4096, concurrency: 16, seconds: 10 };
const warmUpRequests = 50;
const floorRequests = 100;
/** Sent over and over as the file's bytes: random, so nothing compresses or dedupes. */
const block = randomBytes(4 * MiB);

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Waits up to a minute for `url` to answer 2xx (a server compiled by tsx on a loaded machine is slow to start). */
export async function waitFor(url: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (
      await fetch(url).then(
        (response) => response.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not come up`);
}

export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the line, i.e. 12 and 13 after "(comm) state".
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Sends `head`, `size` file bytes and `tail` as one POST body; resolves with seconds taken and the response. */
export function send(
  url: string,
  headers: Record<string, string>,
  head: Buffer,
  size: number,
  tail: Buffer,
): Promise<{ seconds: number; body: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(
      url,
      { method: "POST", headers: { ...headers, "content-length": String(head.length + size + tail.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const body = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${body}`));
          else resolve({ seconds, body });
        });
      },
    );
    req.on("error", reject);
    req.write(head);
    let sent = 0;
    const pump = (): void => {
      while (sent < size) {
        const chunk = block.subarray(0, Math.min(block.length, size - sent));
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end(tail);
    };
    pump();
  });
}

export function multipartParts(size: number): { headers: Record<string, string>; head: Buffer; tail: Buffer } {
  const boundary = "----bench-boundary-7MA4YWxkTrZu0gW";
  const operations = JSON.stringify({
    query:
      "mutation ($input: CreateFileInput!) { createFile(input: $input) { __typename ... on CreateFilePayload { file { size status } } ... on Error { message } } }",
    variables: { input: { workspaceId: "default", name: "bench.bin", size, file: null } },
  });
  return {
    headers: {
      authorization: `Bearer ${apiKey}`,
      "x-graphql-csrf": "1",
      "content-type": `multipart/form-data; boundary=${boundary}`,
    },
    head: Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.file"]}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    tail: Buffer.from(`\r\n--${boundary}--\r\n`),
  };
}

/** The peer's upload: one multipart/form-data POST to /files with the bytes in field `file`. */
export function directusParts(token: string): { headers: Record<string, string>; head: Buffer; tail: Buffer } {
  const boundary = "----bench-boundary-7MA4YWxkTrZu0gW";
  return {
    headers: { authorization: `Bearer ${token}`, "content-type": `multipart/form-data; boundary=${boundary}` },
    head: Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    tail: Buffer.from(`\r\n--${boundary}--\r\n`),
  };
}

/** Runs `once` from `concurrency` loops for `seconds`; resolves with completions per second. */
export async function throughput(once: () => Promise<unknown>, concurrency: number, seconds: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await once();
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/**
 * Starts a script as a child process: `.js` files (the compiled server, as documented) with plain
 * node, TypeScript through tsx.
 */
/** `preload`: a module imported before `args` run, talking to the bench over an IPC channel (bench/loop-delay.ts). */
export function startChild(args: string[], env: Record<string, string>, preload?: string): ChildProcess {
  // BENCH_CPU_PROFILE=<dir> writes V8 CPU profiles of the servers there, for finding hot spots.
  const profile = process.env.BENCH_CPU_PROFILE
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`]
    : [];
  const loader = args[0]?.endsWith(".ts") ? ["--import", "tsx"] : [];
  const preloads = preload === undefined ? [] : ["--import", preload];
  return spawn(process.execPath, [...profile, ...loader, ...preloads, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: preload === undefined ? ["ignore", "pipe", "inherit"] : ["ignore", "pipe", "inherit", "ipc"],
  });
}

export const mbps = (bytes: number, seconds: number): number => bytes / seconds / 1e6;

/**
 * Runs `once` as `throughput` does and measures the CPU time (all threads, from /proc) process
 * `pid` spent meanwhile, per completion; no CPU figure without a pid.
 */
async function throughputAndCpu(
  once: () => Promise<unknown>,
  pid: number | undefined,
): Promise<{ rate: number; cpuMs: number | undefined }> {
  let done = 0;
  const before = pid === undefined ? 0 : await cpuSeconds(pid);
  const rate = await throughput(() => once().then(() => (done += 1)), smallFile.concurrency, smallFile.seconds);
  const cpuMs = pid === undefined ? undefined : (((await cpuSeconds(pid)) - before) * 1000) / done;
  return { rate, cpuMs };
}

/**
 * The peer's process id, for its CPU per upload: PEER_DIRECTUS_PID, else the pid file
 * ../shared/peers/run-directus.sh writes (in $TMPDIR/peer-directus), when that process is alive.
 */
async function peerPid(): Promise<number | undefined> {
  const given =
    process.env.PEER_DIRECTUS_PID ??
    (await readFile(path.join(os.tmpdir(), "peer-directus", "directus.pid"), "utf8").catch(() => undefined));
  const pid = Number(given?.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return cpuSeconds(pid).then(
    () => pid,
    () => undefined,
  );
}

const perUpload = (cpuMs: number | undefined): string =>
  cpuMs === undefined ? "" : `, server CPU ${cpuMs.toFixed(2)} ms per upload`;

/** 4 KiB files at 16 concurrent: our in-request GraphQL multipart against the peer's POST /files. */
async function smallFiles(
  graphqlUrl: string,
  serverPid: number,
  directus: { url: string; token: string },
  peerFiles: string[],
): Promise<void> {
  const ours = multipartParts(smallFile.bytes);
  const theirs = directusParts(directus.token);
  const oursOnce = () => send(graphqlUrl, ours.headers, ours.head, smallFile.bytes, ours.tail);
  const theirsOnce = () =>
    send(`${directus.url}/files`, theirs.headers, theirs.head, smallFile.bytes, theirs.tail).then(({ body }) =>
      peerFiles.push(peerFileId(body)),
    );
  await throughput(theirsOnce, smallFile.concurrency, 2);
  const peerMeasured = await throughputAndCpu(theirsOnce, await peerPid());
  const ourMeasured = await throughputAndCpu(oursOnce, serverPid);
  console.log(
    `4 KiB uploads, ${smallFile.concurrency} concurrent, ${smallFile.seconds} s each: ours ${ourMeasured.rate.toFixed(0)}/s (in-request GraphQL multipart${perUpload(ourMeasured.cpuMs)}), ` +
      `directus ${peerMeasured.rate.toFixed(0)}/s (POST /files${perUpload(peerMeasured.cpuMs)}): ${(ourMeasured.rate / peerMeasured.rate).toFixed(2)}x (target >= ${targets.small})\n`,
  );
}

/**
 * Deletes what a server stored (not its dot-named directories): every upload of the main rounds is
 * removed as soon as it is measured, so each server starts its upload with the same page cache, no
 * other server's dirty pages being written back under it, and the disk does not fill up.
 */
async function removeFilesIn(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith(".")) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** The id of the file a peer's `POST /files` created. */
function peerFileId(body: string): string {
  return (JSON.parse(body) as { data: { id: string } }).data.id;
}

/** Deletes the peer's files (`DELETE /files` with their ids), a thousand at a time. */
export async function removePeerFiles(directus: { url: string; token: string }, ids: string[]): Promise<void> {
  for (let start = 0; start < ids.length; start += 1000) {
    const response = await fetch(`${directus.url}/files`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${directus.token}`, "content-type": "application/json" },
      body: JSON.stringify(ids.slice(start, start + 1000)),
    });
    if (!response.ok) console.warn(`could not delete the peer's files: HTTP ${response.status}`);
  }
}
const fmt = (value: number): string => value.toFixed(1).padStart(8);

export async function run(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), "files-bench-"));
  const port = await freePort();
  /** The peer's files this run uploaded, deleted at the end (they are gigabytes). */
  const peerFiles: string[] = [];
  const server = startChild([serverEntry], {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: `file:${path.join(work, "app.db")}`,
    STORAGE_LOCAL_DIR: path.join(work, "objects"),
    BOOTSTRAP_API_KEY: apiKey,
    SIGNING_SECRET: "bench",
    MAX_SINGLE_UPLOAD_BYTES: String(2048 * MiB),
    RATE_LIMIT_PER_MINUTE: "100000000",
    LOG_LEVEL: "warn",
  });
  const rawDir = path.join(work, "raw");
  await mkdir(rawDir);
  const raw = startChild(["bench/raw-server.ts", rawDir], {});
  const bufferedDir = path.join(work, "buffered");
  await mkdir(bufferedDir);
  const buffered = startChild(["bench/raw-server.ts", bufferedDir, String(MiB)], {});
  const portOf = (child: ChildProcess): Promise<number> =>
    new Promise<number>((resolve) =>
      child.stdout?.once("data", (data: Buffer) => resolve(Number(data.toString().trim()))),
    );
  try {
    const rawPort = await portOf(raw);
    const bufferedPort = await portOf(buffered);
    await waitFor(`http://127.0.0.1:${port}/healthz`);
    const graphqlUrl = `http://127.0.0.1:${port}/graphql`;
    const rawUrl = `http://127.0.0.1:${rawPort}/upload`;
    const bufferedUrl = `http://127.0.0.1:${bufferedPort}/upload`;

    // The buffered baseline's own phase (see the module comment).
    await send(bufferedUrl, {}, Buffer.alloc(0), MiB, Buffer.alloc(0));
    const bufferedBest = new Map<number, number>();
    for (const { bytes, runs } of sizes) {
      for (let i = 0; i < runs; i++) {
        const run = await send(bufferedUrl, {}, Buffer.alloc(0), bytes, Buffer.alloc(0));
        bufferedBest.set(bytes, Math.max(bufferedBest.get(bytes) ?? 0, mbps(bytes, run.seconds)));
      }
    }
    await rm(bufferedDir, { recursive: true, force: true });

    // Warm up both main servers alike (JIT, database, directories): a server's first requests run
    // unoptimized code (the first ten GraphQL uploads of 1 MiB take 25–40 ms, later ones 5–10 ms),
    // and a long-running server is past them.
    const warm = multipartParts(MiB);
    for (let i = 0; i < warmUpRequests; i++) {
      await send(rawUrl, {}, Buffer.alloc(0), MiB, Buffer.alloc(0));
      await send(graphqlUrl, warm.headers, warm.head, MiB, warm.tail);
    }
    // What a request costs without the bytes: the floor under the small-file ratios.
    const tiny = multipartParts(1);
    const tinyMs = { raw: [] as number[], graphql: [] as number[] };
    for (let i = 0; i < floorRequests; i++) {
      tinyMs.raw.push((await send(rawUrl, {}, Buffer.alloc(0), 1, Buffer.alloc(0))).seconds * 1000);
      tinyMs.graphql.push((await send(graphqlUrl, tiny.headers, tiny.head, 1, tiny.tail)).seconds * 1000);
    }
    const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
    console.log(
      `1-byte upload, median of ${floorRequests}: raw ${median(tinyMs.raw).toFixed(2)} ms, graphql ${median(tinyMs.graphql).toFixed(2)} ms\n`,
    );

    if (peer !== undefined && measureSmall) await smallFiles(graphqlUrl, server.pid!, peer, peerFiles);

    console.log(
      "size       runs   raw MB/s  graphql MB/s   ratio | buffered raw MB/s   ratio" +
        (peer === undefined ? "" : " | directus MB/s  ours/directus"),
    );
    const directus = peer === undefined ? undefined : directusParts(peer.token);
    const large: string[] = [];
    for (const { label, bytes, runs } of sizes) {
      let rawBest = 0;
      let graphqlBest = 0;
      let peerBest = 0;
      let rssGrowth = 0;
      const cpu = { raw: 0, graphql: 0 };
      for (let i = 0; i < runs; i++) {
        if (peer !== undefined && directus !== undefined) {
          const peerRun = await send(`${peer.url}/files`, directus.headers, directus.head, bytes, directus.tail);
          await removePeerFiles(peer, [peerFileId(peerRun.body)]);
          peerBest = Math.max(peerBest, mbps(bytes, peerRun.seconds));
        }
        const rawCpu = await cpuSeconds(raw.pid!);
        const rawRun = await send(rawUrl, {}, Buffer.alloc(0), bytes, Buffer.alloc(0));
        await removeFilesIn(rawDir);
        cpu.raw = Math.max(cpu.raw, (await cpuSeconds(raw.pid!)) - rawCpu);
        rawBest = Math.max(rawBest, mbps(bytes, rawRun.seconds));
        const parts = multipartParts(bytes);
        const baseline = await rssBytes(server.pid!);
        let peak = baseline;
        const sampler = setInterval(() => {
          rssBytes(server.pid!).then(
            (rss) => (peak = Math.max(peak, rss)),
            () => undefined,
          );
        }, 20);
        const serverCpu = await cpuSeconds(server.pid!);
        const result = await send(graphqlUrl, parts.headers, parts.head, bytes, parts.tail);
        await removeFilesIn(path.join(work, "objects"));
        clearInterval(sampler);
        cpu.graphql = Math.max(cpu.graphql, (await cpuSeconds(server.pid!)) - serverCpu);
        if (!result.body.includes('"UPLOADED"')) throw new Error(`upload failed: ${result.body}`);
        graphqlBest = Math.max(graphqlBest, mbps(bytes, result.seconds));
        rssGrowth = Math.max(rssGrowth, peak - baseline);
      }
      const bufferedMbps = bufferedBest.get(bytes) ?? Number.NaN;
      console.log(
        `${label.padEnd(10)} ${String(runs).padStart(4)} ${fmt(rawBest)} ${fmt(graphqlBest)}      ${(graphqlBest / rawBest).toFixed(2)} |` +
          `          ${fmt(bufferedMbps)}    ${(graphqlBest / bufferedMbps).toFixed(2)}` +
          (peer === undefined ? "" : ` |      ${fmt(peerBest)}          ${(graphqlBest / peerBest).toFixed(2)}`),
      );
      if (rssSizes.has(bytes)) {
        const met = (ok: boolean): string => (ok ? "met" : "NOT met");
        large.push(
          `${label}: ours/raw ${(graphqlBest / rawBest).toFixed(2)} (target >= ${targets.raw}: ${met(graphqlBest >= targets.raw * rawBest)})` +
            (peer === undefined
              ? ""
              : `, ours/directus ${(graphqlBest / peerBest).toFixed(2)} (target >= ${targets.peer}: ${met(graphqlBest >= targets.peer * peerBest)})`) +
            `, server RSS growth ${(rssGrowth / MiB).toFixed(1)} MiB (target <= ${targets.rssMiB}: ${met(rssGrowth <= targets.rssMiB * MiB)})` +
            `, CPU s (most of the runs) raw ${cpu.raw.toFixed(2)} / ours ${cpu.graphql.toFixed(2)}`,
        );
      }
    }
    if (large.length > 0) console.log(`\n${large.join("\n")}`);
    console.log(
      `load average at the end: ${os
        .loadavg()
        .map((load) => load.toFixed(2))
        .join(" ")} on ${os.cpus().length} cores`,
    );
    console.log("MB/s = 10^6 bytes per second, best of the runs, client and servers on loopback on this machine.");
  } finally {
    const exited = (child: ChildProcess): Promise<unknown> => new Promise((resolve) => child.once("exit", resolve));
    server.kill();
    raw.kill();
    buffered.kill();
    await Promise.all([exited(server), exited(raw), exited(buffered)]);
    await rm(work, { recursive: true, force: true });
    if (peer !== undefined) await removePeerFiles(peer, peerFiles);
  }
}
