import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type TestAzurite } from "./helpers/azurite.js";
import { type MainProcess, mainCommand, readmeScript, startMain } from "./helpers/main-process.js";

const run = promisify(execFile);

/** Runs README sh block `index` under `heading` with bash, as a reader pasting it would, against the server on `port`. */
async function walkThrough(heading: string, index: number, port: number, cwd: string): Promise<string> {
  const script = await readmeScript(heading, index);
  const { stdout } = await run(
    "bash",
    ["-euo", "pipefail", "-c", script.replaceAll("localhost:4000", `127.0.0.1:${port}`)],
    {
      cwd,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return stdout;
}

describe("npm start with the defaults", () => {
  let dir: string;
  let main: MainProcess;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "files-readme-"));
    main = await startMain(dir, { BOOTSTRAP_API_KEY: "dev-key" });
  }, 60_000);
  afterAll(async () => {
    await main?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("the README's curl walk-through works as written against npm start's server", async () => {
    const stdout = await walkThrough("## Walk-through with curl", 0, main.port, dir);
    expect(stdout).toContain('"status":"UPLOADED"');
    expect(stdout).toContain('"totalCount":1');
    expect(stdout.trimEnd().endsWith("hello, files")).toBe(true);
  });

  it("keeps the data in ./data under the working directory by default", async () => {
    const { stdout } = await run("ls", [path.join(dir, "data")]);
    expect(stdout.split("\n")).toEqual(expect.arrayContaining(["app.db", "objects"]));
  });

  it("stops at start with a message naming a bad variable", async () => {
    const result = await run(mainCommand[0], mainCommand.slice(1), {
      cwd: dir,
      env: { ...process.env, PORT: "not-a-port" },
    }).catch((error: { code: number; stderr: string }) => error);
    expect("code" in result && result.code).toBe(1);
    expect(result.stderr).toContain("PORT must be a whole number");
  });
});

describe("npm start on Azure (Azurite)", () => {
  let dir: string;
  let azurite: TestAzurite;
  let main: MainProcess;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "files-readme-azure-"));
    azurite = await startAzurite();
    main = await startMain(dir, { BOOTSTRAP_API_KEY: "dev-key", ...azurite.env });
  }, 60_000);
  afterAll(async () => {
    await main?.stop();
    await azurite?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("the README's Azure walk-through works as written: a PUT with x-ms-blob-type, and a file in blocks", async () => {
    // Block 0 starts Azurite and the server, which this test has done; block 1 is the walk-through.
    const stdout = await walkThrough("### Walk-through with curl on Azure", 1, main.port, dir);
    const lines = stdout.split("\n");
    expect(lines).toContain("201");
    expect(lines).toContain("hello, blobs");
    expect(lines).toEqual(expect.arrayContaining(["part 1: 201", "part 2: 201"]));
    const big = await readFile(path.join(dir, "big.bin"));
    expect(stdout).toContain(
      `"status":"UPLOADED","size":9437184,"checksumSha256":"${createHash("sha256").update(big).digest("hex")}"`,
    );
  });

  it("stops at start naming account and container when the container is missing", async () => {
    const result = await run(mainCommand[0], mainCommand.slice(1), {
      cwd: dir,
      env: { ...process.env, ...azurite.env, PORT: "0", AZURE_CONTAINER: "no-such-container" },
    }).catch((error: { code: number; stderr: string }) => error);
    expect("code" in result && result.code).toBe(1);
    expect(result.stderr).toContain(
      "Azure container no-such-container of account devstoreaccount1 is missing or unreachable at",
    );
  });
});
