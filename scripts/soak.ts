/**
 * Soak test (`npm run soak`, not part of `npm test`): SOAK_CLIENTS clients for SOAK_MINUTES minutes
 * run every upload flow against the compiled server (PUT, POST, MULTIPART, GraphQL multipart,
 * base64, overwrite, delete, abort, listing); with SOAK_KILL=1 the server is killed (SIGKILL) at
 * random moments and started again. Then a verification pass on the data the server left:
 * every file a client saw completed (and did not delete) is there with its bytes; every UPLOADED
 * file's bytes match its checksum; after a reconciliation no object is left without a row. Prints
 * counts; exits 1 on any loss.
 *
 *   SOAK_CLIENTS=32 SOAK_MINUTES=10 SOAK_KILL=1 npm run soak
 *   SOAK_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/soak npm run soak   (an empty database)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes, randomInt } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { SoakLedger } from "./soak-ledger.js";

const clients = Number(process.env.SOAK_CLIENTS ?? 8);
const minutes = Number(process.env.SOAK_MINUTES ?? 1);
const kill = process.env.SOAK_KILL === "1";
const apiKey = "soak-key";
const root = path.resolve(import.meta.dirname, "..");

const dir = await mkdtemp(path.join(os.tmpdir(), "files-soak-"));
const env = {
  DATABASE_URL: process.env.SOAK_DATABASE_URL ?? `file:${dir}/app.db`,
  STORAGE_LOCAL_DIR: path.join(dir, "objects"),
  SIGNING_SECRET: "soak-secret",
  BOOTSTRAP_API_KEY: apiKey,
  RATE_LIMIT_PER_MINUTE: "100000000",
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000000",
  LOG_LEVEL: "error",
};
const port = await freePort();
const base = `http://127.0.0.1:${port}`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

let child: ChildProcess | undefined;
async function startServer(): Promise<void> {
  child = spawn(process.execPath, [path.join(root, "dist", "main.js")], {
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1", PUBLIC_URL: base },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let tries = 0; tries < 300; tries += 1) {
    if ((await fetch(`${base}/readyz`).catch(() => undefined))?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the server did not become ready");
}
async function stopServer(signal: NodeJS.Signals): Promise<void> {
  const running = child;
  if (running === undefined || running.exitCode !== null) return;
  const exited = new Promise((resolve) => running.once("exit", resolve));
  running.kill(signal);
  await exited;
}

const counts: Record<string, number> = {};
const count = (name: string): void => {
  counts[name] = (counts[name] ?? 0) + 1;
};

const ledger = new SoakLedger();

async function graphql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.some((error) => error.extensions?.code === "INTERNAL_SERVER_ERROR")) count("internal errors");
  if (body.data == null) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const created = `__typename ... on CreateFilePayload { file { id checksumSha256 } upload { method url headers { name value } fields { name value } parts { partNumber url headers { name value } } } }`;
interface Created {
  createFile: {
    __typename: string;
    file?: { id: string; checksumSha256: string | null };
    upload?: {
      method: string;
      url: string | null;
      headers: { name: string; value: string }[];
      fields: { name: string; value: string }[];
      parts: { partNumber: number; url: string; headers: { name: string; value: string }[] }[];
    } | null;
  };
}
const createFile = (input: Record<string, unknown>) =>
  graphql<Created>(`mutation ($input: CreateFileInput!) { createFile(input: $input) { ${created} } }`, {
    input: { workspaceId: "default", ...input },
  });
const complete = (id: string, parts?: unknown[]) =>
  graphql<{ completeUpload: { __typename: string; file?: { checksumSha256: string } } }>(
    `mutation ($id: ID!, $parts: [CompletedPart!]) { completeUpload(input: { id: $id, parts: $parts }) { __typename ... on FilePayload { file { checksumSha256 } } } }`,
    { id, parts },
  );
const headersOf = (list: { name: string; value: string }[]) =>
  Object.fromEntries(
    list
      .filter((header) => header.name.toLowerCase() !== "content-length")
      .map((header) => [header.name, header.value]),
  );

/** One flow, picked at random; a failure caused by a kill is counted, never a loss by itself. */
async function flow(): Promise<void> {
  const bytes = randomBytes(randomInt(1, 64 * 1024));
  const name = `soak-${randomInt(1e9)}.bin`;
  const kind = ["put", "post", "multipart", "graphqlMultipart", "base64", "overwrite", "delete", "abort", "list"][
    randomInt(9)
  ]!;
  count(kind);
  if (kind === "put" || kind === "post" || kind === "multipart") {
    const method = kind.toUpperCase();
    const { createFile: result } = await createFile({ name, size: bytes.length, uploadMethod: method });
    const { file, upload } = result;
    if (file === undefined || upload == null) return;
    let parts: { partNumber: number; etag: string }[] | undefined;
    if (method === "PUT") await fetch(upload.url!, { method: "PUT", headers: headersOf(upload.headers), body: bytes });
    else if (method === "POST") {
      const form = new FormData();
      for (const field of upload.fields) form.append(field.name, field.value);
      form.append("file", new Blob([bytes]), name);
      await fetch(upload.url!, { method: "POST", body: form });
    } else {
      const part = upload.parts[0]!;
      const response = await fetch(part.url, { method: "PUT", headers: headersOf(part.headers), body: bytes });
      parts = [{ partNumber: 1, etag: response.headers.get("etag") ?? "" }];
    }
    const done = await complete(file.id, parts);
    if (done.completeUpload.__typename === "FilePayload")
      ledger.confirmed(file.id, done.completeUpload.file?.checksumSha256);
  } else if (kind === "graphqlMultipart") {
    const form = new FormData();
    form.append(
      "operations",
      JSON.stringify({
        query: `mutation ($input: CreateFileInput!) { createFile(input: $input) { ${created} } }`,
        variables: { input: { workspaceId: "default", name, file: null } },
      }),
    );
    form.append("map", JSON.stringify({ 0: ["variables.input.file"] }));
    form.append("0", new Blob([bytes]), name);
    const response = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "x-graphql-csrf": "1" },
      body: form,
    });
    const body = (await response.json()) as { data?: Created };
    const file = body.data?.createFile.file;
    if (file !== undefined) ledger.confirmed(file.id, file.checksumSha256);
  } else if (kind === "base64" || kind === "overwrite") {
    const externalId = kind === "overwrite" ? `soak-shared-${randomInt(4)}` : undefined;
    const { createFile: result } = await createFile({
      name,
      externalId,
      overwrite: externalId !== undefined,
      content: Buffer.from(bytes).toString("base64"),
    });
    if (result.file !== undefined) ledger.confirmed(result.file.id, result.file.checksumSha256);
  } else if (kind === "delete" || kind === "abort") {
    if (kind === "abort") {
      const { createFile: result } = await createFile({ name });
      if (result.file !== undefined)
        await graphql(`mutation ($id: ID!) { abortUpload(id: $id) { __typename } }`, { id: result.file.id });
      return;
    }
    const ids = [...ledger.expected.keys()];
    const id = ids[randomInt(Math.max(1, ids.length))];
    if (id === undefined) return;
    ledger.deleteSent(id);
    const result = await graphql<{ deleteFile: { __typename: string } }>(
      `mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`,
      { id },
    );
    ledger.deleteAnswered(id, result.deleteFile.__typename);
  } else {
    await graphql(`{ files(workspaceId: "default", first: 20) { totalCount edges { node { id } } } }`, {});
  }
}

