import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createWorkspace, grantCategory } from "../src/access/admin.js";
import { testProvider } from "./helpers/database.js";
import { startServer, type TestServer } from "./helpers/server.js";

// Security categories across the role matrix: a file with categories is readable and writable
// only by callers holding every one of them, on every read path (file, node, fileByExternalId,
// files with totalCount, downloadUrl) and every write; the categories of a file are never a
// hint to a caller without them.

let server: TestServer;
const roles = ["ADMIN", "WRITER", "READER"] as const;
/** Held category sets, by name. */
const holdings = { none: [], five: [5], fiveAndSix: [5, 6] } as const;
type Holding = keyof typeof holdings;
const keys: Record<string, string> = {};
const keyOf = (workspace: string, role: string, holding: Holding) => keys[`${workspace}/${role}/${holding}`] as string;
/** Files by name: their ids, in workspace "vault" (private) and "square" (public). */
const files: Record<string, string> = {};
const categoriesOf = { open: [], five: [5], both: [5, 6] } as const;
type FileName = keyof typeof categoriesOf;

async function as<T>(key: string | undefined, query: string, variables?: Record<string, unknown>) {
  return server.graphql<T>(query, variables, { authorization: key === undefined ? "" : `Bearer ${key}` });
}

const create = `mutation ($input: CreateFileInput!) { createFile(input: $input) { __typename
  ... on CreateFilePayload { file { id securityCategories } } ... on ValidationError { fieldErrors { path message } } } }`;

beforeAll(async () => {
  server = await startServer();
  for (const [slug, isPublic] of [
    ["vault", false],
    ["square", true],
  ] as const) {
    await createWorkspace(server.app.db, slug, slug, isPublic);
    for (const role of roles) {
      for (const [holding, categories] of Object.entries(holdings)) {
        const label = `${slug}-${role}-${holding}`;
        keys[`${slug}/${role}/${holding}`] = await createApiKey(server.app.db, slug, role, label);
        for (const category of categories) await grantCategory(server.app.db, slug, category, { keyLabel: label });
      }
    }
    for (const [name, categories] of Object.entries(categoriesOf)) {
      const result = await as<{ createFile: { file: { id: string; securityCategories: number[] } } }>(
        keyOf(slug, "WRITER", "fiveAndSix"),
        create,
        {
          input: {
            workspaceId: slug,
            name: `${name}.txt`,
            externalId: name,
            securityCategories: categories,
            content: Buffer.from(name).toString("base64"),
          },
        },
      );
      expect(result.data.createFile.file.securityCategories).toEqual(categories);
      files[`${slug}/${name}`] = result.data.createFile.file.id;
    }
  }
});
afterAll(() => server.close());

/** The files a caller holding `held` may see. */
const visible = (held: readonly number[]) =>
  (Object.keys(categoriesOf) as FileName[])
    .filter((name) => categoriesOf[name].every((category) => held.includes(category)))
    .sort();

