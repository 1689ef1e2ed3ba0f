import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProvider } from "./helpers/database.js";
import { createFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
/** The fixture: each file's id and metadata as created. */
const fixture: { id: string; metadata: Record<string, unknown> }[] = [];

const colours = ["red", "green", "blue"];
/** File i's metadata: values of every JSON kind, several files sharing each value. */
function metadataOf(i: number): Record<string, unknown> {
  return {
    colour: colours[i % 3],
    count: i % 4,
    // A double whose shortest form has 17 digits: it must come back exactly.
    ratio: 58.322791623046875 + (i % 2),
    ...(i % 5 === 0 ? { reviewed: i % 10 === 0 } : {}),
    ...(i % 6 === 0 ? { note: null } : {}),
    tags: i % 2 === 0 ? ["a", "b"] : ["b", "a"],
    owner: { team: `t${i % 2}`, ids: [i % 3, 1] },
  };
}

beforeAll(async () => {
  server = await startServer();
  for (let i = 0; i < 40; i += 1) {
    const metadata = metadataOf(i);
    const result = await createFile(server, { name: `m${i}.txt`, metadata });
    if (result.file === undefined) throw new Error(JSON.stringify(result));
    expect(result.file.metadata).toEqual(metadata);
    fixture.push({ id: result.file.id, metadata });
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

/** The same filter, by brute force over the fixture. */
function expected(metadata: Record<string, unknown>): string[] {
  return fixture
    .filter((file) =>
      Object.entries(metadata).every(
        ([key, value]) => key in file.metadata && isDeepStrictEqual(file.metadata[key], value),
      ),
    )
    .map((file) => file.id)
    .sort();
}

describe(`metadata filter (${testProvider})`, () => {
  it.each([
    ["a string", { colour: "red" }],
    ["a number", { count: 2 }],
    ["a number written as a float", { count: 2.0 }],
    ["a double of 17 significant digits", { ratio: 59.322791623046875 }],
    ["a boolean", { reviewed: false }],
    ["null (the key present with null)", { note: null }],
    ["an array, in its order", { tags: ["a", "b"] }],
    ["an object whatever its key order", { owner: { ids: [0, 1], team: "t0" } }],
    ["several keys at once", { colour: "blue", count: 1, tags: ["b", "a"] }],
    ["a value no file has", { colour: "purple" }],
    ["a key no file has", { missing: "red" }],
  ])("matches %s exactly, as a brute-force filter does", async (_label, metadata) => {
    const want = expected(metadata);
    expect(await listed({ metadata })).toEqual(want);
  });

  it("has found files in the cases above (the fixture is not empty)", () => {
    expect(expected({ colour: "red" }).length).toBeGreaterThan(5);
    expect(expected({ owner: { ids: [0, 1], team: "t0" } }).length).toBeGreaterThan(1);
  });

  it("follows updateFile, which replaces the metadata whole", async () => {
    const target = fixture[1];
    if (target === undefined) throw new Error("no fixture");
    const response = await server.graphql<{ updateFile: { __typename: string; file: { metadata: unknown } } }>(
      `mutation ($input: UpdateFileInput!) { updateFile(input: $input) { __typename ... on FilePayload { file { metadata } } } }`,
      { input: { id: target.id, metadata: { colour: "purple", extra: [1, { a: true }] } } },
    );
    expect(response.data.updateFile.file.metadata).toEqual({ colour: "purple", extra: [1, { a: true }] });
    target.metadata = { colour: "purple", extra: [1, { a: true }] };
    expect(await listed({ metadata: { colour: "purple" } })).toEqual([target.id]);
    expect(await listed({ metadata: { extra: [1, { a: true }] } })).toEqual([target.id]);
    expect(await listed({ metadata: { colour: colours[1] } })).toEqual(expected({ colour: colours[1] }));
  });

  it("refuses a filter that is not an object of JSON values, or names more than 16 keys", async () => {
    for (const metadata of [
      ["colour"],
      "colour",
      { k: "a\u0000" },
      Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])),
    ]) {
      const response = await server.graphql(
        `query ($filter: FileFilter) { files(workspaceId: "default", filter: $filter) { totalCount } }`,
        { filter: { metadata } },
      );
      expect(response.errors?.[0]?.extensions?.code, JSON.stringify(metadata).slice(0, 40)).toBe("BAD_USER_INPUT");
    }
  });
});
