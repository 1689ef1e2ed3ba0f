import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProvider } from "./helpers/database.js";
import { createFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
  for (const [name, directory, externalId, mimeType] of [
    ["a%b.txt", "/a%b", "x%1", "text/plain"],
    ["axb.txt", "/axb", "xx1", "text/csv"],
    ["A_b.txt", "/A/b", "X_1", "image/png"],
    ["a_b.txt", "/a/b", "x_1", "imagex/png"],
    ["backslash.txt", "/a/b/c", "x\\1", "text/plain"],
  ] as const) {
    expect((await createFile(server, { name, directory, externalId, mimeType })).__typename).toBe("CreateFilePayload");
  }
});
afterAll(() => server.close());

async function names(filter: Record<string, unknown>): Promise<string[]> {
  const response = await server.graphql<{ files: { edges: { node: { name: string } }[] } }>(
    `query ($filter: FileFilter) { files(workspaceId: "default", filter: $filter) { edges { node { name } } } }`,
    { filter },
  );
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data.files.edges.map((edge) => edge.node.name).sort();
}

// Prisma's startsWith/contains are LIKE patterns it does not escape, and SQLite's LIKE ignores
// ASCII case: these pin down the literal, case-sensitive matching both providers must give.
describe(`filters match literally and case-sensitively (${testProvider})`, () => {
  it("directoryPrefix treats % and _ as ordinary characters", async () => {
    expect(await names({ directoryPrefix: "/a%" })).toEqual([]);
    expect(await names({ directoryPrefix: "/a%b" })).toEqual(["a%b.txt"]);
    expect(await names({ directoryPrefix: "/a_b" })).toEqual([]);
  });

  it("directoryPrefix is case-sensitive and matches the directory and everything below it", async () => {
    expect(await names({ directoryPrefix: "/A" })).toEqual(["A_b.txt"]);
    expect(await names({ directoryPrefix: "/a/" })).toEqual(["a_b.txt", "backslash.txt"]);
  });

  it("directoryPrefix follows a file that updateFile moves", async () => {
    const { file } = await createFile(server, { name: "moved.txt", directory: "/from/here" });
    if (file === undefined) throw new Error("createFile failed");
    expect(await names({ directoryPrefix: "/from" })).toEqual(["moved.txt"]);
    const moved = await server.graphql<{ updateFile: { __typename: string } }>(
      `mutation ($input: UpdateFileInput!) { updateFile(input: $input) { __typename } }`,
      { input: { id: file.id, directory: "/to/there/now" } },
    );
    expect(moved.data.updateFile.__typename).toBe("FilePayload");
    expect(await names({ directoryPrefix: "/from" })).toEqual([]);
    for (const prefix of ["/to", "/to/there", "/to/there/now"])
      expect(await names({ directoryPrefix: prefix })).toEqual(["moved.txt"]);
    const deleted = await server.graphql<{ deleteFile: { __typename: string } }>(
      `mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`,
      { id: file.id },
    );
    expect(deleted.data.deleteFile.__typename).toBe("DeletedFile");
    expect(await names({ directoryPrefix: "/to" })).toEqual([]);
  });

  it("directoryPrefix finds a file whose bytes came in the createFile request", async () => {
    const created = await createFile(server, {
      name: "inline.txt",
      directory: "/inline/deep",
      content: Buffer.from("hi").toString("base64"),
    });
    expect(created.file?.status).toBe("UPLOADED");
    expect(await names({ directoryPrefix: "/inline" })).toEqual(["inline.txt"]);
    await server.graphql(`mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`, { id: created.file?.id });
  });

  it("externalIdPrefix treats %, _ and \\ as ordinary characters and is case-sensitive", async () => {
    expect(await names({ externalIdPrefix: "x%" })).toEqual(["a%b.txt"]);
    expect(await names({ externalIdPrefix: "x_" })).toEqual(["a_b.txt"]);
    expect(await names({ externalIdPrefix: "x\\" })).toEqual(["backslash.txt"]);
    expect(await names({ externalIdPrefix: "X" })).toEqual(["A_b.txt"]);
  });

  // Names cannot hold "\\" (validation), so only % and _ are searched for here.
  it("nameContains treats % and _ as ordinary characters, ignoring case", async () => {
    expect(await names({ nameContains: "%" })).toEqual(["a%b.txt"]);
    expect(await names({ nameContains: "A_" })).toEqual(["A_b.txt", "a_b.txt"]);
  });

  it("mimeType type/* matches that type only", async () => {
    expect(await names({ mimeType: "image/*" })).toEqual(["A_b.txt"]);
    expect(await names({ mimeType: "TEXT/*" })).toEqual(["a%b.txt", "axb.txt", "backslash.txt"]);
  });
});
