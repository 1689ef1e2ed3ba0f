import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
/** The documented start: the compiled server (`npm test` builds it first). */
const server = [path.join(root, "dist", "main.js")];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

let child: ChildProcess;
let dir: string;
let port: number;

/** Starts dist/main.js as the README's first command does, and resolves once it listens. */
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "files-readme-"));
  port = await freePort();
  child = spawn(process.execPath, server, {
    cwd: dir,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", BOOTSTRAP_API_KEY: "dev-key", LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("listening on")) resolve();
    });
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
});

it("the README's curl walk-through works as written against npm start's server", async () => {
  const readme = await readFile(path.join(root, "README.md"), "utf8");
  const section = readme.split("## Walk-through with curl")[1] ?? "";
  const script = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  expect(script).toBeDefined();
  const { stdout } = await run("bash", ["-euo", "pipefail", "-c", script!.replaceAll("localhost:4000", `127.0.0.1:${port}`)], {
    cwd: dir,
  });
  expect(stdout).toContain('"status":"UPLOADED"');
  expect(stdout).toContain('"totalCount":1');
  expect(stdout.trimEnd().endsWith("hello, files")).toBe(true);
});

it("keeps the data in ./data under the working directory by default", async () => {
  const { stdout } = await run("ls", [path.join(dir, "data")]);
  expect(stdout.split("\n")).toEqual(expect.arrayContaining(["app.db", "objects"]));
});

it("stops at start with a message naming a bad variable", async () => {
  const result = await run(process.execPath, server, {
    cwd: dir,
    env: { ...process.env, PORT: "not-a-port" },
  }).catch((error: { code: number; stderr: string }) => error);
  expect("code" in result && result.code).toBe(1);
  expect(result.stderr).toContain("PORT must be a whole number");
});
