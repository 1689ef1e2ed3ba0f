import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { knownMigrations } from "../src/db/migrate.js";
import { createTestDatabase, execute, testProvider } from "./helpers/database.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGTERM");
});

interface Instance {
  port: number;
  logs: Record<string, unknown>[];
}

/** Starts `src/main.ts` on a free port; resolves once it listens, with its log lines so far. */
function startInstance(env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (typeof entry.port === "number") resolve({ port: entry.port, logs });
      }
    });
    child.once("exit", (code) => reject(new Error(`instance exited with ${code}: ${stderr}`)));
  });
}

// Two cold `tsx` starts on a busy two-core machine take a while.
it(`two instances started at once against one empty ${testProvider} database both become ready, migrating it once`, {
  timeout: 90_000,
}, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "files-instances-"));
  const database = await createTestDatabase(dir);
  try {
    const env = {
      DATABASE_URL: database.url,
      STORAGE_LOCAL_DIR: path.join(dir, "objects"),
      SIGNING_SECRET: "shared-secret",
      BOOTSTRAP_API_KEY: "instances-key",
    };
    const instances = await Promise.all([startInstance(env), startInstance(env)]);
    for (const { port } of instances) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      const viewer = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer instances-key" },
        body: JSON.stringify({ query: "{ viewer { workspaces { name } } }" }),
      });
      expect(await viewer.json()).toEqual({ data: { viewer: { workspaces: [{ name: "Default" }] } } });
    }
    const migratedBy = instances.filter(({ logs }) => logs.some((entry) => entry.msg === "database migrated"));
    expect(migratedBy).toHaveLength(1);
    const applied = await execute(database.url, `SELECT "name" FROM "_migrations" ORDER BY "name"`);
    expect(applied.map((row) => row.name)).toEqual(knownMigrations(testProvider).map((migration) => migration.name));
  } finally {
    for (const child of children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
