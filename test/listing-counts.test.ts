import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createWorkspace, grantCategory } from "../src/access/admin.js";
import { execute, testProvider } from "./helpers/database.js";
import { completeUpload, createFile, putBytes } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

// An unfiltered `totalCount` for a caller who can read every file is the workspace's count that
// triggers on File keep (migration 0012_listing_counts). It must equal the listing through every
// kind of change: new files (pending or with bytes), deletions, an overwrite's pending upload
// (no file of its own) completed or aborted, and a whole workspace's files deleted with it.

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** The unfiltered totalCount and the number of files listed, for the admin key in `workspace`. */
async function counted(workspace = "default", key?: string): Promise<{ totalCount: number; listed: number }> {
  const response = await server.graphql<{ files: { totalCount: number; edges: unknown[] } }>(
    `query ($w: ID!) { files(workspaceId: $w, first: 1000) { totalCount edges { cursor } } }`,
    { w: workspace },
    key === undefined ? undefined : { authorization: `Bearer ${key}` },
  );
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return { totalCount: response.data.files.totalCount, listed: response.data.files.edges.length };
}

/** The maintained count of `workspace`, read from its table. */
async function maintained(workspace = "default"): Promise<number> {
  const rows = await execute(
    server.database.url,
    `SELECT c."files" FROM "WorkspaceFileCount" c JOIN "Workspace" w ON w."id" = c."workspaceId" WHERE w."slug" = $1`,
    [workspace],
  );
  return Number(rows[0]?.files ?? 0);
}

async function expectCount(files: number, workspace = "default"): Promise<void> {
  expect(await counted(workspace)).toEqual({ totalCount: files, listed: files });
  expect(await maintained(workspace)).toBe(files);
}

const bytes = (text: string) => ({ content: Buffer.from(text).toString("base64") });

/** Creates a file with bytes in `workspaceId` as the key's caller. */
function create(workspaceId: string, key: string, input: Record<string, unknown>) {
  return server.graphql<{ createFile: { __typename: string } }>(
    `mutation ($input: CreateFileInput!) { createFile(input: $input) { __typename } }`,
    { input: { workspaceId, ...bytes("k"), ...input } },
    { authorization: `Bearer ${key}` },
  );
}

async function deleteFile(id: string): Promise<void> {
  const response = await server.graphql<{ deleteFile: { __typename: string } }>(
    `mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`,
    { id },
  );
  expect(response.data.deleteFile.__typename).toBe("DeletedFile");
}

