import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProvider } from "./helpers/database.js";
import { createFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

// A page of files selecting pendingUpload and versions costs the same number of SQL statements
// whatever its size (src/files/loaders.ts), counted by the server's own statement metric.

const metricsToken = "batches-metrics-token";
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ METRICS_TOKEN: metricsToken });
});
afterAll(() => server.close());

const base64 = (text: string) => Buffer.from(text).toString("base64");

/** SELECT statements the server has run so far. */
async function selects(): Promise<number> {
  const text = await (
    await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })
  ).text();
  return Number(/db_statement_duration_seconds_count\{kind="SELECT"\} (\d+)/.exec(text)?.[1] ?? 0);
}

interface Page {
  files: { edges: { node: { pendingUpload: { size: number } | null; versions: { size: number }[] } }[] };
}

/** The SELECTs one listing of `first` files costs: the least of three tries (background work adds some). */
async function pageCost(first: number): Promise<{ statements: number; page: Page }> {
  let statements = Number.POSITIVE_INFINITY;
  let page: Page | undefined;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const before = await selects();
    const response = await server.graphql<Page>(
      `query ($first: Int!) { files(workspaceId: "default", first: $first, filter: { directory: "/batches" }) {
        edges { node { pendingUpload { size } versions { size } } } } }`,
      { first },
    );
    if (response.errors) throw new Error(JSON.stringify(response.errors));
    statements = Math.min(statements, (await selects()) - before);
    page = response.data;
  }
  if (page === undefined) throw new Error("no page");
  return { statements, page };
}

describe(`a page's pending uploads and versions (${testProvider})`, () => {
  it("are read in a constant number of statements", async () => {
    for (let n = 0; n < 12; n += 1) {
      const externalId = `batch-${n}`;
      await createFile(server, { name: `${n}.txt`, externalId, directory: "/batches", content: base64("one") });
      // An overwrite with bytes leaves a version; one without leaves a pending upload.
      await createFile(server, { name: `${n}.txt`, externalId, overwrite: true, content: base64("two!") });
      await createFile(server, { name: `${n}.txt`, externalId, overwrite: true, size: 5 });
    }
    const small = await pageCost(3);
    const large = await pageCost(12);
    for (const { page } of [small, large]) {
      for (const { node } of page.files.edges) {
        expect(node).toEqual({ pendingUpload: { size: 5 }, versions: [{ size: 3 }] });
      }
    }
    expect(small.page.files.edges).toHaveLength(3);
    expect(large.page.files.edges).toHaveLength(12);
    expect(large.statements).toBe(small.statements);
  });
});
