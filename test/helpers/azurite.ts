import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { azuriteAccount } from "../../src/config.js";

const require = createRequire(import.meta.url);

/** Azurite's blob service on loopback with one fresh container, and what a client needs to reach it. */
export interface TestAzurite {
  /** Blob service endpoint, `http://127.0.0.1:<port>/devstoreaccount1`. */
  endpoint: string;
  accountName: string;
  accountKey: string;
  container: string;
  connectionString: string;
  /** Environment for `loadConfig` selecting this container. */
  env: Record<string, string>;
  /** Deletes the container, and stops Azurite once no one else in this test file uses it. */
  close(): Promise<void>;
}

interface RunningAzurite {
  child: ChildProcess;
  dir: string;
  endpoint: string;
}

/**
 * One Azurite per test file (per module instance), started on first use and stopped when its
 * last user closes: a child process of its own, as it brings its own HTTP stack and telemetry.
 */
let running: Promise<RunningAzurite> | undefined;
let users = 0;

async function launch(): Promise<RunningAzurite> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "azurite-"));
  const main = require.resolve("azurite/dist/src/blob/main.js");
  const child = spawn(
    process.execPath,
    [
      "--require",
      path.join(import.meta.dirname, "exit-with-parent.cjs"),
      main,
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      "0",
      "--location",
      dir,
      "--silent",
      // Without it Azurite sends usage data to an outside host.
      "--disableTelemetry",
      // The SDK speaks a newer service version than the last Azurite that runs on Node 20.
      "--skipApiVersionCheck",
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`Azurite exited with ${code}: ${output}`)));
  });
  return { child, dir, endpoint: `http://127.0.0.1:${port}/${azuriteAccount.accountName}` };
}

async function stop(azurite: RunningAzurite): Promise<void> {
  const exited = new Promise((resolve) => azurite.child.once("exit", resolve));
  // exit-with-parent.cjs ends the process when its stdin closes.
  azurite.child.stdin?.end();
  await exited;
  await rm(azurite.dir, { recursive: true, force: true });
}

/** A fresh container on this test file's Azurite (started if need be). */
export async function startAzurite(): Promise<TestAzurite> {
  users += 1;
  running ??= launch();
  let azurite: RunningAzurite;
  try {
    azurite = await running;
  } catch (error) {
    users -= 1;
    running = undefined;
    throw error;
  }
  const { accountName, accountKey } = azuriteAccount;
  const container = `test-${randomBytes(8).toString("hex")}`;
  const service = new BlobServiceClient(azurite.endpoint, new StorageSharedKeyCredential(accountName, accountKey));
  await service.getContainerClient(container).create();
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=${accountName};AccountKey=${accountKey};BlobEndpoint=${azurite.endpoint};`;
  return {
    endpoint: azurite.endpoint,
    accountName,
    accountKey,
    container,
    connectionString,
    env: { STORAGE_DRIVER: "azure", AZURE_STORAGE_CONNECTION_STRING: connectionString, AZURE_CONTAINER: container },
    async close() {
      await service.getContainerClient(container).deleteIfExists();
      users -= 1;
      if (users === 0) {
        running = undefined;
        await stop(azurite);
      }
    },
  };
}