describe(`unfiltered totalCount from the maintained count (${testProvider})`, () => {
  it("follows new files, pending and uploaded, and deletions", async () => {
    await expectCount(0);
    const made: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const result = await createFile(server, { name: `c${i}.txt`, externalId: `c${i}`, ...bytes(`c${i}`) });
      made.push(result.file?.id ?? "");
    }
    const pending = await createFile(server, { name: "pending.txt", size: 3 });
    expect(pending.file?.status).toBe("PENDING");
    await expectCount(6);
    await deleteFile(made[0] ?? "");
    await deleteFile(pending.file?.id ?? "");
    await expectCount(4);
  });

  it("does not count an overwrite's pending upload, completed or aborted", async () => {
    const before = (await counted()).totalCount;
    const overwrite = await createFile(server, { name: "c1.txt", externalId: "c1", overwrite: true, size: 3 });
    expect(overwrite.upload).toBeTruthy();
    await expectCount(before);
    const put = await putBytes(overwrite.upload as NonNullable<typeof overwrite.upload>, Buffer.from("new"));
    expect(put.ok).toBe(true);
    expect((await completeUpload(server, overwrite.file?.id ?? "")).__typename).toBe("FilePayload");
    await expectCount(before);
    const again = await createFile(server, { name: "c2.txt", externalId: "c2", overwrite: true, size: 3 });
    const aborted = await server.graphql<{ abortUpload: { __typename: string } }>(
      `mutation ($id: ID!) { abortUpload(id: $id) { __typename } }`,
      { id: again.file?.id },
    );
    expect(aborted.errors).toBeUndefined();
    await expectCount(before);
  });

  it("keeps a count per workspace, gone with the workspace's files", async () => {
    await createWorkspace(server.app.db, "other", "other", false);
    const key = await createApiKey(server.app.db, "other", "ADMIN", "other-admin");
    const before = (await counted()).totalCount;
    for (let i = 0; i < 3; i += 1) {
      const response = await server.graphql<{ createFile: { __typename: string } }>(
        `mutation ($input: CreateFileInput!) { createFile(input: $input) { __typename } }`,
        { input: { workspaceId: "other", name: `o${i}.txt`, ...bytes("o") } },
        { authorization: `Bearer ${key}` },
      );
      expect(response.data.createFile.__typename).toBe("CreateFilePayload");
    }
    expect(await counted("other", key)).toEqual({ totalCount: 3, listed: 3 });
    await expectCount(before);
    await execute(
      server.database.url,
      `DELETE FROM "File" WHERE "workspaceId" = (SELECT "id" FROM "Workspace" WHERE "slug" = 'other')`,
    );
    expect(await counted("other", key)).toEqual({ totalCount: 0, listed: 0 });
    expect(await maintained("other")).toBe(0);
  });

  it("is what a caller who can read every file is told; one who cannot is told it less the files hidden from it", async () => {
    await createWorkspace(server.app.db, "kept", "kept", false);
    const admin = await createApiKey(server.app.db, "kept", "ADMIN", "kept-admin");
    const holder = await createApiKey(server.app.db, "kept", "ADMIN", "kept-holder");
    await grantCategory(server.app.db, "kept", 9, { keyLabel: "kept-holder" });
    await create("kept", admin, { name: "plain.txt" });
    // The count is read from its table: a value written there is what the admin is told.
    await execute(
      server.database.url,
      `UPDATE "WorkspaceFileCount" SET "files" = 7 WHERE "workspaceId" = (SELECT "id" FROM "Workspace" WHERE "slug" = 'kept')`,
    );
    expect(await counted("kept", admin)).toEqual({ totalCount: 7, listed: 1 });
    // Once a file has a category the admin lacks, it is told the table's count less that file.
    expect(
      (await create("kept", holder, { name: "secret.txt", securityCategories: [9] })).data.createFile.__typename,
    ).toBe("CreateFilePayload");
    expect(await counted("kept", admin)).toEqual({ totalCount: 7, listed: 1 });
    expect(await counted("kept", holder)).toEqual({ totalCount: 8, listed: 2 });
  });

  it("under each indexed filter, counts for a caller lacking a category what it can list", async () => {
    await createWorkspace(server.app.db, "hid", "hid", false);
    const admin = await createApiKey(server.app.db, "hid", "ADMIN", "hid-admin");
    const holder = await createApiKey(server.app.db, "hid", "ADMIN", "hid-holder");
    await grantCategory(server.app.db, "hid", 5, { keyLabel: "hid-holder" });
    const point = { type: "Feature", properties: null, geometry: { type: "Point", coordinates: [3, 3] } };
    for (let i = 0; i < 12; i += 1) {
      const fields = {
        name: `h${i}.txt`,
        directory: `/d${i % 2}`,
        metadata: { k: `v${i % 3}` },
        assetIds: [1 + (i % 4)],
        dataSetId: 1 + (i % 2),
        ...(i % 3 === 0 ? { geoLocation: point } : {}),
        ...(i % 5 === 0 ? { securityCategories: [5] } : {}),
      };
      const response = await create("hid", i % 5 === 0 ? holder : admin, fields);
      expect(response.data.createFile.__typename).toBe("CreateFilePayload");
    }
    for (const filter of [
      {},
      { directoryPrefix: "/d0" },
      { metadata: { k: "v0" } },
      { assetIdsAny: [1, 2] },
      { dataSetIds: [1] },
      { geoIntersects: { minLongitude: 0, minLatitude: 0, maxLongitude: 5, maxLatitude: 5 } },
    ]) {
      for (const key of [admin, holder]) {
        const response = await server.graphql<{ files: { totalCount: number; edges: unknown[] } }>(
          `query ($filter: FileFilter) { files(workspaceId: "hid", filter: $filter, first: 100) { totalCount edges { cursor } } }`,
          { filter },
          { authorization: `Bearer ${key}` },
        );
        if (response.errors) throw new Error(JSON.stringify(response.errors));
        expect([filter, response.data.files.totalCount]).toEqual([filter, response.data.files.edges.length]);
      }
    }
  });
});

