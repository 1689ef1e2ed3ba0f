import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, rename, rm, symlink } from "node:fs/promises";
import { Agent, request as httpRequest } from "node:http";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFile, putBytes } from "./helpers/files.js";
import { mainCommand, startMain } from "./helpers/main-process.js";
import { apiKey, startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ REQUEST_TIMEOUT: "1" });
});
afterAll(() => server.close());

/** A body that sends `chunks` pieces `gapMs` apart, and with `end` false never ends. */
function trickle(chunks: Uint8Array[], gapMs: number, end = true): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(chunk);
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      if (end) controller.close();
    },
  });
}

describe("slow clients", () => {
  it("answers 408 REQUEST_TIMEOUT to a GraphQL body that trickles past REQUEST_TIMEOUT", async () => {
    const started = Date.now();
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: trickle([Buffer.from('{"query":"{ viewer ')], 100, false),
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(408);
    const body = (await response.json()) as { error: { code: string; requestId: string } };
    expect(body.error).toMatchObject({ code: "REQUEST_TIMEOUT", requestId: response.headers.get("x-request-id") });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("lets a signed upload take longer than REQUEST_TIMEOUT", async () => {
    const created = await createFile(server, { name: "slow.txt", mimeType: "text/plain", size: 8 });
    const upload = created.upload!;
    const headers = Object.fromEntries(
      upload.headers.filter((h) => h.name !== "Content-Length").map((h) => [h.name, h.value]),
    );
    const response = await fetch(upload.url!, {
      method: "PUT",
      headers,
      body: trickle([Buffer.from("sl"), Buffer.from("ow"), Buffer.from("ly"), Buffer.from("!!")], 500),
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(200);
  });
  it("keeps an idle keep-alive connection longer than Node's 5 seconds, so a request sent on it is not reset", async () => {
    const agent = new Agent({ keepAlive: true });
    const get = () =>
      new Promise<{ status: number | undefined; reused: boolean }>((resolve, reject) => {
        const req = httpRequest(`${server.url}/healthz`, { agent }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode, reused: req.reusedSocket }));
        });
        req.on("error", reject).end();
      });
    try {
      expect(await get()).toEqual({ status: 200, reused: false });
      await new Promise((resolve) => setTimeout(resolve, 6000));
      expect(await get()).toEqual({ status: 200, reused: true });
    } finally {
      agent.destroy();
    }
  }, 20_000);
});

describe("one error shape", () => {
  it("gives a signed route's refusal the request id, as the header has it", async () => {
    const response = await fetch(`${server.url}/downloads/nothing/here?sig=x`);
    const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
    expect(response.status).toBe(403);
    expect(body.error).toEqual({
      code: expect.any(String),
      message: expect.any(String),
      requestId: response.headers.get("x-request-id"),
    });
  });

  it("gives GraphQL errors the request id in their extensions", async () => {
    const response = await server.graphql(`{ file(id: 5) { nope } }`);
    expect(response.errors?.[0]?.extensions?.requestId).toBe(response.headers.get("x-request-id"));
  });
});

