import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProvider } from "./helpers/database.js";
import { completeUpload, createFile, type FileResult, putBytes, sha256, uploadFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
let versioned: TestServer;
beforeAll(async () => {
  [server, versioned] = await Promise.all([startServer(), startServer({ FILE_VERSIONS_KEPT: "2" })]);
});
afterAll(() => Promise.all([server.close(), versioned.close()]));

const base64 = (text: string) => Buffer.from(text).toString("base64");

async function file(on: TestServer, id: string): Promise<Record<string, unknown>> {
  const response = await on.graphql<{ file: Record<string, unknown> }>(
    `query ($id: ID!) { file(id: $id) { id name status checksumSha256 description labels metadata assetIds dataSetId directory geoLocation downloadUrl
      pendingUpload { size checksumSha256 upload { url } }
      versions { size checksumSha256 uploadedAt replacedAt downloadUrl } } }`,
    { id },
  );
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data.file;
}

async function download(url: unknown): Promise<string> {
  const response = await fetch(String(url));
  expect(response.status).toBe(200);
  return response.text();
}

async function abortUpload(on: TestServer, id: string): Promise<string> {
  const response = await on.graphql<{ abortUpload: { __typename: string } }>(
    `mutation ($id: ID!) { abortUpload(id: $id) { __typename } }`,
    { id },
  );
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data.abortUpload.__typename;
}

const full = {
  name: "report.txt",
  description: "kept",
  labels: ["kept"],
  metadata: { kept: [1, 2] },
  assetIds: [7, 8],
  dataSetId: 3,
  directory: "/reports",
};

describe(`overwrite in place (${testProvider})`, () => {
  it("keeps the id, replaces the fields given and keeps the rest, with bytes in the request", async () => {
    const first = await createFile(server, { ...full, externalId: "in-request", content: base64("one") });
    const second = await createFile(server, {
      name: "report-2.txt",
      externalId: "in-request",
      overwrite: true,
      content: base64("two"),
    });
    expect(second.__typename).toBe("CreateFilePayload");
    expect(second.upload).toBeNull();
    expect(second.file).toMatchObject({
      id: first.file?.id,
      name: "report-2.txt",
      status: "UPLOADED",
      checksumSha256: sha256(Buffer.from("two")),
      description: "kept",
      labels: ["kept"],
      metadata: { kept: [1, 2] },
      assetIds: [7, 8],
      dataSetId: 3,
      directory: "/reports",
    });
    expect(await download(second.file?.downloadUrl)).toBe("two");
  });

  it("replaces metadata and assetIds only when given, and the filters follow", async () => {
    const first = await createFile(server, { ...full, externalId: "fields", content: base64("one") });
    const id = first.file?.id as string;
    await createFile(server, {
      name: "r.txt",
      externalId: "fields",
      overwrite: true,
      metadata: { fresh: true },
      content: base64("two"),
    });
    expect(await file(server, id)).toMatchObject({ metadata: { fresh: true }, assetIds: [7, 8] });
    await createFile(server, {
      name: "r.txt",
      externalId: "fields",
      overwrite: true,
      assetIds: [9],
      content: base64("three"),
    });
    expect(await file(server, id)).toMatchObject({ metadata: { fresh: true }, assetIds: [9] });
    const listed = await server.graphql<{
      a: { totalCount: number };
      b: { totalCount: number };
      m: { totalCount: number };
    }>(
      `{ a: files(workspaceId: "default", filter: { assetIdsAny: [9], externalIdPrefix: "fields" }) { totalCount }
         b: files(workspaceId: "default", filter: { assetIdsAny: [7], externalIdPrefix: "fields" }) { totalCount }
         m: files(workspaceId: "default", filter: { metadata: { fresh: true }, externalIdPrefix: "fields" }) { totalCount } }`,
    );
    expect(listed.data).toEqual({ a: { totalCount: 1 }, b: { totalCount: 0 }, m: { totalCount: 1 } });
  });

  it("clears the fields given as null, with or without bytes, and the filters follow", async () => {
    const point = { type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [10.5, 59.9] } };
    const box = { minLongitude: 10, minLatitude: 59, maxLongitude: 11, maxLatitude: 60 };
    const cleared = {
      description: null,
      labels: null,
      metadata: null,
      assetIds: null,
      dataSetId: null,
      directory: null,
      geoLocation: null,
    };
    for (const [externalId, bytes] of [
      ["cleared-in-request", { content: base64("two") }],
      ["cleared-pending", {}],
    ] as const) {
      const first = await createFile(server, { ...full, geoLocation: point, externalId, content: base64("one") });
      const second = await createFile(server, { name: "r.txt", externalId, overwrite: true, ...cleared, ...bytes });
      expect(second.file?.id).toBe(first.file?.id);
      expect(await file(server, first.file?.id as string)).toMatchObject({
        description: null,
        labels: [],
        metadata: {},
        assetIds: [],
        dataSetId: null,
        directory: null,
        geoLocation: null,
      });
      const listed = await server.graphql<Record<string, { totalCount: number }>>(
        `query ($box: GeoBoundingBox!, $prefix: String!) {
           geo: files(workspaceId: "default", filter: { geoIntersects: $box, externalIdPrefix: $prefix }) { totalCount }
           label: files(workspaceId: "default", filter: { labelsAny: ["kept"], externalIdPrefix: $prefix }) { totalCount }
           asset: files(workspaceId: "default", filter: { assetIdsAny: [7], externalIdPrefix: $prefix }) { totalCount }
           set: files(workspaceId: "default", filter: { dataSetIds: [3], externalIdPrefix: $prefix }) { totalCount }
           dir: files(workspaceId: "default", filter: { directoryPrefix: "/reports", externalIdPrefix: $prefix }) { totalCount } }`,
        { box, prefix: externalId },
      );
      expect(listed.errors).toBeUndefined();
      expect(listed.data).toEqual({
        geo: { totalCount: 0 },
        label: { totalCount: 0 },
        asset: { totalCount: 0 },
        set: { totalCount: 0 },
        dir: { totalCount: 0 },
      });
    }
  });

  it("serves the old bytes while an upload is pending and the new ones once completed", async () => {
    const old = await uploadFile(server, { ...full, externalId: "pending" }, Buffer.from("old bytes"));
    const replacing = await createFile(server, {
      name: "new.txt",
      externalId: "pending",
      overwrite: true,
      size: 9,
      labels: ["new"],
    });
    expect(replacing.file).toMatchObject({
      id: old.id,
      status: "UPLOADED",
      name: "new.txt",
      labels: ["new"],
      description: "kept",
    });
    const during = await file(server, old.id);
    expect(during).toMatchObject({
      status: "UPLOADED",
      checksumSha256: sha256(Buffer.from("old bytes")),
      pendingUpload: { size: 9 },
    });
    expect(await download(during.downloadUrl)).toBe("old bytes");

    expect((await putBytes(replacing.upload!, Buffer.from("new bytes"))).ok).toBe(true);
    expect(await download((await file(server, old.id)).downloadUrl)).toBe("old bytes");
    const done = await completeUpload(server, old.id);
    expect(done.file).toMatchObject({ id: old.id, checksumSha256: sha256(Buffer.from("new bytes")) });
    const after = await file(server, old.id);
    expect(after).toMatchObject({
      pendingUpload: null,
      versions: [{ size: 9, checksumSha256: sha256(Buffer.from("old bytes")), downloadUrl: null }],
    });
    expect(await download(after.downloadUrl)).toBe("new bytes");
    // FILE_VERSIONS_KEPT=0: the replaced bytes are gone from the store.
    const keys = await server.app.db.fileVersion.findMany({
      where: { checksumSha256: sha256(Buffer.from("old bytes")) },
    });
    expect(keys.every((version) => version.storageKey === null)).toBe(true);
  });

  it("keeps the current content when the pending upload is aborted", async () => {
    const old = await uploadFile(server, { name: "a.txt", externalId: "aborted" }, Buffer.from("keep me"));
    const replacing = await createFile(server, { name: "a.txt", externalId: "aborted", overwrite: true });
    await putBytes(replacing.upload!, Buffer.from("dropped"));
    expect(await abortUpload(server, old.id)).toBe("DeletedFile");
    const after = await file(server, old.id);
    expect(after).toMatchObject({ status: "UPLOADED", pendingUpload: null, versions: [] });
    expect(await download(after.downloadUrl)).toBe("keep me");
    expect(await abortUpload(server, old.id)).toBe("NotFoundError");
    expect((await completeUpload(server, old.id)).file).toMatchObject({
      checksumSha256: sha256(Buffer.from("keep me")),
    });
  });

  it("refuses a second pending upload of the same file with ConflictError", async () => {
    await uploadFile(server, { name: "b.txt", externalId: "twice" }, Buffer.from("b"));
    expect((await createFile(server, { name: "b.txt", externalId: "twice", overwrite: true })).__typename).toBe(
      "CreateFilePayload",
    );
    expect(await createFile(server, { name: "b.txt", externalId: "twice", overwrite: true })).toMatchObject({
      __typename: "ConflictError",
    });
  });

  it("hides the pending upload from listings and counts", async () => {
    await uploadFile(server, { name: "c.txt", externalId: "hidden-1" }, Buffer.from("c"));
    await createFile(server, { name: "c.txt", externalId: "hidden-1", overwrite: true });
    const listed = await server.graphql<{ files: { totalCount: number; edges: unknown[] } }>(
      `{ files(workspaceId: "default", filter: { nameContains: "c.txt" }) { totalCount edges { node { id } } } }`,
    );
    expect(listed.data.files).toMatchObject({ totalCount: 1, edges: [expect.anything()] });
  });

  it("with FILE_VERSIONS_KEPT=2 keeps the last two replaced contents downloadable", async () => {
    let current: FileResult | undefined;
    for (const text of ["v1", "v2", "v3", "v4"]) {
      const result = await createFile(versioned, {
        name: "v.txt",
        externalId: "versions",
        overwrite: true,
        content: base64(text),
      });
      current = result.file;
    }
    const after = await file(versioned, current!.id);
    const versions = after.versions as { checksumSha256: string; downloadUrl: string | null }[];
    expect(versions.map((version) => version.checksumSha256)).toEqual(
      ["v3", "v2", "v1"].map((text) => sha256(Buffer.from(text))),
    );
    expect(await download(versions[0]?.downloadUrl)).toBe("v3");
    expect(await download(versions[1]?.downloadUrl)).toBe("v2");
    expect(versions[2]?.downloadUrl).toBeNull();
    expect(await download(after.downloadUrl)).toBe("v4");
  });
});

