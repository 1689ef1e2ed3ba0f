import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PendingSweeper } from "../src/files/sweeper.js";
import { createFile, putBytes, uploadFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ PENDING_UPLOAD_TTL: "60" });
});
afterAll(() => server.close());

/** Path of a file's object under the local driver's directory. */
async function objectPath(globalId: string): Promise<string> {
  const id = Buffer.from(globalId, "base64")
    .toString("utf8")
    .replace(/^File:/, "");
  const row = await server.app.db.file.findUniqueOrThrow({ where: { id } });
  return path.join(server.objectsDir, row.storageKey);
}

const updateMutation = `mutation ($input: UpdateFileInput!) {
  updateFile(input: $input) {
    __typename
    ... on FilePayload { file { id name labels metadata directory description } }
    ... on ValidationError { fieldErrors { path message } }
    ... on Error { code }
  }
}`;
const deleteMutation = `mutation ($id: ID!) { deleteFile(id: $id) { __typename ... on DeletedFile { id } ... on Error { code } } }`;
const abortMutation = `mutation ($id: ID!) { abortUpload(id: $id) { __typename ... on DeletedFile { id } ... on Error { code } } }`;

describe("updateFile", () => {
  it("changes name, labels, metadata, directory and description, leaving the rest", async () => {
    const file = await uploadFile(
      server,
      { name: "a.txt", labels: ["x"], metadata: { a: "1" }, externalId: "upd-1" },
      Buffer.from("a"),
    );
    const response = await server.graphql<{ updateFile: { file: Record<string, unknown> } }>(updateMutation, {
      input: {
        id: file.id,
        name: "b.txt",
        labels: ["y", "z"],
        metadata: { b: "2" },
        directory: "/moved",
        description: "d",
      },
    });
    expect(response.data.updateFile.file).toEqual({
      id: file.id,
      name: "b.txt",
      labels: ["y", "z"],
      metadata: { b: "2" },
      directory: "/moved",
      description: "d",
    });
    const byExternalId = await server.graphql<{ fileByExternalId: { name: string } }>(
      `{ fileByExternalId(workspaceId: "default", externalId: "upd-1") { name } }`,
    );
    expect(byExternalId.data.fileByExternalId.name).toBe("b.txt");
  });

  it("clears labels, metadata, directory and description given as null, keeping the rest", async () => {
    const file = await uploadFile(
      server,
      { name: "n.txt", labels: ["x"], metadata: { a: "1" }, directory: "/here", description: "d" },
      Buffer.from("n"),
    );
    const response = await server.graphql<{ updateFile: { file: Record<string, unknown> } }>(updateMutation, {
      input: { id: file.id, labels: null, metadata: null, directory: null, description: null },
    });
    expect(response.errors).toBeUndefined();
    expect(response.data.updateFile.file).toEqual({
      id: file.id,
      name: "n.txt",
      labels: [],
      metadata: {},
      directory: null,
      description: null,
    });
  });

  it("answers ValidationError naming the field", async () => {
    const file = await uploadFile(server, { name: "c.txt" }, Buffer.from("c"));
    const response = await server.graphql<{ updateFile: { __typename: string; fieldErrors: { path: string[] }[] } }>(
      updateMutation,
      { input: { id: file.id, name: "bad/name" } },
    );
    expect(response.data.updateFile.__typename).toBe("ValidationError");
    expect(response.data.updateFile.fieldErrors.map((error) => error.path)).toEqual([["input", "name"]]);
  });

  it("answers NotFoundError for an unknown file", async () => {
    const response = await server.graphql<{ updateFile: { __typename: string } }>(updateMutation, {
      input: { id: Buffer.from("File:nope").toString("base64"), name: "x.txt" },
    });
    expect(response.data.updateFile.__typename).toBe("NotFoundError");
  });
});

