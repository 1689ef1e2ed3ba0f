import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProvider } from "./helpers/database.js";
import { createFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

// A first page in creation order under `assetIdsAny` of several assets, or a `geoIntersects` box
// matching more files than the listing names by id (500), is read among the first files that
// condition matches (src/files/creation-order.ts), and only used when it is sure to be the page.
// Each page here is compared with the same filter applied by brute force to the whole listing.

let server: TestServer;
interface Fixture {
  id: string;
  assetId: number;
  labelled: boolean;
}
const fixture: Fixture[] = [];

beforeAll(async () => {
  server = await startServer();
  // 520 files inside the box below (more than the 500 the listing names by id), each linked to
  // one of three assets, every 9th labelled "x".
  for (let i = 0; i < 520; i += 1) {
    const assetId = 1 + (i % 3);
    const labelled = i % 9 === 0;
    const geoLocation = {
      type: "Feature",
      properties: null,
      geometry: { type: "Point", coordinates: [(i % 10) + 0.5, (i % 7) + 0.5] },
    } as const;
    const result = await createFile(server, {
      name: `p${i}.txt`,
      assetIds: [assetId],
      geoLocation,
      labels: labelled ? ["x"] : [],
    });
    if (result.file === undefined) throw new Error(JSON.stringify(result));
    fixture.push({ id: result.file.id, assetId, labelled });
  }
  // Outside the box, with no asset: newer than every file above.
  for (let i = 0; i < 5; i += 1) {
    const geoLocation = { type: "Feature", properties: null, geometry: { type: "Point", coordinates: [-50, -50] } };
    const result = await createFile(server, { name: `far${i}.txt`, geoLocation });
    if (result.file === undefined) throw new Error(JSON.stringify(result));
  }
}, 120_000);
afterAll(() => server.close());

type Page = { first?: number; last?: number };

async function page(filter: Record<string, unknown>, size: Page): Promise<string[]> {
  const response = await server.graphql<{ files: { edges: { node: { id: string } }[] } }>(
    `query ($filter: FileFilter, $first: Int, $last: Int) {
      files(workspaceId: "default", filter: $filter, first: $first, last: $last) { edges { node { id } } } }`,
    { filter, ...size },
  );
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data.files.edges.map((edge) => edge.node.id);
}

/** The listing's order of every file, newest first. */
async function everything(): Promise<string[]> {
  return page({}, { first: 1000 });
}

/** The page a brute-force filter over the whole listing gives. */
async function bruteForce(keep: (file: Fixture) => boolean, size: Page): Promise<string[]> {
  const byId = new Map(fixture.map((file) => [file.id, file]));
  const matching = (await everything()).filter((id) => {
    const file = byId.get(id);
    return file !== undefined && keep(file);
  });
  return size.first !== undefined ? matching.slice(0, size.first) : matching.slice(-(size.last ?? 0));
}

const box = { minLongitude: 0, minLatitude: 0, maxLongitude: 10, maxLatitude: 10 };

describe(`first pages at volume (${testProvider}) agree with a brute-force filter`, () => {
  it.each<[string, Page]>([
    ["first 10", { first: 10 }],
    ["last 10", { last: 10 }],
    ["first 0", { first: 0 }],
  ])("geoIntersects matching 520 files, %s", async (_label, size) => {
    const want = await bruteForce(() => true, size);
    expect(want.length).toBe(size.first ?? size.last);
    expect(await page({ geoIntersects: box }, size)).toEqual(want);
  });

  it("geoIntersects with labels most of its first matches lack", async () => {
    const size = { first: 20 };
    const want = await bruteForce((file) => file.labelled, size);
    expect(want).toHaveLength(20);
    expect(await page({ geoIntersects: box, labelsAny: ["x"] }, size)).toEqual(want);
  });

  it.each<[number[], Page]>([
    [[1, 2], { first: 10 }],
    [[1, 2, 3], { last: 7 }],
    [[3, 2, 99], { first: 30 }],
  ])("assetIdsAny %j, %j", async (assetIds, size) => {
    const want = await bruteForce((file) => assetIds.includes(file.assetId), size);
    expect(want.length).toBe(size.first ?? size.last);
    expect(await page({ assetIdsAny: assetIds }, size)).toEqual(want);
  });

  it("assetIdsAny with labels most of its first matches lack", async () => {
    const size = { first: 25 };
    const want = await bruteForce((file) => file.assetId !== 3 && file.labelled, size);
    expect(want).toHaveLength(25);
    expect(await page({ assetIdsAny: [1, 2], labelsAny: ["x"] }, size)).toEqual(want);
  });

  // Later pages (with a cursor) are read the same way, among the condition's first files after it.
  it.each<[string, Record<string, unknown>, (file: Fixture) => boolean, "first" | "last"]>([
    ["geoIntersects", { geoIntersects: box }, () => true, "first"],
    ["geoIntersects with labels", { geoIntersects: box, labelsAny: ["x"] }, (file) => file.labelled, "first"],
    ["assetIdsAny [1, 3]", { assetIdsAny: [1, 3] }, (file) => file.assetId !== 2, "first"],
    ["assetIdsAny [1, 3], backward", { assetIdsAny: [1, 3] }, (file) => file.assetId !== 2, "last"],
    [
      "assetIdsAny [1, 2] with labels, backward",
      { assetIdsAny: [1, 2], labelsAny: ["x"] },
      (file) => file.assetId !== 3 && file.labelled,
      "last",
    ],
  ])("%s, page after page", async (_label, filter, keep, direction) => {
    const forward = direction === "first";
    const want = await bruteForce(keep, forward ? { first: 1000 } : { last: 1000 });
    const got: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages += 1) {
      const response: {
        data: {
          files: {
            edges: { node: { id: string } }[];
            pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string };
          };
        };
        errors?: unknown;
      } = await server.graphql(
        `query ($filter: FileFilter, $first: Int, $after: String, $last: Int, $before: String) {
          files(workspaceId: "default", filter: $filter, first: $first, after: $after, last: $last, before: $before) {
            edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
        forward ? { filter, first: 11, after: cursor } : { filter, last: 11, before: cursor },
      );
      if (response.errors) throw new Error(JSON.stringify(response.errors));
      const ids = response.data.files.edges.map((edge) => edge.node.id);
      if (forward) got.push(...ids);
      else got.unshift(...ids);
      const { pageInfo } = response.data.files;
      if (!(forward ? pageInfo.hasNextPage : pageInfo.hasPreviousPage)) break;
      cursor = forward ? pageInfo.endCursor : pageInfo.startCursor;
    }
    expect(want.length).toBeGreaterThan(22);
    expect(got).toEqual(want);
  });
});
