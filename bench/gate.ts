/**
 * The gate's costs, on the embedded default (SQLite, local disk):
 * - what authentication adds to a request: the same one-row `file(id)` query on a public
 *   workspace (the bootstrap workspace, made public), anonymous (no authentication: the baseline) against an API key and an OIDC JWT
 *   (RS256, keys from a local issuer), interleaved, BENCH_GATE_RUNS (default 2000) each. Also
 *   `Authenticator.authenticate` alone, in this process, for each kind;
 * - what refusing the alias bombs costs: wall time of each refusal, the server's peak RSS
 *   (VmHWM) before and after, and /healthz answered while bombs are in flight.
 * The server runs as a child process on loopback, as `npm start` runs it.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { grantRole } from "../src/access/admin.js";
import { Authenticator } from "../src/access/authenticate.js";
import { GrantCache } from "../src/access/grant-cache.js";
import { OidcVerifier } from "../src/access/oidc.js";
import { createDb } from "../src/db/client.js";
import { startIssuer } from "../test/helpers/oidc-issuer.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const apiKey = "bench-key";
const audience = "bench";
const runs = Number(process.env.BENCH_GATE_RUNS ?? 2000);
const warmUp = 300;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function memory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const ms = (value: number): string => value.toFixed(3).padStart(8);

export async function run(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), "files-bench-gate-"));
  const issuer = await startIssuer(audience);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: `file:${path.join(work, "app.db")}`,
    STORAGE_LOCAL_DIR: path.join(work, "objects"),
    BOOTSTRAP_API_KEY: apiKey,
    SIGNING_SECRET: "bench",
    OIDC_ISSUER: issuer.url,
    OIDC_AUDIENCE: audience,
    RATE_LIMIT_PER_MINUTE: "100000000",
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000000",
    LOG_LEVEL: "warn",
  };
  const server = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: "inherit",
  });
  const db = createDb(env.DATABASE_URL);
  try {
    for (
      let attempt = 0;
      !(await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      ));
      attempt += 1
    ) {
      if (attempt > 300) throw new Error("the server did not come up");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The bootstrap key's workspace, made public so an anonymous caller reads the same file.
    await db.workspace.update({ where: { slug: "default" }, data: { public: true } });
    await grantRole(db, "default", { issuer: issuer.url, subject: "bench-user" }, "READER");
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    const created = (await (
      await post(
        {
          query: `mutation { createFile(input: { workspaceId: "default", name: "one.txt", content: "b25l" }) { ... on CreateFilePayload { file { id } } } }`,
        },
        { authorization: `Bearer ${apiKey}` },
      )
    ).json()) as { data: { createFile: { file: { id: string } } } };
    const query = {
      query: `query ($id: ID!) { file(id: $id) { id name size } }`,
      variables: { id: created.data.createFile.file.id },
    };
    // A token valid for the whole run; the same one every request, as a client reuses it.
    const jwt = await issuer.token({ sub: "bench-user", exp: Math.floor(Date.now() / 1000) + 3600 });
    const kinds: Record<string, Record<string, string>> = {
      anonymous: {},
      "API key": { authorization: `Bearer ${apiKey}` },
      "OIDC JWT": { authorization: `Bearer ${jwt}` },
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((kind) => [kind, []]));
    for (let i = 0; i < warmUp + runs; i += 1) {
      for (const [kind, headers] of Object.entries(kinds)) {
        const started = performance.now();
        const response = await post(query, headers);
        const body = (await response.json()) as { data?: { file: { id: string } | null } };
        if (body.data?.file == null) throw new Error(`${kind}: ${JSON.stringify(body)}`);
        if (i >= warmUp) times[kind]?.push(performance.now() - started);
      }
    }
    console.log(`one-row file(id) query over HTTP, ${runs} runs each, interleaved (client-side ms):`);
    const baseline = percentile(
      [...(times.anonymous ?? [])].sort((a, b) => a - b),
      50,
    );
    for (const [kind, values] of Object.entries(times)) {
      const sorted = [...values].sort((a, b) => a - b);
      const p50 = percentile(sorted, 50);
      console.log(
        `  ${kind.padEnd(10)} p50 ${ms(p50)}  p95 ${ms(percentile(sorted, 95))}  added vs anonymous (p50) ${ms(p50 - baseline)}`,
      );
    }

    // Authentication alone, in this process, against the same database.
    const authenticator = new Authenticator({
      db,
      // What one authentication costs: the key's grants read every time, as on a cache miss.
      grantCache: new GrantCache({ ttlMs: 0 }),
      oidc: new OidcVerifier({
        issuer: issuer.url,
        audience,
        clockToleranceSeconds: 60,
        groupsClaim: "groups",
        jwksCooldownMs: 30_000,
      }),
    });
    console.log(`\nAuthenticator.authenticate alone, ${runs} calls each (ms):`);
    for (const [kind, headers] of Object.entries(kinds)) {
      const values: number[] = [];
      for (let i = 0; i < warmUp + runs; i += 1) {
        const started = performance.now();
        await authenticator.authenticate(headers.authorization);
        if (i >= warmUp) values.push(performance.now() - started);
      }
      values.sort((a, b) => a - b);
      console.log(`  ${kind.padEnd(10)} p50 ${ms(percentile(values, 50))}  p95 ${ms(percentile(values, 95))}`);
    }

    console.log("\nalias bombs, anonymous (refused before execution):");
    for (const count of [40_000, 10_000]) {
      const bomb = `{ ${Array.from({ length: count }, (_, i) => `a${i}: __schema { types { name fields { name type { name } } } }`).join(" ")} }`;
      const before = await memory(server.pid ?? 0);
      const health: number[] = [];
      let inFlight = true;
      const probe = (async () => {
        while (inFlight) {
          const started = performance.now();
          await fetch(`${url}/healthz`);
          health.push(performance.now() - started);
        }
      })();
      const durations: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const started = performance.now();
        const response = await post({ query: bomb });
        const body = (await response.json()) as { errors?: { message: string }[] };
        durations.push(performance.now() - started);
        if (!body.errors?.[0]?.message.includes("Token limit")) throw new Error(JSON.stringify(body).slice(0, 300));
      }
      inFlight = false;
      await probe;
      const after = await memory(server.pid ?? 0);
      health.sort((a, b) => a - b);
      console.log(
        `  ${count} aliases (${(bomb.length / 1e6).toFixed(1)} MB): refused in ${durations.map((d) => d.toFixed(0)).join(", ")} ms;` +
          ` server RSS ${before.rss.toFixed(0)} → ${after.rss.toFixed(0)} MiB, peak (VmHWM) ${before.peak.toFixed(0)} → ${after.peak.toFixed(0)} MiB;` +
          ` /healthz meanwhile ${health.length} answers, max ${(health.at(-1) ?? 0).toFixed(1)} ms`,
      );
    }
  } finally {
    server.kill("SIGTERM");
    await db.$disconnect();
    await issuer.close();
    await rm(work, { recursive: true, force: true });
  }
}
