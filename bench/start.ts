/**
 * The documented start, as an operator runs it: time until /healthz answers, the latency of the
 * first GraphQL request and of the tenth, and the resident memory of the whole process tree
 * (the command and every process under it) once idle. BENCH_START_COMMAND replaces the command
 * (default: the README's, `node dist/main.js`); it runs in a fresh data directory.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const command = process.env.BENCH_START_COMMAND ?? "node dist/main.js";
const apiKey = "bench-key";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Every process below `pid`, itself included, with its command and resident MiB. */
async function tree(pid: number): Promise<{ pid: number; command: string; rss: number }[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    parents.set(parent, [...(parents.get(parent) ?? []), Number(entry)]);
  }
  const found: { pid: number; command: string; rss: number }[] = [];
  const visit = async (current: number): Promise<void> => {
    const status = await readFile(`/proc/${current}/status`, "utf8").catch(() => "");
    const cmdline = (await readFile(`/proc/${current}/cmdline`, "utf8").catch(() => "")).replaceAll("\0", " ").trim();
    found.push({
      pid: current,
      command: cmdline.slice(0, 80),
      rss: Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024,
    });
    for (const child of parents.get(current) ?? []) await visit(child);
  };
  await visit(pid);
  return found;
}

export async function run(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), "files-bench-start-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn("sh", ["-c", `exec ${command}`], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: `file:${path.join(work, "app.db")}`,
      STORAGE_LOCAL_DIR: path.join(work, "objects"),
      BOOTSTRAP_API_KEY: apiKey,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    while (
      !(await fetch(`${url}/healthz`).then(
        (response) => response.ok,
        () => false,
      ))
    ) {
      if (performance.now() - started > 120_000) throw new Error("the server did not come up in 2 minutes");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ready = performance.now() - started;
    const request = async (): Promise<number> => {
      const before = performance.now();
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({
          query: `{ files(workspaceId: "default", first: 10) { totalCount edges { node { id name } } } }`,
        }),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      await response.json();
      return performance.now() - before;
    };
    const first = await request();
    let tenth = 0;
    for (let i = 2; i <= 10; i += 1) tenth = await request();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const processes = await tree(child.pid ?? 0);
    const total = processes.reduce((sum, entry) => sum + entry.rss, 0);
    console.log(`command: ${command}`);
    console.log(
      `ready (/healthz answers) after ${ready.toFixed(0)} ms; first GraphQL request ${first.toFixed(1)} ms, tenth ${tenth.toFixed(1)} ms`,
    );
    console.log(`idle RSS of the process tree after 5 s: ${total.toFixed(1)} MiB in ${processes.length} processes`);
    for (const entry of processes)
      console.log(`  ${String(entry.pid).padStart(7)} ${entry.rss.toFixed(1).padStart(7)} MiB  ${entry.command}`);
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 500));
    await rm(work, { recursive: true, force: true });
  }
}
