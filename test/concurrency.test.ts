import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProvider } from "./helpers/database.js";
import { completeUpload, createFile, type MutationResult, putBytes } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe(`concurrent writes (${testProvider})`, () => {
  it("lets exactly one of 50 concurrent creates take an externalId; the others get ConflictError", async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        server.graphql<{ createFile: MutationResult }>(
          `mutation ($input: CreateFileInput!) { createFile(input: $input) { __typename ... on Error { code } } }`,
          { input: { workspaceId: "default", name: `race-${index}.txt`, externalId: "same-external-id" } },
        ),
      ),
    );
    expect(results.flatMap((result) => result.errors ?? [])).toEqual([]);
    expect(results.map((result) => result.status)).toEqual(Array(50).fill(200));
    const typenames = results.map((result) => result.data.createFile.__typename);
    expect(typenames.filter((name) => name === "CreateFilePayload")).toHaveLength(1);
    expect(typenames.filter((name) => name === "ConflictError")).toHaveLength(49);
  });

  it("marks a file uploaded once when 20 completions race", async () => {
    const body = Buffer.from("raced bytes\n");
    const created = await createFile(server, { name: "raced.txt", mimeType: "text/plain", size: body.length });
    expect((await putBytes(created.upload!, body)).status).toBe(200);
    const results = await Promise.all(Array.from({ length: 20 }, () => completeUpload(server, created.file!.id)));
    expect(results.map((result) => result.__typename)).toEqual(Array(20).fill("FilePayload"));
    expect(new Set(results.map((result) => result.file!.status))).toEqual(new Set(["UPLOADED"]));
    // One transition PENDING -> UPLOADED: every caller sees the same instants.
    expect(new Set(results.map((result) => result.file!.uploadedAt)).size).toBe(1);
    expect(new Set(results.map((result) => result.file!.updatedAt)).size).toBe(1);
  });
});

describe(`cursor stability (${testProvider})`, () => {
  const pageQuery = `query ($after: String, $order: FileOrder, $filter: FileFilter) {
    files(workspaceId: "default", first: 3, after: $after, orderBy: $order, filter: $filter) {
      edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;

  for (const order of [
    { field: "CREATED_AT", direction: "DESC" },
    { field: "NAME", direction: "ASC" },
    { field: "SIZE", direction: "DESC" },
  ]) {
    it(`reads every existing file once while files are inserted between pages (${order.field} ${order.direction})`, async () => {
      const directory = `/stable/${order.field.toLowerCase()}`;
      const existing: string[] = [];
      for (let index = 0; index < 10; index += 1) {
        // Half without size: nulls sort last and must be paged through too.
        const size = index % 2 === 0 ? 100 + (index % 3) : undefined;
        const created = await createFile(server, { name: `existing-${index % 4}.txt`, directory, size });
        existing.push(created.file!.id);
      }
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 20; page += 1) {
        const response: {
          data: { files: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
        } = await server.graphql(pageQuery, { after, order, filter: { directory } });
        if (response.data === null) throw new Error(JSON.stringify(response));
        seen.push(...response.data.files.edges.map((edge) => edge.node.id));
        // Rows that sort before, among and after the ones read so far.
        for (const name of ["a-inserted.txt", "existing-2.txt", "z-inserted.txt"]) {
          await createFile(server, { name, directory, size: 101 });
        }
        if (!response.data.files.pageInfo.hasNextPage) break;
        after = response.data.files.pageInfo.endCursor;
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(existing.filter((id) => !seen.includes(id))).toEqual([]);
    });
  }
});