/** Overwrites keep the id: the checksum a client last confirmed for an externalId's file is what it must hold. */
async function client(until: number): Promise<void> {
  while (Date.now() < until) {
    try {
      await flow();
    } catch (error) {
      // By cause: refused connections while the server restarts, or anything else worth a look.
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      count(`failed: ${cause ?? (error as Error).message.slice(0, 60)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function killer(until: number): Promise<void> {
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, randomInt(2000, 15000)));
    if (Date.now() >= until) return;
    await stopServer("SIGKILL");
    count("kills");
    await startServer();
  }
}

await startServer();
const started = Date.now();
const until = started + minutes * 60_000;
await Promise.all([...Array.from({ length: clients }, () => client(until)), ...(kill ? [killer(until)] : [])]);
await stopServer("SIGTERM");

// Verification, on the data the server left, through the app's own modules.
const app = await createApp(loadConfig({ ...env, PUBLIC_URL: base }), pino({ level: "silent" }));
const losses: string[] = [];
try {
  const reconciled = await app.sweeper.reconcile(new Date(Date.now() + 16 * 60_000));
  const rows = await app.db.file.findMany({
    where: { status: "UPLOADED" },
    select: { id: true, storageKey: true, checksumSha256: true },
  });
  for (const row of rows) {
    const stream = await app.storage.getObject(row.storageKey).catch(() => undefined);
    if (stream === undefined) {
      losses.push(`file ${row.id} is UPLOADED without its object`);
      continue;
    }
    const hash = createHash("sha256");
    for await (const chunk of stream) hash.update(chunk as Buffer);
    if (hash.digest("hex") !== row.checksumSha256) losses.push(`file ${row.id}'s bytes do not match its checksum`);
  }
  const byId = new Map(rows.map((row) => [row.id, row.checksumSha256]));
  let overwritten = 0;
  for (const globalId of ledger.vanished) losses.push(`file ${globalId}, completed, was not found by a delete`);
  for (const [globalId, last] of ledger.expected) {
    if (ledger.uncertain(globalId)) continue;
    const id = Buffer.from(globalId, "base64")
      .toString("utf8")
      .replace(/^File:/, "");
    const checksum = byId.get(id);
    if (checksum === undefined) losses.push(`file ${id}, completed, is gone`);
    // A shared externalId's file was overwritten by another client since: its content changed by design.
    else if (checksum !== null && checksum !== last) overwritten += 1;
  }
  let orphans = 0;
  for await (const page of app.storage.listObjects!()) {
    for (const object of page) {
      const owner = await app.db.file.count({ where: { storageKey: object.key } });
      const version = await app.db.fileVersion.count({ where: { storageKey: object.key } });
      if (owner + version === 0) orphans += 1;
    }
  }
  if (orphans > 0) losses.push(`${orphans} objects have no row after a reconciliation`);
  console.log(
    JSON.stringify(
      {
        clients,
        minutes,
        kill,
        database: env.DATABASE_URL.startsWith("postgres") ? "postgresql" : "sqlite",
        seconds: Math.round((Date.now() - started) / 1000),
        flows: counts,
        confirmedFiles: ledger.expected.size,
        uploadedRows: rows.length,
        overwrittenSince: overwritten,
        reconciliation: reconciled,
        losses: losses.length,
      },
      null,
      2,
    ),
  );
  for (const loss of losses.slice(0, 20)) console.error(`LOSS: ${loss}`);
} finally {
  await app.close();
  await rm(dir, { recursive: true, force: true });
}
process.exit(losses.length > 0 ? 1 : 0);
