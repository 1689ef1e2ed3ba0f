import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createWorkspace, revokeApiKey } from "../src/access/admin.js";
import { createFileMutation, uploadFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
const keys: Record<string, string> = {};
beforeAll(async () => {
  server = await startServer();
  await createWorkspace(server.app.db, "team");
  await createWorkspace(server.app.db, "other");
  for (const role of ["ADMIN", "WRITER", "READER"] as const) keys[role] = await createApiKey(server.app.db, "team", role);
  keys.outsider = await createApiKey(server.app.db, "other", "ADMIN");
});
afterAll(() => server.close());

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const create = (key: string) =>
  server.graphql<{ createFile: { __typename: string } }>(createFileMutation, { input: { workspaceId: "team", name: "r.txt" } }, as(key));

describe("roles", () => {
  it("lets ADMIN and WRITER create files", async () => {
    expect((await create(keys.ADMIN!)).data.createFile.__typename).toBe("CreateFilePayload");
    expect((await create(keys.WRITER!)).data.createFile.__typename).toBe("CreateFilePayload");
  });

  it("does not let a READER create files", async () => {
    expect((await create(keys.READER!)).data.createFile.__typename).toBe("NotFoundError");
  });

  it("lets a READER list and read, and hides the workspace from a member of another", async () => {
    const file = await uploadFile(server, { workspaceId: "default", name: "hidden.txt" }, Buffer.from("secret"));
    const reader = await server.graphql<{ files: { totalCount: number } }>(`{ files(workspaceId: "team") { totalCount } }`, undefined, as(keys.READER!));
    expect(reader.data.files.totalCount).toBe(2);
    const outsider = await server.graphql<{ file: null; node: null }>(
      `query ($id: ID!) { file(id: $id) { name } node(id: $id) { id } }`,
      { id: file.id },
      as(keys.outsider!),
    );
    expect(outsider.data).toEqual({ file: null, node: null });
    const listing = await server.graphql(`{ files(workspaceId: "team") { totalCount } }`, undefined, as(keys.outsider!));
    expect(listing.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("refuses a revoked key", async () => {
    const key = await createApiKey(server.app.db, "team", "READER");
    expect(await revokeApiKey(server.app.db, key)).toBe(true);
    const response = await server.graphql(`{ viewer { workspaces { slug } } }`, undefined, as(key));
    expect(response.status).toBe(401);
  });
});

describe("admin script", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "files-admin-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("creates a workspace and prints a new key", async () => {
    const run = promisify(execFile);
    const tsx = path.resolve(import.meta.dirname, "../node_modules/.bin/tsx");
    const script = path.resolve(import.meta.dirname, "../scripts/admin.ts");
    const env = { ...process.env, DATABASE_URL: `file:${path.join(dir, "app.db")}` };
    expect((await run(tsx, [script, "create-workspace", "acme"], { env })).stdout).toContain("created workspace acme");
    const { stdout } = await run(tsx, [script, "create-key", "acme", "--role", "READER"], { env });
    expect(stdout.trim()).toMatch(/^fk_[\w-]{32}$/);
  });
});