describe("/readyz", () => {
  it("answers 503 naming the storage when the store cannot be read, and 200 once it can", async () => {
    const aside = `${server.objectsDir}.aside`;
    await rename(server.objectsDir, aside);
    // A link to itself: every path under it fails with ELOOP, whoever runs the test.
    await symlink(path.basename(server.objectsDir), server.objectsDir);
    try {
      const broken = await fetch(`${server.url}/readyz`);
      expect(broken.status).toBe(503);
      expect(await broken.json()).toEqual({ status: "not ready", failing: ["storage"] });
    } finally {
      await rm(server.objectsDir);
      await rename(aside, server.objectsDir);
    }
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});

/** Mounts a tmpfs of `size` at a fresh directory; undefined where this process may not mount. */
async function smallDisk(size: string): Promise<{ dir: string; unmount(): Promise<void> } | undefined> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "files-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "ignore" });
  } catch {
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    async unmount() {
      execFileSync("umount", [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe("a full disk", async () => {
  const disk = await smallDisk("1m");
  // Mounting a small file system needs root (as in CI's container); elsewhere this is skipped.
  it.skipIf(disk === undefined)(
    "answers 507 INSUFFICIENT_STORAGE to a signed PUT and a clear GraphQL error, keeping nothing",
    async () => {
      const objects = path.join(disk!.dir, "objects");
      await mkdir(objects);
      const full = await startServer({ STORAGE_LOCAL_DIR: objects });
      try {
        const bytes = Buffer.alloc(2 * 1024 * 1024, 7);
        const created = await createFile(full, { name: "big.bin", size: bytes.length });
        const put = await putBytes(created.upload!, bytes);
        expect(put.status).toBe(507);
        const body = (await put.json()) as { error: { code: string; requestId: string } };
        expect(body.error).toMatchObject({ code: "INSUFFICIENT_STORAGE", requestId: put.headers.get("x-request-id") });

        const before = await full.app.db.file.count();
        const inline = await full.graphql(
          `mutation ($input: CreateFileInput!) { createFile(input: $input) { __typename } }`,
          { input: { workspaceId: "default", name: "inline.bin", content: bytes.toString("base64") } },
        );
        expect(inline.errors?.[0]?.message).toContain("storage is full");
        expect(inline.errors?.[0]?.extensions).toMatchObject({
          code: "INTERNAL_SERVER_ERROR",
          requestId: inline.headers.get("x-request-id"),
        });
        expect(await full.app.db.file.count()).toBe(before);
      } finally {
        await full.close();
        await disk!.unmount();
      }
    },
  );
});

/** Runs the compiled server with `env` until it exits; resolves with its exit code and output. */
function failedStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(mainCommand[0], mainCommand.slice(1), {
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("exit", (code) => resolve({ code, stderr }));
  });
}

describe("shutdown", () => {
  it("answers a request in flight at SIGTERM and exits once it is answered, not when its keep-alive connection would expire", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "files-shutdown-"));
    const main = await startMain(dir, { BOOTSTRAP_API_KEY: "shutdown-key", SHUTDOWN_TIMEOUT: "30" });
    try {
      const socket = connect(main.port, "127.0.0.1");
      await once(socket, "connect");
      let response = "";
      socket.on("data", (chunk: Buffer) => (response += chunk.toString()));
      const body = '{"query":"{ __typename }"}';
      socket.write(
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer shutdown-key\r\n" +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
      );
      await sleep(200);
      const exited = once(main.child, "exit");
      const stopping = Date.now();
      main.child.kill("SIGTERM");
      await sleep(200);
      socket.write(body.slice(5));
      await exited;
      expect(response).toMatch(/^HTTP\/1\.1 200 /);
      expect(response).toContain('{"data":{"__typename":"Query"}}');
      expect(Date.now() - stopping).toBeLessThan(10_000);
      socket.destroy();
    } finally {
      await main.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("start-up failures", () => {
  it.each([
    [
      "an SQLite file that cannot be created",
      { DATABASE_URL: "file:/sys/graphql-files/app.db" },
      /^Start-up failed: DATABASE_URL: cannot open SQLite file \/sys\/graphql-files\/app\.db \(.+\)$/,
    ],
    [
      "an unreachable PostgreSQL, without its password",
      { DATABASE_URL: "postgresql://files:hunter2@127.0.0.1:1/files" },
      /^Start-up failed: DATABASE_URL: cannot use PostgreSQL at 127\.0\.0\.1:1\/files \(connection refused\)$/,
    ],
    [
      "a storage directory that cannot be written",
      { STORAGE_LOCAL_DIR: "/sys/graphql-files" },
      /^Start-up failed: STORAGE_LOCAL_DIR: cannot write to \/sys\/graphql-files \(.+\)$/,
    ],
  ])("names the variable and the reason in one line for %s", { timeout: 30_000 }, async (_label, env, line) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "files-start-"));
    try {
      const { code, stderr } = await failedStart({
        DATABASE_URL: `file:${dir}/app.db`,
        STORAGE_LOCAL_DIR: `${dir}/objects`,
        ...env,
      });
      expect(code).toBe(1);
      expect(stderr.trim()).toMatch(line);
      expect(stderr).not.toContain("hunter2");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
