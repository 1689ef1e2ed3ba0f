import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProvider } from "./helpers/database.js";
import { createFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

interface Box {
  minLongitude: number;
  minLatitude: number;
  maxLongitude: number;
  maxLatitude: number;
}
interface Fixture {
  id: string;
  assetIds: number[] | undefined;
  dataSetId: number | undefined;
  geoLocation: { type: "Feature"; properties: null; geometry: { type: string; coordinates: unknown } } | undefined;
}

let server: TestServer;
const fixture: Fixture[] = [];

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function geometryOf(i: number, next: () => number): { type: string; coordinates: unknown } {
  const lon = () => Math.round((next() * 360 - 180) * 1e6) / 1e6;
  const lat = () => Math.round((next() * 180 - 90) * 1e6) / 1e6;
  const near = (x: number, y: number, d: number) => [
    Math.max(-180, Math.min(180, x + d)),
    Math.max(-90, Math.min(90, y + d)),
  ];
  const [x, y] = [lon(), lat()];
  switch (i % 6) {
    case 0:
      return { type: "Point", coordinates: [x, y] };
    case 1:
      return { type: "MultiPoint", coordinates: [[x, y], near(x, y, next() * 5)] };
    case 2:
      return { type: "LineString", coordinates: [[x, y], near(x, y, next() * 20), near(x, y, -next() * 3)] };
    case 3:
      return {
        type: "MultiLineString",
        coordinates: [
          [[x, y], near(x, y, 0.001)],
          [near(x, y, -1), near(x, y, 2)],
        ],
      };
    case 4: {
      const d = next() * 10;
      const ring = [[x, y], near(x, y, d), [near(x, y, d)[0], y], [x, y]];
      return { type: "Polygon", coordinates: [ring] };
    }
    default: {
      const ring = [[x, y], near(x, y, 0.5), [near(x, y, 0.5)[0], y], [x, y]];
      return { type: "MultiPolygon", coordinates: [[ring], [ring.map(([a, b]) => [-(a as number), b])]] };
    }
  }
}

beforeAll(async () => {
  server = await startServer();
  const next = random(11);
  for (let i = 0; i < 72; i += 1) {
    const assetIds =
      i % 4 === 3 ? undefined : [...new Set(Array.from({ length: 1 + (i % 3) }, () => 1 + Math.floor(next() * 15)))];
    const dataSetId = i % 5 === 4 ? undefined : 1 + (i % 4) * 2 ** 40;
    const geoLocation =
      i % 7 === 6 ? undefined : ({ type: "Feature", properties: null, geometry: geometryOf(i, next) } as const);
    const result = await createFile(server, { name: `g${i}.txt`, assetIds, dataSetId, geoLocation });
    if (result.file === undefined) throw new Error(JSON.stringify(result));
    expect(result.file).toMatchObject({
      assetIds: assetIds ?? [],
      dataSetId: dataSetId ?? null,
      geoLocation: geoLocation ?? null,
    });
    fixture.push({ id: result.file.id, assetIds, dataSetId, geoLocation });
  }
  // Around the antimeridian and the poles, where boxes and cells meet their edges.
  for (const coordinates of [
    [180, 10],
    [-180, -10],
    [179.5, 0],
    [-179.5, 0],
    [0, 90],
    [0, -90],
  ]) {
    const geoLocation = { type: "Feature", properties: null, geometry: { type: "Point", coordinates } } as const;
    const result = await createFile(server, { name: `edge.txt`, geoLocation });
    if (result.file === undefined) throw new Error(JSON.stringify(result));
    fixture.push({ id: result.file.id, assetIds: undefined, dataSetId: undefined, geoLocation });
  }
});
afterAll(() => server.close());

async function listed(filter: Record<string, unknown>): Promise<string[]> {
  const response = await server.graphql<{ files: { totalCount: number; edges: { node: { id: string } }[] } }>(
    `query ($filter: FileFilter) { files(workspaceId: "default", filter: $filter, first: 1000) { totalCount edges { node { id } } } }`,
    { filter },
  );
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  const ids = response.data.files.edges.map((edge) => edge.node.id);
  expect(response.data.files.totalCount).toBe(ids.length);
  return ids.sort();
}

const ids = (files: Fixture[]) => files.map((file) => file.id).sort();

/** The feature's bounding box, by brute force over every position. */
function boxOf(coordinates: unknown): Box {
  const positions: number[][] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value) && typeof value[0] === "number") positions.push(value as number[]);
    else if (Array.isArray(value)) value.forEach(walk);
  };
  walk(coordinates);
  const lons = positions.map((p) => p[0] as number);
  const lats = positions.map((p) => p[1] as number);
  return {
    minLongitude: Math.min(...lons),
    maxLongitude: Math.max(...lons),
    minLatitude: Math.min(...lats),
    maxLatitude: Math.max(...lats),
  };
}