describe(`overwrites racing (${testProvider})`, () => {
  it("30 concurrent overwrites with bytes: one file, each a winner in turn or a ConflictError, the last winner's bytes served", async () => {
    const texts = Array.from({ length: 30 }, (_, i) => `racer ${i} ${"x".repeat(i)}`);
    const results = await Promise.all(
      texts.map((text) =>
        server.graphql<{ createFile: { __typename: string; file?: { id: string; checksumSha256: string } } }>(
          `mutation ($input: CreateFileInput!) { createFile(input: $input) { __typename ... on CreateFilePayload { file { id checksumSha256 } } } }`,
          {
            input: {
              workspaceId: "default",
              name: "race.txt",
              externalId: "race-x",
              overwrite: true,
              content: base64(text),
            },
          },
        ),
      ),
    );
    for (const result of results) expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    const outcomes = results.map((result) => result.data.createFile);
    expect(outcomes.every((outcome) => ["CreateFilePayload", "ConflictError"].includes(outcome.__typename))).toBe(true);
    const winners = outcomes.filter((outcome) => outcome.file !== undefined);
    expect(winners.length).toBeGreaterThan(0);
    expect(new Set(winners.map((outcome) => outcome.file?.id)).size).toBe(1);
    const id = winners[0]?.file?.id as string;
    const now = await file(server, id);
    const served = await download(now.downloadUrl);
    expect(sha256(Buffer.from(served))).toBe(now.checksumSha256);
    expect(winners.map((outcome) => outcome.file?.checksumSha256)).toContain(now.checksumSha256);
    expect(texts).toContain(served);
    const rows = await server.app.db.file.count({ where: { externalId: "race-x" } });
    expect(rows).toBe(1);
  });

  it("10 concurrent pending overwrites: one gets the upload, the others ConflictError; 10 completions agree on its bytes", async () => {
    const old = await uploadFile(server, { name: "p.txt", externalId: "race-pending" }, Buffer.from("before"));
    const created = await Promise.all(
      Array.from({ length: 10 }, () =>
        createFile(server, { name: "p.txt", externalId: "race-pending", overwrite: true }),
      ),
    );
    const winners = created.filter((result) => result.__typename === "CreateFilePayload");
    expect(winners).toHaveLength(1);
    expect(created.filter((result) => result.__typename === "ConflictError")).toHaveLength(9);
    expect((await putBytes(winners[0]!.upload!, Buffer.from("after"))).ok).toBe(true);
    const completions = await Promise.all(Array.from({ length: 10 }, () => completeUpload(server, old.id)));
    for (const completion of completions) {
      expect(completion).toMatchObject({
        __typename: "FilePayload",
        file: { id: old.id, checksumSha256: sha256(Buffer.from("after")) },
      });
    }
    const now = await file(server, old.id);
    expect(await download(now.downloadUrl)).toBe("after");
    expect(now.versions).toHaveLength(1);
  });

  it("pending completions racing overwrites with bytes: every outcome is data, and the file serves the bytes it names", async () => {
    const old = await uploadFile(server, { name: "m.txt", externalId: "race-mixed" }, Buffer.from("start"));
    const pending = await createFile(server, { name: "m.txt", externalId: "race-mixed", overwrite: true });
    await putBytes(pending.upload!, Buffer.from("pending bytes"));
    const outcomes = await Promise.all([
      ...Array.from({ length: 5 }, () => completeUpload(server, old.id)),
      ...Array.from({ length: 5 }, (_, i) =>
        createFile(server, {
          name: "m.txt",
          externalId: "race-mixed",
          overwrite: true,
          content: base64(`inline ${i}`),
        }),
      ),
    ]);
    expect(
      outcomes.every((outcome) => ["FilePayload", "CreateFilePayload", "ConflictError"].includes(outcome.__typename)),
    ).toBe(true);
    const now = await file(server, old.id);
    expect(sha256(Buffer.from(await download(now.downloadUrl)))).toBe(now.checksumSha256);
    expect(now.pendingUpload).toBeNull();
  });
});

describe(`no bytes left behind (${testProvider})`, () => {
  it("stores exactly the objects that files, pending uploads and kept versions name, after all of the above", async () => {
    for (const on of [server, versioned]) {
      const rows = await on.app.db.file.findMany({ select: { storageKey: true } });
      const versions = await on.app.db.fileVersion.findMany({
        where: { storageKey: { not: null } },
        select: { storageKey: true },
      });
      const named = new Set([
        ...rows.map((row) => row.storageKey),
        ...versions.map((version) => version.storageKey as string),
      ]);
      const entries = await readdir(on.objectsDir, { recursive: true, withFileTypes: true });
      const stored = entries
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(on.objectsDir, path.join(entry.parentPath, entry.name)))
        .filter((key) => !key.startsWith("."));
      // Files created without bytes that never got any have a key but no object.
      expect(stored.filter((key) => !named.has(key))).toEqual([]);
      expect(stored.length).toBeGreaterThanOrEqual(3);
    }
  });
});