describe(`security categories across the role matrix (${testProvider})`, () => {
  for (const slug of ["vault", "square"]) {
    for (const role of roles) {
      for (const holding of Object.keys(holdings) as Holding[]) {
        it(`${slug}: a ${role} holding ${holding} lists, counts, reads and downloads only the files whose categories it holds`, async () => {
          const key = keyOf(slug, role, holding);
          const want = visible(holdings[holding]);
          const listed = await as<{
            files: { totalCount: number; edges: { node: { name: string; downloadUrl: string } }[] };
          }>(key, `query ($w: ID!) { files(workspaceId: $w) { totalCount edges { node { name downloadUrl } } } }`, {
            w: slug,
          });
          expect(listed.data.files.edges.map((edge) => edge.node.name.replace(".txt", "")).sort()).toEqual(want);
          expect(listed.data.files.totalCount).toBe(want.length);
          for (const edge of listed.data.files.edges) expect((await fetch(edge.node.downloadUrl)).status).toBe(200);
          for (const name of Object.keys(categoriesOf) as FileName[]) {
            const id = files[`${slug}/${name}`];
            const read = await as<{
              file: { name: string } | null;
              node: { id: string } | null;
              byExternal: { id: string } | null;
            }>(
              key,
              `query ($id: ID!, $w: ID!, $e: String!) { file(id: $id) { name } node(id: $id) { id } byExternal: fileByExternalId(workspaceId: $w, externalId: $e) { id } }`,
              { id, w: slug, e: name },
            );
            const readable = want.includes(name);
            expect(read.data.file === null, `${name} readable`).toBe(!readable);
            expect(read.data.node === null).toBe(!readable);
            expect(read.data.byExternal === null).toBe(!readable);
          }
        });
      }
    }
  }

  it("the anonymous caller sees only the public workspace's files without categories", async () => {
    const listed = await as<{ files: { totalCount: number; edges: { node: { name: string } }[] } }>(
      undefined,
      `{ files(workspaceId: "square") { totalCount edges { node { name } } } }`,
    );
    expect(listed.data.files).toEqual({ totalCount: 1, edges: [{ node: { name: "open.txt" } }] });
    const read = await as<{ file: null }>(undefined, `query ($id: ID!) { file(id: $id) { id } }`, {
      id: files["square/five"],
    });
    expect(read.data.file).toBeNull();
  });

  it("a writer without the categories cannot update, delete, overwrite or abort such a file; one holding them can", async () => {
    const id = files["vault/five"];
    const lacking = keyOf("vault", "ADMIN", "none");
    const update = `mutation ($id: ID!) { updateFile(input: { id: $id, description: "x" }) { __typename } }`;
    const remove = `mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`;
    const abort = `mutation ($id: ID!) { abortUpload(id: $id) { __typename } }`;
    const complete = `mutation ($id: ID!) { completeUpload(input: { id: $id }) { __typename } }`;
    for (const mutation of [update, remove, abort, complete]) {
      const result = await as<Record<string, { __typename: string }>>(lacking, mutation, { id });
      expect(Object.values(result.data)[0]?.__typename).toBe("NotFoundError");
    }
    const overwrite = await as<{ createFile: { __typename: string } }>(lacking, create, {
      input: {
        workspaceId: "vault",
        name: "five.txt",
        externalId: "five",
        overwrite: true,
        content: Buffer.from("stolen").toString("base64"),
      },
    });
    expect(overwrite.data.createFile.__typename).toBe("ConflictError");
    const holder = keyOf("vault", "WRITER", "five");
    expect((await as<{ updateFile: { __typename: string } }>(holder, update, { id })).data.updateFile.__typename).toBe(
      "FilePayload",
    );
    const replaced = await as<{ createFile: { __typename: string; file: { id: string } } }>(holder, create, {
      input: {
        workspaceId: "vault",
        name: "five.txt",
        externalId: "five",
        overwrite: true,
        content: Buffer.from("new").toString("base64"),
      },
    });
    expect(replaced.data.createFile).toMatchObject({ __typename: "CreateFilePayload", file: { id } });
  });

  it("refuses to give a file a category the caller does not hold, or more than 100", async () => {
    const refused = await as<{ createFile: { __typename: string; fieldErrors: { path: string[] }[] } }>(
      keyOf("vault", "ADMIN", "five"),
      create,
      {
        input: { workspaceId: "vault", name: "x.txt", securityCategories: [5, 6] },
      },
    );
    expect(refused.data.createFile.fieldErrors.map((error) => error.path.join("."))).toEqual([
      "input.securityCategories.1",
    ]);
    const tooMany = await as<{ createFile: { fieldErrors: { path: string[] }[] } }>(
      keyOf("vault", "ADMIN", "five"),
      create,
      {
        input: {
          workspaceId: "vault",
          name: "x.txt",
          securityCategories: Array.from({ length: 101 }, (_, i) => i + 1),
        },
      },
    );
    expect(tooMany.data.createFile.fieldErrors.map((error) => error.path.join("."))).toEqual([
      "input.securityCategories",
    ]);
  });

  it("lets a folder whose only files the caller cannot see be deleted by it, and keeps the files", async () => {
    const holder = keyOf("vault", "WRITER", "fiveAndSix");
    const without = keyOf("vault", "WRITER", "none");
    const createFolder = `mutation ($input: CreateFolderInput!) { createFolder(input: $input) { ... on FolderPayload { folder { id } } } }`;
    const deleteFolder = `mutation ($id: ID!) { deleteFolder(id: $id) { __typename } }`;
    const folderOf = async (path: string) =>
      (
        await as<{ createFolder: { folder: { id: string } } }>(holder, createFolder, {
          input: { workspaceId: "vault", path },
        })
      ).data.createFolder.folder.id;
    const hidden = await folderOf("/hidden");
    const mixed = await folderOf("/mixed");
    for (const [directory, categories] of [
      ["/hidden", [5]],
      ["/mixed", [5]],
      ["/mixed", []],
    ] as const) {
      await as(holder, create, {
        input: { workspaceId: "vault", name: "in.txt", directory, securityCategories: categories },
      });
    }
    const deleted = async (key: string, id: string) =>
      (await as<{ deleteFolder: { __typename: string } }>(key, deleteFolder, { id })).data.deleteFolder.__typename;
    // A file it can see keeps the folder, for both.
    expect(await deleted(without, mixed)).toBe("ConflictError");
    // One it cannot see does not: refusing would tell it the file is there.
    expect(await deleted(without, hidden)).toBe("DeletedFolder");
    const listed = await as<{ files: { edges: { node: { directory: string } }[] } }>(
      holder,
      `query { files(workspaceId: "vault", filter: { directory: "/hidden" }) { edges { node { directory } } } }`,
    );
    expect(listed.data.files.edges).toEqual([{ node: { directory: "/hidden" } }]);
  });
});
