import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFile } from "./helpers/files.js";
import { testProvider } from "./helpers/database.js";
import { startServer, type TestServer } from "./helpers/server.js";

// PostgreSQL's text cannot hold NUL and refuses it in a parameter: every input that reaches a
// query must be refused or found absent before, never a 500.
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const nul = "a\u0000b";
const globalId = (typename: string) => Buffer.from(`${typename}:${nul}`).toString("base64");

describe(`NUL in input is never an internal error (${testProvider})`, () => {
  it.each(["description", "source", "entityId"])("refuses NUL in %s with a ValidationError on it", async (field) => {
    const result = await createFile(server, { name: "a.txt", [field]: nul, ...(field === "entityId" ? { scope: "ENTITY" } : {}) });
    expect(result.fieldErrors?.map((error) => error.path.join("."))).toEqual([`input.${field}`]);
  });

  it("refuses NUL in a listing filter with BAD_USER_INPUT", async () => {
    for (const filter of [{ nameContains: nul }, { labelsAny: [nul] }, { directory: nul }, { externalIdPrefix: nul }]) {
      const response = await server.graphql(`query ($filter: FileFilter) { files(workspaceId: "default", filter: $filter) { totalCount } }`, { filter });
      expect(response.errors?.[0]?.extensions?.code, JSON.stringify(filter)).toBe("BAD_USER_INPUT");
    }
  });

  it("finds nothing for ids, slugs, externalIds and paths holding NUL", async () => {
    const response = await server.graphql<Record<string, unknown>>(
      `query ($file: ID!, $folder: ID!, $workspace: ID!, $raw: ID!, $nul: String!) {
        file(id: $file) { id } fileNode: node(id: $file) { id } folder(id: $folder) { id } folderNode: node(id: $folder) { id }
        workspaceNode: node(id: $workspace) { id } workspace(id: $raw) { id } rawFile: file(id: $raw) { id }
        byExternal: fileByExternalId(workspaceId: "default", externalId: $nul) { id }
        inNulWorkspace: fileByExternalId(workspaceId: $raw, externalId: "x") { id }
        byPath: folderByPath(workspaceId: "default", path: $nul) { id } }`,
      { file: globalId("File"), folder: globalId("Folder"), workspace: globalId("Workspace"), raw: nul, nul },
    );
    expect(response.errors).toBeUndefined();
    expect(Object.values(response.data).every((value) => value === null)).toBe(true);
    const deleted = await server.graphql<{ deleteFile: { __typename: string } }>(`mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`, {
      id: globalId("File"),
    });
    expect(deleted.data.deleteFile.__typename).toBe("NotFoundError");
  });
});
