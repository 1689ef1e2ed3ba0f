import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFile, uploadFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const lone = "a\ud800b";
const fileCount = () => server.app.db.file.count();

/** The paths of a createFile's field errors, checking that it stored nothing. */
async function createErrorPaths(input: Record<string, unknown>): Promise<string[]> {
  const before = await fileCount();
  const result = await createFile(server, { name: "ok.txt", ...input });
  expect(result.__typename, JSON.stringify(result)).toBe("ValidationError");
  expect(await fileCount()).toBe(before);
  return (result.fieldErrors ?? []).map((error) => error.path.join("."));
}

/** The single GraphQL error of a query, which must be a client error. */
async function badInput(query: string, variables: Record<string, unknown>): Promise<string> {
  const response = await server.graphql(query, variables);
  expect(response.errors, JSON.stringify(response)).toHaveLength(1);
  expect(response.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  return response.errors?.[0]?.message ?? "";
}

const filesQuery = `query ($filter: FileFilter, $after: String, $orderBy: FileOrder) {
  files(workspaceId: "default", filter: $filter, after: $after, orderBy: $orderBy) { totalCount edges { cursor node { id } } }
}`;

describe("a lone surrogate in any string input", () => {
  it.each([
    ["name", { name: lone }, "input.name"],
    ["externalId", { externalId: lone }, "input.externalId"],
    ["directory", { directory: `/${lone}` }, "input.directory"],
    ["a label", { labels: ["fine", lone] }, "input.labels.1"],
    ["source", { source: lone }, "input.source"],
    ["description", { description: lone }, "input.description"],
    ["entityId", { scope: "ENTITY", entityId: lone }, "input.entityId"],
    ["mimeType", { mimeType: `text/${lone}` }, "input.mimeType"],
    ["a metadata value", { metadata: { key: lone } }, "input.metadata.key"],
    ["a metadata key", { metadata: { [lone]: "v" } }, `input.metadata.${lone}`],
    ["content", { content: lone }, "input.content"],
    ["sourceUrl", { sourceUrl: `https://example.com/${lone}` }, "input.sourceUrl"],
  ])("in createFile's %s is a ValidationError on that path, storing nothing", async (_field, input, path) => {
    expect(await createErrorPaths(input)).toEqual([path]);
  });

  it("in updateFile is a ValidationError on that path", async () => {
    const file = await uploadFile(server, { name: "keep.txt" }, Buffer.from("keep"));
    const response = await server.graphql<{ updateFile: { __typename: string; fieldErrors?: { path: string[] }[] } }>(
      `mutation ($input: UpdateFileInput!) { updateFile(input: $input) { __typename ... on ValidationError { fieldErrors { path } } } }`,
      { input: { id: file.id, labels: [lone] } },
    );
    expect(response.data.updateFile).toEqual({
      __typename: "ValidationError",
      fieldErrors: [{ path: ["input", "labels", "0"] }],
    });
    const row = await server.app.db.file.findFirstOrThrow({ where: { name: "keep.txt" }, include: { labels: true } });
    expect(row.labels).toEqual([]);
  });

  it("in file(id), fileByExternalId and node(id) is BAD_USER_INPUT", async () => {
    expect(await badInput(`query ($id: ID!) { file(id: $id) { id } }`, { id: lone })).toContain("id:");
    expect(
      await badInput(`query ($x: String!) { fileByExternalId(workspaceId: "default", externalId: $x) { id } }`, {
        x: lone,
      }),
    ).toContain("externalId:");
    await badInput(`query ($id: ID!) { node(id: $id) { id } }`, { id: lone });
  });

  it.each(["directory", "directoryPrefix", "mimeType", "externalIdPrefix", "nameContains", "entityId", "sessionId"])(
    "in the filter's %s is BAD_USER_INPUT naming it",
    async (field) => {
      expect(await badInput(filesQuery, { filter: { [field]: lone } })).toContain(`filter.${field}:`);
    },
  );

  it("in a filter's label list is BAD_USER_INPUT naming the label", async () => {
    expect(await badInput(filesQuery, { filter: { labelsAll: ["x", lone] } })).toContain("filter.labelsAll.1:");
  });

  it("a NUL in an id or a filter is BAD_USER_INPUT too (PostgreSQL cannot store it)", async () => {
    expect(await badInput(`query ($id: ID!) { file(id: $id) { id } }`, { id: "a\u0000" })).toContain("NUL");
    expect(await badInput(filesQuery, { filter: { nameContains: "a\u0000" } })).toContain("filter.nameContains:");
  });

  it("hidden in a global ID's base64 names nothing (file: null) or is BAD_USER_INPUT (node), not a fault", async () => {
    for (const type of ["File", "Workspace", "Folder"]) {
      const id = Buffer.from(`${type}:a\u0000`).toString("base64");
      const file = await server.graphql(`query ($id: ID!) { file(id: $id) { id } }`, { id });
      expect(file.errors, type).toBeUndefined();
      expect(file.data).toEqual({ file: null });
      expect(await badInput(`query ($id: ID!) { node(id: $id) { id } }`, { id })).toContain("NUL");
    }
  });

  it("in the workspace argument is BAD_USER_INPUT", async () => {
    expect(await badInput(`query ($w: ID!) { files(workspaceId: $w) { totalCount } }`, { w: lone })).toContain(
      "workspaceId:",
    );
  });
});

describe("invisible characters", () => {
  it.each([
    ["a zero-width space", "in\u200bvoice.pdf"],
    ["a lone zero-width joiner", "in\u200dvoice.pdf"],
    ["a line separator", "in\u2028voice.pdf"],
    ["a byte-order mark", "\ufeffinvoice.pdf"],
    ["a noncharacter", "invoice\uffff.pdf"],
    ["a soft hyphen", "in\u00advoice.pdf"],
  ])("reject %s in a name, directory, label and externalId", async (_label, text) => {
    const paths = await createErrorPaths({ name: text, directory: `/d/${text}`, labels: [text], externalId: text });
    expect(paths.sort()).toEqual(["input.directory", "input.externalId", "input.labels.0", "input.name"]);
  });

  it("are allowed inside emoji: joiners and presentation selectors", async () => {
    const result = await createFile(server, { name: "team 👩‍💻👨‍👩‍👧 ❤️.txt", labels: ["👍🏽"] });
    expect(result.__typename, JSON.stringify(result)).toBe("CreateFilePayload");
    expect(result.file?.name).toBe("team 👩‍💻👨‍👩‍👧 ❤️.txt");
  });

  it("are allowed in a description, which is prose", async () => {
    const result = await createFile(server, { name: "prose.txt", description: "soft\u00adhyphen and\u200bzero width" });
    expect(result.__typename).toBe("CreateFilePayload");
  });
});

describe("cursors", () => {
  const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

  it.each([
    ["a size that is text", "SIZE", cursor(["SIZE", "abc", "x"])],
    ["a negative size", "SIZE", cursor(["SIZE", -1, "x"])],
    ["a fractional size", "SIZE", cursor(["SIZE", 1.5, "x"])],
    ["a date that is no date", "CREATED_AT", cursor(["CREATED_AT", "yesterday", "x"])],
    ["a missing creation date", "CREATED_AT", cursor(["CREATED_AT", null, "x"])],
    ["a number for a name", "NAME", cursor(["NAME", 5, "x"])],
    ["a name with a lone surrogate", "NAME", cursor(["NAME", lone, "x"])],
    ["an id that is a number", "NAME", cursor(["NAME", "a", 5])],
    ["an object", "SIZE", cursor({ SIZE: 1 })],
    ["no base64 at all", "SIZE", "%%%"],
    ["a huge cursor", "SIZE", cursor(["SIZE", 1, "x".repeat(100_000)])],
  ])("with %s is BAD_USER_INPUT", async (_label, field, after) => {
    const message = await badInput(filesQuery, { after, orderBy: { field, direction: "ASC" } });
    expect(message).toContain("after");
  });

  it("from a page still reads the next page", async () => {
    await uploadFile(server, { name: "one.txt" }, Buffer.from("1"));
    await uploadFile(server, { name: "two.txt" }, Buffer.from("22"));
    const orderBy = { field: "SIZE", direction: "ASC" };
    const first = await server.graphql<{ files: { edges: { cursor: string; node: { id: string } }[] } }>(
      filesQuery.replace("after: $after", "after: $after, first: 1"),
      { orderBy },
    );
    expect(first.errors).toBeUndefined();
    const after = first.data.files.edges[0]?.cursor;
    const next = await server.graphql<{ files: { edges: { node: { id: string } }[] } }>(filesQuery, { orderBy, after });
    expect(next.errors).toBeUndefined();
    expect(next.data.files.edges.length).toBeGreaterThan(0);
  });
});

describe("filter bounds", () => {
  const labels = (count: number) => Array.from({ length: count }, (_, i) => `label-${i}`);

  it.each([
    ["labelsAny", 100],
    ["labelsAll", 10],
  ])("%s takes %i labels and refuses one more", async (field, max) => {
    const ok = await server.graphql(filesQuery, { filter: { [field]: labels(max) } });
    expect(ok.errors).toBeUndefined();
    expect(await badInput(filesQuery, { filter: { [field]: labels(max + 1) } })).toContain(
      `filter.${field}: must have at most ${max} labels`,
    );
  });

  it("refuses 40,000 labels without an internal error", async () => {
    expect(await badInput(filesQuery, { filter: { labelsAny: labels(40_000) } })).toContain("at most 100 labels");
  });

  it.each([
    ["nameContains", 1024],
    ["externalIdPrefix", 255],
    ["directoryPrefix", 512],
  ])("%s is at most %i characters", async (field, max) => {
    const at = field === "directoryPrefix" ? `/${"d".repeat(max - 1)}` : "x".repeat(max);
    expect((await server.graphql(filesQuery, { filter: { [field]: at } })).errors).toBeUndefined();
    expect(await badInput(filesQuery, { filter: { [field]: `${at}x` } })).toContain(
      `filter.${field}: must be at most ${max} characters`,
    );
  });
});