describe("deleteFile and abortUpload", () => {
  it("deleteFile removes the record and the bytes", async () => {
    const file = await uploadFile(server, { name: "gone.txt" }, Buffer.from("bytes"));
    const stored = await objectPath(file.id);
    expect(existsSync(stored)).toBe(true);
    const response = await server.graphql<{ deleteFile: { __typename: string; id: string } }>(deleteMutation, {
      id: file.id,
    });
    expect(response.data.deleteFile).toEqual({ __typename: "DeletedFile", id: file.id });
    expect(existsSync(stored)).toBe(false);
    const again = await server.graphql<{ file: null }>(`query ($id: ID!) { file(id: $id) { id } }`, { id: file.id });
    expect(again.data.file).toBeNull();
    const twice = await server.graphql<{ deleteFile: { __typename: string } }>(deleteMutation, { id: file.id });
    expect(twice.data.deleteFile.__typename).toBe("NotFoundError");
  });

  it("abortUpload removes a pending file and the bytes that arrived", async () => {
    const created = await createFile(server, { name: "half.txt" });
    await putBytes(created.upload!, Buffer.from("partial"));
    const stored = await objectPath(created.file!.id);
    expect(existsSync(stored)).toBe(true);
    const response = await server.graphql<{ abortUpload: { __typename: string } }>(abortMutation, {
      id: created.file!.id,
    });
    expect(response.data.abortUpload.__typename).toBe("DeletedFile");
    expect(existsSync(stored)).toBe(false);
  });

  it("abortUpload leaves an uploaded file alone", async () => {
    const file = await uploadFile(server, { name: "kept.txt" }, Buffer.from("kept"));
    const response = await server.graphql<{ abortUpload: { __typename: string } }>(abortMutation, { id: file.id });
    expect(response.data.abortUpload.__typename).toBe("NotFoundError");
    expect(existsSync(await objectPath(file.id))).toBe(true);
  });
});

describe("node", () => {
  it("resolves File global IDs to the files, with their labels", async () => {
    const file = await uploadFile(server, { name: "node.txt", labels: ["b", "a"] }, Buffer.from("n"));
    const other = await uploadFile(server, { name: "other.txt" }, Buffer.from("o"));
    const response = await server.graphql<{ node: unknown; nodes: unknown[] }>(
      `query ($id: ID!, $ids: [ID!]!) {
        node(id: $id) { __typename ... on File { name labels } }
        nodes(ids: $ids) { ... on File { name labels } }
      }`,
      { id: file.id, ids: [other.id, file.id] },
    );
    expect(response.data.node).toEqual({ __typename: "File", name: "node.txt", labels: ["a", "b"] });
    expect(response.data.nodes).toEqual([
      { name: "other.txt", labels: [] },
      { name: "node.txt", labels: ["a", "b"] },
    ]);
  });
});

describe("expiry of pending uploads", () => {
  it("removes pending files and their bytes once past PENDING_UPLOAD_TTL, and keeps uploaded ones", async () => {
    const pending = await createFile(server, { name: "stale.txt" });
    await putBytes(pending.upload!, Buffer.from("never completed"));
    const stalePath = await objectPath(pending.file!.id);
    const kept = await uploadFile(server, { name: "fresh.txt" }, Buffer.from("done"));
    // What a process that died mid-upload leaves: a temporary file no write will finish.
    const abandoned = path.join(server.objectsDir, ".tmp", "abandoned.tmp");
    await mkdir(path.dirname(abandoned), { recursive: true });
    await writeFile(abandoned, "half a file");

    const sweeper = new PendingSweeper({
      db: server.app.db,
      provider: server.database.provider,
      storage: server.app.storage,
      logger: pino({ level: "silent" }),
      pendingUploadTtlMs: 60_000,
      events: server.app.events,
    });
    expect(await sweeper.sweep(new Date())).toBe(0);
    expect(existsSync(abandoned)).toBe(true);
    expect(await sweeper.sweep(new Date(Date.now() + 61_000))).toBeGreaterThanOrEqual(1);
    expect(existsSync(abandoned)).toBe(true);
    await sweeper.sweep(new Date(Date.now() + 25 * 3600 * 1000));
    expect(existsSync(abandoned)).toBe(false);

    expect(existsSync(stalePath)).toBe(false);
    const gone = await server.graphql<{ file: null }>(`query ($id: ID!) { file(id: $id) { id } }`, {
      id: pending.file!.id,
    });
    expect(gone.data.file).toBeNull();
    const stillThere = await server.graphql<{ file: { status: string } }>(
      `query ($id: ID!) { file(id: $id) { status } }`,
      { id: kept.id },
    );
    expect(stillThere.data.file.status).toBe("UPLOADED");
  });
});

describe("a burst of changes while every database connection is taken", () => {
  it("waits for a connection instead of failing as an internal error", async () => {
    // Every connection a transaction can take (PostgreSQL: pg's pool of 10; SQLite: its one writer)
    // held for 3 s, more than the 2 s Prisma lets a transaction wait to start by default: on SQLite
    // the createFile failed as an internal error (PostgreSQL's adapter waited for the pool).
    const held = server.database.provider === "postgresql" ? 10 : 1;
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holders = Array.from({ length: held }, () => server.app.db.$transaction(() => released, { timeout: 15_000 }));
    const timer = setTimeout(release, 3000);
    try {
      const created = await createFile(server, { name: "queued.txt" });
      expect(created.__typename).toBe("CreateFilePayload");
    } finally {
      clearTimeout(timer);
      release();
      await Promise.all(holders);
    }
  });
});
