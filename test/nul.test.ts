import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProvider } from "./helpers/database.js";
import { startServer, type TestServer } from "./helpers/server.js";

// PostgreSQL refuses NUL in a parameter. The check on every string argument refuses it in what
// a client sends (src/schema/well-formed.ts) and in what `node` decodes; `file`, `folder`,
// `workspace` and the mutations decode a global ID's base64 themselves: such an id must find
// nothing there, never be an internal error.
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const globalId = (typename: string) => Buffer.from(`${typename}:a\u0000b`).toString("base64");

describe(`global IDs holding NUL (${testProvider})`, () => {
  it("find nothing through file, folder and workspace, and are NotFoundError in mutations", async () => {
    const response = await server.graphql<Record<string, unknown>>(
      `query ($file: ID!, $folder: ID!, $workspace: ID!) {
        file(id: $file) { id } folder(id: $folder) { id } workspace(id: $workspace) { id } }`,
      { file: globalId("File"), folder: globalId("Folder"), workspace: globalId("Workspace") },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ file: null, folder: null, workspace: null });
    const deleted = await server.graphql<{ deleteFile: { __typename: string }; deleteFolder: { __typename: string } }>(
      `mutation ($file: ID!, $folder: ID!) { deleteFile(id: $file) { __typename } deleteFolder(id: $folder) { __typename } }`,
      { file: globalId("File"), folder: globalId("Folder") },
    );
    expect(deleted.data).toEqual({
      deleteFile: { __typename: "NotFoundError" },
      deleteFolder: { __typename: "NotFoundError" },
    });
  });
});
