import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execute, testProvider } from "./helpers/database.js";
import { completeUpload, createFile, putBytes } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

// `geoIntersects` finds its candidates through the spatial index (migration 0013_listing_geo:
// an R*Tree kept by triggers on SQLite, a GiST index on PostgreSQL) and counts through it for a
// caller who can read every file. The index must follow every change of a file's location, and
// what it returns near a box's edge must be checked against the file's own columns.

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const point = (longitude: number, latitude: number) => ({
  type: "Feature",
  properties: null,
  geometry: { type: "Point", coordinates: [longitude, latitude] },
});
const bytes = (text: string) => ({ content: Buffer.from(text).toString("base64") });
const box = (minLongitude: number, minLatitude: number, maxLongitude: number, maxLatitude: number) => ({
  minLongitude,
  minLatitude,
  maxLongitude,
  maxLatitude,
});
const west = box(-20, -20, -10, -10);
const east = box(10, 10, 20, 20);

/** The files listed under a box, by name, and whether totalCount agrees. */
async function inBox(geoIntersects: ReturnType<typeof box>): Promise<string[]> {
  const response = await server.graphql<{
    files: { totalCount: number; edges: { node: { name: string } }[] };
  }>(
    `query ($filter: FileFilter) { files(workspaceId: "default", filter: $filter, first: 100) {
      totalCount edges { node { name } } } }`,
    { filter: { geoIntersects } },
  );
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  const names = response.data.files.edges.map((edge) => edge.node.name).sort();
  expect(response.data.files.totalCount).toBe(names.length);
  return names;
}

async function deleteFile(id: string): Promise<void> {
  const response = await server.graphql<{ deleteFile: { __typename: string } }>(
    `mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`,
    { id },
  );
  expect(response.data.deleteFile.__typename).toBe("DeletedFile");
}

describe(`the spatial index behind geoIntersects (${testProvider})`, () => {
  it("follows files created, moved by overwrites (pending, completed, with bytes) and deleted", async () => {
    const a = await createFile(server, { name: "a.txt", externalId: "a", geoLocation: point(-15, -15), ...bytes("a") });
    await createFile(server, { name: "b.txt", externalId: "b", geoLocation: point(15, 15), size: 1 });
    await createFile(server, { name: "c.txt", externalId: "c", geoLocation: point(-12, -12), ...bytes("c") });
    expect(await inBox(west)).toEqual(["a.txt", "c.txt"]);
    expect(await inBox(east)).toEqual(["b.txt"]);

    // An overwrite with bytes to come moves the file at once; its pending row is no file.
    const moved = await createFile(server, {
      name: "a.txt",
      externalId: "a",
      overwrite: true,
      geoLocation: point(12, 12),
      size: 3,
    });
    expect(moved.file?.id).toBe(a.file?.id);
    expect(await inBox(west)).toEqual(["c.txt"]);
    expect(await inBox(east)).toEqual(["a.txt", "b.txt"]);
    const put = await putBytes(moved.upload as NonNullable<typeof moved.upload>, Buffer.from("new"));
    expect(put.ok).toBe(true);
    expect((await completeUpload(server, moved.file?.id ?? "")).__typename).toBe("FilePayload");
    expect(await inBox(east)).toEqual(["a.txt", "b.txt"]);

    // An overwrite with its bytes moves the file too.
    await createFile(server, {
      name: "c.txt",
      externalId: "c",
      overwrite: true,
      geoLocation: point(0, 0),
      ...bytes("c2"),
    });
    expect(await inBox(west)).toEqual([]);
    expect(await inBox(box(-1, -1, 1, 1))).toEqual(["c.txt"]);

    await deleteFile(a.file?.id ?? "");
    expect(await inBox(east)).toEqual(["b.txt"]);
  });

  it("checks the files it finds near a box's edge against their own columns", async () => {
    // Within the R*Tree's float32 rounding and PostgreSQL's box tolerance (1e-6) of the box below.
    await createFile(server, { name: "outside.txt", geoLocation: point(40.0000001, 40), ...bytes("o") });
    await createFile(server, { name: "edge.txt", geoLocation: point(40, 40), ...bytes("e") });
    expect(await inBox(box(30, 30, 40, 40))).toEqual(["edge.txt"]);
    expect(await inBox(box(30, 30, 40.0000002, 40))).toEqual(["edge.txt", "outside.txt"]);
    expect(await inBox(box(40.00000005, 40, 50, 50))).toEqual(["outside.txt"]);
  });

  it("lists and counts once a file meeting both halves of a box across the antimeridian", async () => {
    const line = {
      type: "Feature",
      properties: null,
      geometry: {
        type: "LineString",
        coordinates: [
          [-175, -60],
          [175, -60],
        ],
      },
    };
    await createFile(server, { name: "wide.txt", geoLocation: line, ...bytes("w") });
    await createFile(server, { name: "east.txt", geoLocation: point(178, -60), ...bytes("e") });
    await createFile(server, { name: "west.txt", geoLocation: point(-178, -60), ...bytes("w") });
    expect(await inBox(box(170, -61, -170, -59))).toEqual(["east.txt", "west.txt", "wide.txt"]);
    expect(await inBox(box(176, -61, -176, -59))).toEqual(["east.txt", "west.txt"]);
  });

  it("holds files only, one entry each", async () => {
    const indexed =
      testProvider === "sqlite"
        ? await execute(server.database.url, `SELECT count(*) AS "n" FROM "FileGeoBox"`)
        : await execute(
            server.database.url,
            `SELECT count(*) AS "n" FROM "File" WHERE "pendingForId" IS NULL AND "geoMinLongitude" IS NOT NULL`,
          );
    const located = await execute(
      server.database.url,
      `SELECT count(*) AS "n" FROM "File" WHERE "pendingForId" IS NULL AND "geoMinLongitude" IS NOT NULL`,
    );
    expect(Number(indexed[0]?.n)).toBe(Number(located[0]?.n));
    expect(Number(located[0]?.n)).toBeGreaterThan(0);
  });
});
