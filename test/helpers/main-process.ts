import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";

export const root = path.resolve(import.meta.dirname, "..", "..");
/** The documented start, `node dist/main.js` (what `npm start` runs; `npm test` builds dist first). */
export const mainCommand = [process.execPath, path.join(root, "dist", "main.js")] as const;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

/** The compiled server (dist/main.js) running in a directory of its own. */
export interface MainProcess {
  port: number;
  /** The process itself, for tests that kill it without a shutdown (`kill("SIGKILL")`). */
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the documented start command in `cwd` with `env` added, and resolves once it listens. */
export async function startMain(cwd: string, env: Record<string, string>): Promise<MainProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(mainCommand[0], mainCommand.slice(1), {
    cwd,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
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
  return {
    port,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * The `sh` block number `index` (0 for the first) under the README heading `heading` (a whole
 * line, e.g. "## Walk-through with curl"), before the next heading of its level or above.
 */
export async function readmeScript(heading: string, index = 0): Promise<string> {
  const lines = (await readFile(path.join(root, "README.md"), "utf8")).split("\n");
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`README.md has no heading "${heading}"`);
  const level = heading.split(" ")[0]!.length;
  let fenced = false;
  const end = lines.findIndex((line, at) => {
    if (line.startsWith("```")) fenced = !fenced;
    return at > start && !fenced && /^#+ /.test(line) && line.split(" ")[0]!.length <= level;
  });
  const section = lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
  const script = [...section.matchAll(/```sh\n([\s\S]*?)```/g)][index]?.[1];
  if (script === undefined) throw new Error(`no sh block ${index} under "${heading}"`);
  return script;
}