function meets(a: Box, query: Box): boolean {
  const parts =
    query.minLongitude <= query.maxLongitude
      ? [query]
      : [
          { ...query, maxLongitude: 180 },
          { ...query, minLongitude: -180 },
        ];
  return parts.some(
    (q) =>
      a.minLongitude <= q.maxLongitude &&
      a.maxLongitude >= q.minLongitude &&
      a.minLatitude <= q.maxLatitude &&
      a.maxLatitude >= q.minLatitude,
  );
}

describe(`assetIdsAny, dataSetIds and geoIntersects (${testProvider}) agree with a brute-force filter`, () => {
  it.each([[[3]], [[1, 2]], [[7, 15, 9]], [[99]], [[]]])("assetIdsAny %j", async (assetIds) => {
    expect(await listed({ assetIdsAny: assetIds })).toEqual(
      ids(fixture.filter((file) => file.assetIds?.some((id) => assetIds.includes(id)) ?? false)),
    );
  });

  it.each([[[1]], [[1 + 2 ** 40, 1 + 3 * 2 ** 40]], [[5]], [[]]])("dataSetIds %j", async (dataSetIds) => {
    expect(await listed({ dataSetIds })).toEqual(
      ids(fixture.filter((file) => file.dataSetId !== undefined && dataSetIds.includes(file.dataSetId))),
    );
  });

  const boxes: [string, Box][] = [
    ["the whole world", { minLongitude: -180, minLatitude: -90, maxLongitude: 180, maxLatitude: 90 }],
    ["a quadrant", { minLongitude: 0, minLatitude: 0, maxLongitude: 180, maxLatitude: 90 }],
    ["a 30° square", { minLongitude: -60, minLatitude: -20, maxLongitude: -30, maxLatitude: 10 }],
    ["a 5° square", { minLongitude: 10, minLatitude: 10, maxLongitude: 15, maxLatitude: 15 }],
    ["a thin band", { minLongitude: -180, minLatitude: -1, maxLongitude: 180, maxLatitude: 1 }],
    ["a box across the antimeridian", { minLongitude: 170, minLatitude: -20, maxLongitude: -170, maxLatitude: 20 }],
    ["the antimeridian itself", { minLongitude: 180, minLatitude: -90, maxLongitude: 180, maxLatitude: 90 }],
    ["the north pole", { minLongitude: -180, minLatitude: 90, maxLongitude: 180, maxLatitude: 90 }],
    ["a point-sized box", { minLongitude: 0, minLatitude: 0, maxLongitude: 0, maxLatitude: 0 }],
  ];
  it.each(boxes)("geoIntersects %s", async (_label, box) => {
    expect(await listed({ geoIntersects: box })).toEqual(
      ids(
        fixture.filter(
          (file) => file.geoLocation !== undefined && meets(boxOf(file.geoLocation.geometry.coordinates), box),
        ),
      ),
    );
  });

  it("finds some files for most boxes (the fixture is spread out)", () => {
    const found = boxes.filter(([, box]) =>
      fixture.some((file) => file.geoLocation && meets(boxOf(file.geoLocation.geometry.coordinates), box)),
    );
    expect(found.length).toBeGreaterThanOrEqual(6);
  });

  // Every box of the fixture's own files: each must find at least that file.
  it("finds each file by its own bounding box, and by a box touching only its corner", async () => {
    for (const file of fixture.slice(0, 20)) {
      if (file.geoLocation === undefined) continue;
      const box = boxOf(file.geoLocation.geometry.coordinates);
      expect(await listed({ geoIntersects: box })).toContain(file.id);
      const corner = {
        minLongitude: box.maxLongitude,
        minLatitude: box.maxLatitude,
        maxLongitude: box.maxLongitude,
        maxLatitude: box.maxLatitude,
      };
      expect(await listed({ geoIntersects: corner })).toContain(file.id);
    }
  });

  it("pages through one asset's files (read through FileAsset's index) in the listing's order, both ways", async () => {
    const order = async (filter: Record<string, unknown>, backward: boolean): Promise<string[]> => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (;;) {
        const response: {
          data: { files: { edges: { node: { id: string } }[]; pageInfo: Record<string, string | boolean | null> } };
        } = await server.graphql(
          `query ($filter: FileFilter, $first: Int, $after: String, $last: Int, $before: String) {
            files(workspaceId: "default", filter: $filter, first: $first, after: $after, last: $last, before: $before) {
              edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
          backward ? { filter, last: 2, before: cursor } : { filter, first: 2, after: cursor },
        );
        const page = response.data.files.edges.map((edge) => edge.node.id);
        if (backward) seen.unshift(...page);
        else seen.push(...page);
        const { pageInfo } = response.data.files;
        if (!(backward ? pageInfo.hasPreviousPage : pageInfo.hasNextPage)) return seen;
        cursor = (backward ? pageInfo.startCursor : pageInfo.endCursor) as string;
      }
    };
    const everything = await order({}, false);
    for (const assetId of [3, 7]) {
      const linked = new Set(fixture.filter((file) => file.assetIds?.includes(assetId)).map((file) => file.id));
      expect(linked.size).toBeGreaterThan(2);
      const want = everything.filter((id) => linked.has(id));
      expect(await order({ assetIdsAny: [assetId] }, false)).toEqual(want);
      expect(await order({ assetIdsAny: [assetId, assetId] }, true)).toEqual(want);
    }
  });

  it("combines the filters with each other", async () => {
    const box = boxes[1]?.[1] as Box;
    expect(await listed({ geoIntersects: box, dataSetIds: [1], assetIdsAny: [1, 2, 3, 4, 5] })).toEqual(
      ids(
        fixture.filter(
          (file) =>
            file.geoLocation !== undefined &&
            meets(boxOf(file.geoLocation.geometry.coordinates), box) &&
            file.dataSetId === 1 &&
            (file.assetIds?.some((id) => id <= 5) ?? false),
        ),
      ),
    );
  });

  it("refuses a box out of range and more than 100 ids, as BAD_USER_INPUT", async () => {
    for (const filter of [
      { geoIntersects: { minLongitude: -181, minLatitude: 0, maxLongitude: 0, maxLatitude: 0 } },
      { geoIntersects: { minLongitude: 0, minLatitude: 10, maxLongitude: 0, maxLatitude: 0 } },
      { assetIdsAny: Array.from({ length: 101 }, (_, i) => i + 1) },
      { dataSetIds: Array.from({ length: 101 }, (_, i) => i + 1) },
    ]) {
      const response = await server.graphql(
        `query ($filter: FileFilter) { files(workspaceId: "default", filter: $filter) { totalCount } }`,
        { filter },
      );
      expect(response.errors?.[0]?.extensions?.code, JSON.stringify(filter).slice(0, 50)).toBe("BAD_USER_INPUT");
    }
    expect(await listed({ assetIdsAny: Array.from({ length: 100 }, (_, i) => i + 1) })).toEqual(
      ids(fixture.filter((file) => file.assetIds)),
    );
  });
});
