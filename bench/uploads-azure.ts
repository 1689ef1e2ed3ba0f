/**
 * GraphQL multipart uploads (bytes in the createFile request) to the server on the Azure driver,
 * streamed to Azurite with BlockBlobClient.uploadStream, against the same uploads to the server
 * on the local driver in the same run: MB/s of each, their ratio, and the Azure server's peak RSS
 * growth during the largest upload (uploadStream holds up to 5 blocks of 8 MiB). Azurite, both
 * servers and the client share this machine and its disk, so the ratio measures the whole path
 * to an emulator on loopback, not Azure's throughput.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startAzurite } from "../test/helpers/azurite.js";
import { apiKey, freePort, mbps, multipartParts, rssBytes, send, startChild, waitFor } from "./uploads.js";

const MiB = 1024 * 1024;
const sizes = [
  { label: "64 MiB", bytes: 64 * MiB, runs: 3 },
  { label: "512 MiB", bytes: 512 * MiB, runs: 1 },
];

async function startServer(
  work: string,
  name: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = startChild(["src/main.ts"], {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: `file:${path.join(work, `${name}.db`)}`,
    BOOTSTRAP_API_KEY: apiKey,
    SIGNING_SECRET: "bench",
    MAX_SINGLE_UPLOAD_BYTES: String(2048 * MiB),
    LOG_LEVEL: "warn",
    ...env,
  });
  await waitFor(`http://127.0.0.1:${port}/healthz`);
  return { child, url: `http://127.0.0.1:${port}/graphql` };
}

/** One upload; the best MB/s is kept by the caller, and the server's peak RSS growth is sampled during it. */
async function upload(
  server: { child: ChildProcess; url: string },
  bytes: number,
): Promise<{ mbps: number; growth: number }> {
  const parts = multipartParts(bytes);
  const baseline = await rssBytes(server.child.pid!);
  let peak = baseline;
  const sampler = setInterval(() => {
    rssBytes(server.child.pid!).then(
      (rss) => (peak = Math.max(peak, rss)),
      () => undefined,
    );
  }, 20);
  const result = await send(server.url, parts.headers, parts.head, bytes, parts.tail).finally(() =>
    clearInterval(sampler),
  );
  if (!result.body.includes('"UPLOADED"')) throw new Error(`upload failed: ${result.body}`);
  return { mbps: mbps(bytes, result.seconds), growth: peak - baseline };
}

export async function run(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), "files-bench-azure-"));
  const azurite = await startAzurite();
  const servers: ChildProcess[] = [];
  try {
    const local = await startServer(work, "local", { STORAGE_LOCAL_DIR: path.join(work, "objects") });
    servers.push(local.child);
    const azure = await startServer(work, "azure", azurite.env);
    servers.push(azure.child);
    // Warm both alike (JIT, database, connections).
    for (let i = 0; i < 20; i++) {
      await upload(local, MiB);
      await upload(azure, MiB);
    }
    console.log("size       runs  local MB/s  azure MB/s   ratio   azure server peak RSS growth");
    for (const { label, bytes, runs } of sizes) {
      let localBest = 0;
      let azureBest = 0;
      let growth = 0;
      for (let i = 0; i < runs; i++) {
        localBest = Math.max(localBest, (await upload(local, bytes)).mbps);
        const measured = await upload(azure, bytes);
        azureBest = Math.max(azureBest, measured.mbps);
        growth = Math.max(growth, measured.growth);
      }
      console.log(
        `${label.padEnd(10)} ${String(runs).padStart(4)} ${localBest.toFixed(1).padStart(11)} ${azureBest.toFixed(1).padStart(11)}` +
          `   ${(azureBest / localBest).toFixed(2).padStart(5)}   ${(growth / MiB).toFixed(1)} MiB`,
      );
    }
    console.log(
      `load average at the end: ${os
        .loadavg()
        .map((load) => load.toFixed(2))
        .join(" ")} on ${os.cpus().length} cores`,
    );
    console.log(
      "MB/s = 10^6 bytes per second, best of the runs; client, servers and Azurite on loopback on this machine.",
    );
  } finally {
    await Promise.all(
      servers.map((child) => {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill();
        return exited;
      }),
    );
    await azurite.close();
    await rm(work, { recursive: true, force: true });
  }
}