describe(`totalCount for a caller lacking a security category (${testProvider})`, () => {
  it("leaves out every file in a category it lacks, also one in a category it holds as well", async () => {
    await createWorkspace(server.app.db, "cats", "cats", false);
    // The admin holds both categories; a reader only 4; another reader none.
    const admin = await createApiKey(server.app.db, "cats", "ADMIN", "cats-admin");
    const reader = await createApiKey(server.app.db, "cats", "READER", "cats-reader");
    const bare = await createApiKey(server.app.db, "cats", "READER", "cats-bare");
    for (const category of [3, 4]) await grantCategory(server.app.db, "cats", category, { keyLabel: "cats-admin" });
    await grantCategory(server.app.db, "cats", 4, { keyLabel: "cats-reader" });
    // File i: categories by i mod 4 (none, [3], [4], [3, 4]); two assets (both matched by the
    // filter below); west or east of the antimeridian for even i.
    const categories = [[], [3], [4], [3, 4]];
    for (let i = 0; i < 16; i += 1) {
      const longitude = i % 4 < 2 ? 179 : -179;
      const fields = {
        name: `k${i}.txt`,
        externalId: `k${i}`,
        directory: `/c${i % 2}`,
        metadata: { k: `v${i % 2}` },
        assetIds: [1 + (i % 3), 4],
        dataSetId: 1 + (i % 2),
        securityCategories: categories[i % 4],
        ...(i % 2 === 0
          ? {
              geoLocation: {
                type: "Feature",
                properties: null,
                geometry: { type: "Point", coordinates: [longitude, 0] },
              },
            }
          : {}),
      };
      expect((await create("cats", admin, fields)).data.createFile.__typename).toBe("CreateFilePayload");
    }
    // An overwrite's pending upload of a file in a lacking category is no file of its own.
    const pending = await server.graphql<{ createFile: { __typename: string } }>(
      `mutation ($input: CreateFileInput!) { createFile(input: $input) { __typename } }`,
      {
        input: {
          workspaceId: "cats",
          name: "k1.txt",
          externalId: "k1",
          overwrite: true,
          size: 3,
          securityCategories: [3],
        },
      },
      { authorization: `Bearer ${admin}` },
    );
    expect(pending.data.createFile.__typename).toBe("CreateFilePayload");
    // Files 16 and 17, in category 3 only: a line across nearly every longitude (its box meets
    // both halves of a box across the antimeridian: one file), and a point 5e-7° west of the
    // boxes below, which the spatial indexes find (PostgreSQL's `&&` within 1e-6, the R*Tree's
    // float32 bounds) and File's columns leave out.
    const near = [
      {
        type: "LineString",
        coordinates: [
          [-179.5, 0],
          [179.5, 0],
        ],
      },
      { type: "Point", coordinates: [177.9999995, 0] },
    ];
    for (const [n, geometry] of near.entries()) {
      const input = {
        name: `edge${n}.txt`,
        directory: "/edge",
        securityCategories: [3],
        geoLocation: { type: "Feature", properties: null, geometry },
      };
      expect((await create("cats", admin, input)).data.createFile.__typename).toBe("CreateFilePayload");
    }
    const readerSees = (i: number) => i < 16 && (i % 4 === 0 || i % 4 === 2);
    const bareSees = (i: number) => i < 16 && i % 4 === 0;
    const antimeridian = { minLongitude: 178, minLatitude: -1, maxLongitude: -178, maxLatitude: 1 };
    const cases: [Record<string, unknown>, (i: number) => boolean][] = [
      [{}, () => true],
      [{ directoryPrefix: "/c0" }, (i) => i < 16 && i % 2 === 0],
      [{ metadata: { k: "v1" } }, (i) => i < 16 && i % 2 === 1],
      [{ assetIdsAny: [1, 2, 4] }, (i) => i < 16],
      [{ assetIdsAny: [2] }, (i) => i < 16 && i % 3 === 1],
      [{ dataSetIds: [2] }, (i) => i < 16 && i % 2 === 1],
      [{ geoIntersects: antimeridian }, (i) => i === 16 || (i < 16 && i % 2 === 0)],
      [{ geoIntersects: { ...antimeridian, maxLongitude: 180 } }, (i) => i === 16 || (i < 16 && i % 4 === 0)],
    ];
    const indexes = Array.from({ length: 18 }, (_, i) => i);
    for (const [filter, matches] of cases) {
      for (const [key, sees] of [
        [admin, () => true],
        [reader, readerSees],
        [bare, bareSees],
      ] as const) {
        const response = await server.graphql<{ files: { totalCount: number; edges: unknown[] } }>(
          `query ($filter: FileFilter) { files(workspaceId: "cats", filter: $filter, first: 100) { totalCount edges { cursor } } }`,
          { filter },
          { authorization: `Bearer ${key}` },
        );
        if (response.errors) throw new Error(JSON.stringify(response.errors));
        const expected = indexes.filter((i) => matches(i) && sees(i)).length;
        expect([filter, key, response.data.files.totalCount, response.data.files.edges.length]).toEqual([
          filter,
          key,
          expected,
          expected,
        ]);
      }
    }
  });
});
