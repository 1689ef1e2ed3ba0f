import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFile, uploadFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;

interface Node {
  id: string;
  name: string;
  size: number | null;
  status: string;
}
interface Page {
  totalCount: number;
  edges: { cursor: string; node: Node }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

const listQuery = `query ($filter: FileFilter, $orderBy: FileOrder, $first: Int, $after: String, $last: Int, $before: String) {
  files(workspaceId: "default", filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id name size status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

async function page(variables: Record<string, unknown>): Promise<Page> {
  const response = await server.graphql<{ files: Page }>(listQuery, variables);
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data.files;
}

/** Walks every page forward and returns the names in order. */
async function walk(variables: Record<string, unknown>, pageSize: number): Promise<string[]> {
  const names: string[] = [];
  let after: string | null = null;
  for (;;) {
    const result: Page = await page({ ...variables, first: pageSize, after });
    names.push(...result.edges.map((edge) => edge.node.name));
    if (!result.pageInfo.hasNextPage) return names;
    after = result.pageInfo.endCursor;
  }
}

const total = 250;
const name = (i: number) => `File-${String(i).padStart(3, "0")}.txt`;

beforeAll(async () => {
  server = await startServer();
  for (let i = 0; i < total; i += 1) {
    const input = {
      name: name(i),
      mimeType: i % 5 === 0 ? "image/png" : "text/plain",
      directory: i % 2 === 0 ? "/even" : i % 3 === 0 ? "/odd/three" : "/odd",
      labels: [i % 2 === 0 ? "even" : "odd", ...(i % 10 === 0 ? ["tens"] : [])],
      externalId: `ext-${i}`,
      scope: i % 7 === 0 ? "ENTITY" : "WORKSPACE",
      entityId: i % 7 === 0 ? "entity-7" : undefined,
    };
    // A few are uploaded, so ordering by size and uploadedAt meets both values and nulls.
    if (i % 50 === 1) await uploadFile(server, { ...input, mimeType: "text/plain" }, Buffer.alloc(i, "x"));
    else expect((await createFile(server, input)).__typename).toBe("CreateFilePayload");
  }
}, 120_000);
afterAll(() => server.close());

describe("files pagination", () => {
  it("walks all 250 files newest first in pages of 40, each exactly once", async () => {
    const names = await walk({}, 40);
    expect(names).toHaveLength(total);
    expect(new Set(names).size).toBe(total);
    expect(names[0]).toBe(name(249));
    expect(names.at(-1)).toBe(name(0));
  });

  it("counts every match on every page", async () => {
    expect((await page({ first: 5 })).totalCount).toBe(total);
    expect((await page({ first: 5, filter: { labelsAny: ["tens"] } })).totalCount).toBe(25);
  });

  it("walks backward with last/before to the same order", async () => {
    const forward = await walk({ orderBy: { field: "NAME", direction: "ASC" } }, 250);
    const backward: string[] = [];
    let before: string | null = null;
    for (;;) {
      const result: Page = await page({ orderBy: { field: "NAME", direction: "ASC" }, last: 33, before });
      backward.unshift(...result.edges.map((edge) => edge.node.name));
      if (!result.pageInfo.hasPreviousPage) break;
      before = result.pageInfo.startCursor;
    }
    expect(backward).toEqual(forward);
  });

  it("orders by size with unsized files last, in both directions, across pages", async () => {
    for (const direction of ["ASC", "DESC"]) {
      const names = await walk({ orderBy: { field: "SIZE", direction } }, 7);
      expect(names).toHaveLength(total);
      const sized = [1, 51, 101, 151, 201].map(name);
      expect(names.slice(0, 5)).toEqual(direction === "ASC" ? sized : [...sized].reverse());
    }
  });

  it("orders by uploadedAt with pending files last", async () => {
    const names = await walk({ orderBy: { field: "UPLOADED_AT", direction: "DESC" } }, 3);
    expect(names.slice(0, 5)).toEqual([201, 151, 101, 51, 1].map(name));
    expect(new Set(names).size).toBe(total);
  });

  it("rejects a page size over 1000", async () => {
    const response = await server.graphql(listQuery, { first: 1001 });
    expect(response.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("rejects a cursor from another ordering", async () => {
    const first = await page({ first: 1 });
    const response = await server.graphql(listQuery, {
      first: 1,
      after: first.pageInfo.endCursor,
      orderBy: { field: "NAME", direction: "ASC" },
    });
    expect(response.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("files filters", () => {
  const count = async (filter: Record<string, unknown>) => (await page({ first: 1, filter })).totalCount;

  it("filters by directory exactly and by prefix", async () => {
    expect(await count({ directory: "/odd" })).toBe(83);
    expect(await count({ directoryPrefix: "/odd" })).toBe(125);
    expect(await count({ directoryPrefix: "/odd/three" })).toBe(42);
    expect(await count({ directoryPrefix: "/od" })).toBe(0);
    expect(await count({ directoryPrefix: "/odd/three", status: "UPLOADED" })).toBe(2);
  });

  it("filters by mimeType exactly and by type/*", async () => {
    expect(await count({ mimeType: "image/png" })).toBe(50);
    expect(await count({ mimeType: "image/*" })).toBe(50);
    expect(await count({ mimeType: "text/*" })).toBe(200);
  });

  it("filters by any and by all labels", async () => {
    expect(await count({ labelsAny: ["odd", "tens"] })).toBe(150);
    expect(await count({ labelsAll: ["even", "tens"] })).toBe(25);
    expect(await count({ labelsAll: ["odd", "tens"] })).toBe(0);
  });

  it("filters by externalId prefix, name case-insensitively, status and scope", async () => {
    expect(await count({ externalIdPrefix: "ext-24" })).toBe(11);
    expect(await count({ nameContains: "FILE-01" })).toBe(10);
    expect(await count({ status: "UPLOADED" })).toBe(5);
    expect(await count({ scope: "ENTITY", entityId: "entity-7" })).toBe(36);
  });

  it("filters by creation and upload time", async () => {
    expect(await count({ createdAfter: new Date(Date.now() + 60_000).toISOString() })).toBe(0);
    expect(await count({ createdBefore: new Date(Date.now() + 60_000).toISOString() })).toBe(total);
    expect(await count({ uploadedAfter: new Date(0).toISOString() })).toBe(5);
  });

  it("walks a directoryPrefix in creation order both ways, as the unfiltered listing orders those files", async () => {
    const everything = await walk({ orderBy: { field: "CREATED_AT", direction: "ASC" } }, 250);
    const odd = everything.filter((fileName) => Number(fileName.slice(5, 8)) % 2 === 1);
    for (const direction of ["ASC", "DESC"]) {
      const variables = { filter: { directoryPrefix: "/odd" }, orderBy: { field: "CREATED_AT", direction } };
      const expected = direction === "ASC" ? odd : [...odd].reverse();
      expect(await walk(variables, 9)).toEqual(expected);
      const backward: string[] = [];
      let before: string | null = null;
      for (;;) {
        const result: Page = await page({ ...variables, last: 9, before });
        backward.unshift(...result.edges.map((edge) => edge.node.name));
        if (!result.pageInfo.hasPreviousPage) break;
        before = result.pageInfo.startCursor;
      }
      expect(backward).toEqual(expected);
    }
    expect(await count({ directoryPrefix: "/" })).toBe(total);
  });

  it("combines filters with pagination", async () => {
    const names = await walk({ filter: { directoryPrefix: "/odd", labelsAny: ["odd"] } }, 10);
    expect(names).toHaveLength(125);
  });
});
