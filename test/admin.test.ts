import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const script = path.resolve(import.meta.dirname, "../scripts/admin.ts");
/** `npm run admin` runs the script through tsx; one node process with tsx's loader is the same, and starts faster. */
const node = [process.execPath, "--import", "tsx", script] as const;

let dir: string;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "files-admin-"));
  env = {
    ...process.env,
    DATABASE_URL: `file:${path.join(dir, "app.db")}`,
    OIDC_ISSUER: "https://id.example",
    OIDC_AUDIENCE: "files",
  };
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function admin(...args: string[]): Promise<string> {
  return (await run(node[0], [...node.slice(1), ...args], { env })).stdout.trim();
}

describe("npm run admin", () => {
  it("creates a workspace and a key, grants and revokes OIDC subjects and groups, and lists them", {
    timeout: 180_000,
  }, async () => {
    expect(await admin("create-workspace", "acme", "--public")).toBe("created workspace acme");
    const key = await admin("create-key", "acme", "--role", "READER", "--label", "ci");
    expect(key).toMatch(/^fk_[\w-]{32}$/);
    expect(await admin("grant", "acme", "--subject", "alice", "--role", "writer")).toBe("granted WRITER in acme");
    expect(await admin("grant", "acme", "--group", "auditors", "--role", "READER")).toBe("granted READER in acme");
    // Granting again replaces the role.
    expect(await admin("grant", "acme", "--subject", "alice", "--role", "ADMIN")).toBe("granted ADMIN in acme");
    expect(await admin("grant-category", "acme", "42", "--key-label", "ci")).toBe(
      "granted category 42 in acme (1 membership)",
    );
    expect(await admin("grant-category", "acme", "7", "--subject", "alice")).toBe(
      "granted category 7 in acme (1 membership)",
    );
    expect(await admin("grant-category", "acme", "3", "--subject", "alice")).toBe(
      "granted category 3 in acme (1 membership)",
    );
    expect((await admin("list-members", "acme")).split("\n")).toEqual([
      "READER\tAPI_KEY\tci\t\t42",
      "ADMIN\tOIDC_SUBJECT\talice\thttps://id.example\t3,7",
      // The output is trimmed: the last line's empty categories column goes with it.
      "READER\tOIDC_GROUP\tauditors\thttps://id.example",
    ]);
    expect(await admin("revoke", "acme", "--group", "auditors")).toBe("revoked");
    expect(await admin("revoke", "acme", "--group", "auditors")).toBe("no such member");
    expect(await admin("list-workspaces")).toBe("acme\tpublic\tacme");
    expect(await admin("revoke-key", key)).toBe("revoked");
    expect(await admin("list-keys", "acme")).toMatch(/^[\w-]+\tREADER\tci\t\S+\trevoked \S+$/);
  });

  it("refuses a grant without a role or with both --subject and --group, with the usage and exit code 2", {
    timeout: 90_000,
  }, async () => {
    for (const args of [
      ["grant", "acme", "--subject", "alice"],
      ["grant", "acme", "--subject", "alice", "--group", "g", "--role", "READER"],
      ["grant-category", "acme", "x1", "--subject", "alice"],
      ["grant-category", "acme", "5", "--subject", "alice", "--key-label", "ci"],
      ["no-such-command"],
    ]) {
      const failure = await run(node[0], [...node.slice(1), ...args], { env }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(2);
      expect(failure?.stderr).toContain("usage: npm run admin");
    }
  });
});

describe("npm run db:backup", () => {
  it("copies the SQLite database consistently, rows included", { timeout: 60_000 }, async () => {
    const copy = path.join(dir, "copy.db");
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", path.resolve(import.meta.dirname, "../scripts/backup.ts"), copy],
      { env },
    );
    expect(stdout).toMatch(/^backed up .*app\.db to .*copy\.db \(\d+ pages\)/);
    const listed = await run(node[0], [...node.slice(1), "list-workspaces"], {
      env: { ...env, DATABASE_URL: `file:${copy}` },
    });
    expect(listed.stdout.trim()).toBe("acme\tpublic\tacme");
  });
});
