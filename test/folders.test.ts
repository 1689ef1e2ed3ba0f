import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createWorkspace } from "../src/access/admin.js";
import { testProvider } from "./helpers/database.js";
import { createFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

interface FolderResult {
  id: string;
  path: string;
  name: string;
  parent: { path: string } | null;
}
const folderFields = `id path name parent { path }`;

async function createFolder(path: string, headers?: Record<string, string>, workspaceId = "default") {
  const response = await server.graphql<{
    createFolder: { __typename: string; folder?: FolderResult; fieldErrors?: { path: string[] }[] };
  }>(
    `mutation ($input: CreateFolderInput!) { createFolder(input: $input) { __typename
      ... on FolderPayload { folder { ${folderFields} } } ... on ValidationError { fieldErrors { path message } } } }`,
    { input: { workspaceId, path } },
    headers,
  );
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data.createFolder;
}

async function deleteFolder(id: string) {
  const response = await server.graphql<{ deleteFolder: { __typename: string } }>(
    `mutation ($id: ID!) { deleteFolder(id: $id) { __typename ... on Error { message } } }`,
    { id },
  );
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data.deleteFolder.__typename;
}

describe(`folders (${testProvider})`, () => {
  it("creates a nested folder with its parents, finds each by id and by path", async () => {
    const created = await createFolder("/projects/alpha/specs/");
    expect(created.folder).toMatchObject({
      path: "/projects/alpha/specs",
      name: "specs",
      parent: { path: "/projects/alpha" },
    });
    const byPath = await server.graphql<{ top: FolderResult & { folders: { path: string }[] }; missing: null }>(
      `{ top: folderByPath(workspaceId: "default", path: "/projects") { ${folderFields} folders { path } } missing: folderByPath(workspaceId: "default", path: "/nope") { id } }`,
    );
    expect(byPath.data.top).toMatchObject({ path: "/projects", parent: null, folders: [{ path: "/projects/alpha" }] });
    expect(byPath.data.missing).toBeNull();
    const byId = await server.graphql<{ folder: FolderResult; node: { __typename: string } }>(
      `query ($id: ID!) { folder(id: $id) { ${folderFields} } node(id: $id) { __typename } }`,
      { id: created.folder?.id },
    );
    expect(byId.data).toMatchObject({ folder: { path: "/projects/alpha/specs" }, node: { __typename: "Folder" } });
    // Creating it again returns the same folder.
    expect((await createFolder("/projects/alpha/specs")).folder?.id).toBe(created.folder?.id);
  });

  it("puts a file created with folderId in the folder's path, and lists files created with directory there too", async () => {
    const folder = (await createFolder("/docs/2026")).folder as FolderResult;
    const byFolder = await createFile(server, { name: "a.txt", folderId: folder.id });
    expect(byFolder.file).toMatchObject({ directory: "/docs/2026" });
    await createFile(server, { name: "b.txt", directory: "/docs/2026" });
    await createFile(server, { name: "below.txt", directory: "/docs/2026/deeper" });
    const listed = await server.graphql<{
      folder: { files: { totalCount: number; edges: { node: { name: string } }[] } };
    }>(
      `query ($id: ID!) { folder(id: $id) { files(orderBy: { field: NAME, direction: ASC }) { totalCount edges { node { name } } } } }`,
      { id: folder.id },
    );
    expect(listed.data.folder.files).toEqual({
      totalCount: 2,
      edges: [{ node: { name: "a.txt" } }, { node: { name: "b.txt" } }],
    });
  });

  it("answers NotFoundError for an unknown folderId or one of another workspace", async () => {
    const unknown = await createFile(server, {
      name: "x.txt",
      folderId: Buffer.from("Folder:no-such-folder").toString("base64"),
    });
    expect(unknown).toMatchObject({ __typename: "NotFoundError" });
    expect(unknown.message).toContain("folderId");
    await createWorkspace(server.app.db, "other");
    const otherKey = await createApiKey(server.app.db, "other", "WRITER");
    const foreign = await createFolder("/theirs", { authorization: `Bearer ${otherKey}` }, "other");
    expect((await createFile(server, { name: "x.txt", folderId: foreign.folder?.id })).__typename).toBe(
      "NotFoundError",
    );
    // The bootstrap key is no member of "other": its folder reads as absent.
    const read = await server.graphql<{ folder: null; node: null }>(
      `query ($id: ID!) { folder(id: $id) { id } node(id: $id) { id } }`,
      {
        id: foreign.folder?.id,
      },
    );
    expect(read.data).toEqual({ folder: null, node: null });
    expect(await deleteFolder(foreign.folder?.id as string)).toBe("NotFoundError");
  });

  it("refuses folderId beside directory, and a path that is not a folder", async () => {
    const folder = (await createFolder("/both")).folder as FolderResult;
    const both = await createFile(server, { name: "x.txt", folderId: folder.id, directory: "/both" });
    expect(both.fieldErrors?.map((error) => error.path.join("."))).toEqual(["input.folderId"]);
    for (const path of ["/", "relative", "/a//b", "/a/../b"]) {
      expect(
        (await createFolder(path)).fieldErrors?.map((error) => error.path.join(".")),
        path,
      ).toEqual(["input.path"]);
    }
  });

  it("refuses to delete a folder while it holds files or folders, then deletes it once empty", async () => {
    const parent = (await createFolder("/trash")).folder as FolderResult;
    const child = (await createFolder("/trash/inner")).folder as FolderResult;
    const file = await createFile(server, { name: "t.txt", folderId: child.id });
    expect(await deleteFolder(parent.id)).toBe("ConflictError");
    expect(await deleteFolder(child.id)).toBe("ConflictError");
    await server.graphql(`mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`, { id: file.file?.id });
    expect(await deleteFolder(child.id)).toBe("DeletedFolder");
    expect(await deleteFolder(parent.id)).toBe("DeletedFolder");
    expect(await deleteFolder(parent.id)).toBe("NotFoundError");
  });

  it("lets a READER read folders but not create or delete them", async () => {
    const reader = await createApiKey(server.app.db, "default", "READER");
    const response = await server.graphql(
      `mutation { createFolder(input: { workspaceId: "default", path: "/r" }) { __typename } }`,
      undefined,
      { authorization: `Bearer ${reader}` },
    );
    expect(response.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
