import { readdir } from "node:fs/promises";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProvider } from "./helpers/database.js";
import { createFileMutation, type FileResult, type MutationResult, uploadFile } from "./helpers/files.js";
import { type GraphQLResponse, startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
let existing: FileResult;
beforeAll(async () => {
  server = await startServer();
  existing = await uploadFile(server, { name: "existing.txt", labels: ["a"] }, Buffer.from("existing"));
});
afterAll(() => server.close());

/** Any text: every code point (lone surrogates included), and the values known to be hostile. */
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    ".",
    "..",
    "/",
    "a/b",
    "\\",
    "\u0000",
    "a\ud800b",
    "\udfff",
    "\u200b",
    "\u200d",
    "\u2028",
    "\ufeff",
    "\uffff",
    "\u202e",
    "%",
    "_",
    '\'; DROP TABLE "File"; --',
    "x".repeat(3000),
  ),
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER),
);
const json = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.dictionary(text, text, { maxKeys: 5 }));
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

const createInput = fc.record(
  {
    name: text,
    mimeType: maybe(fc.oneof(text, fc.constantFrom("text/plain", "image/png", "application/x-msdownload"))),
    size: maybe(number),
    checksumSha256: maybe(fc.oneof(text, fc.stringMatching(/^[0-9a-f]{64}$/))),
    externalId: maybe(text),
    overwrite: maybe(fc.boolean()),
    directory: maybe(
      fc.oneof(
        text,
        text.map((segment) => `/${segment}`),
      ),
    ),
    description: maybe(text),
    source: maybe(text),
    metadata: maybe(json),
    labels: maybe(fc.array(text, { maxLength: 12 })),
    scope: maybe(fc.constantFrom("WORKSPACE", "ENTITY", "SESSION")),
    entityId: maybe(text),
    sessionId: maybe(fc.oneof(text, fc.uuid())),
    sourceCreatedTime: maybe(
      fc.oneof(
        text,
        fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      ),
    ),
    content: maybe(fc.oneof(text, fc.base64String({ maxLength: 200 }))),
    uploadMethod: maybe(fc.constantFrom("PUT", "POST", "MULTIPART")),
  },
  { requiredKeys: ["name"] },
);

const declaredErrors = [
  "ValidationError",
  "NotFoundError",
  "ConflictError",
  "PayloadTooLargeError",
  "UnsupportedMediaTypeError",
];

/** The files and objects stored now, to compare before and after a refused request. */
async function stored(): Promise<{ rows: number; objects: number }> {
  const objects = await readdir(server.objectsDir, { recursive: true, withFileTypes: true }).catch(() => []);
  return {
    rows: await server.app.db.file.count(),
    objects: objects.filter((entry) => entry.isFile() && !entry.parentPath.includes("/.")).length,
  };
}

/** No answer is a server fault: no INTERNAL_SERVER_ERROR, no 5xx. */
function expectNoFault(response: GraphQLResponse<unknown>, input: unknown): void {
  const faults = (response.errors ?? []).filter((error) => error.extensions?.code === "INTERNAL_SERVER_ERROR");
  expect(faults, JSON.stringify(input)).toEqual([]);
  expect(response.status, JSON.stringify(input)).toBeLessThan(500);
}

describe(`property: hostile input is answered, never a fault (${testProvider})`, () => {
  it("createFile answers a payload or a declared error, and a refusal stores no row and no bytes", async () => {
    await fc.assert(
      fc.asyncProperty(createInput, async (input) => {
        const before = await stored();
        const response = await server.graphql<{ createFile: MutationResult } | null>(createFileMutation, {
          input: { workspaceId: "default", ...input },
        });
        expectNoFault(response, input);
        const result = response.data?.createFile;
        if (result === undefined || result.__typename !== "CreateFilePayload") {
          if (result !== undefined) expect(declaredErrors).toContain(result.__typename);
          expect(await stored()).toEqual(before);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("updateFile answers a payload or a declared error, and a refusal changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          name: maybe(text),
          metadata: maybe(json),
          labels: maybe(fc.array(text, { maxLength: 12 })),
          directory: maybe(text),
          description: maybe(text),
        }),
        async (input) => {
          const before = await server.app.db.file.findMany({ orderBy: { id: "asc" }, include: { labels: true } });
          const response = await server.graphql<{ updateFile: { __typename: string } } | null>(
            `mutation ($input: UpdateFileInput!) { updateFile(input: $input) { __typename } }`,
            { input: { id: existing.id, ...input } },
          );
          expectNoFault(response, input);
          const typename = response.data?.updateFile.__typename;
          if (typename !== "FilePayload") {
            if (typename !== undefined)
              expect(["ValidationError", "NotFoundError", "ConflictError"]).toContain(typename);
            expect(await server.app.db.file.findMany({ orderBy: { id: "asc" }, include: { labels: true } })).toEqual(
              before,
            );
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("files answers a page or BAD_USER_INPUT for any filter, order and cursor", async () => {
    const filter = fc.record(
      {
        status: fc.constantFrom("PENDING", "UPLOADED", "FAILED"),
        directory: text,
        directoryPrefix: text,
        mimeType: text,
        labelsAny: fc.array(text, { maxLength: 120 }),
        labelsAll: fc.array(text, { maxLength: 12 }),
        externalIdPrefix: text,
        nameContains: text,
        createdAfter: fc.oneof(
          text,
          fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
        ),
        entityId: text,
        sessionId: text,
        metadata: json,
      },
      { requiredKeys: [] },
    );
    const order = fc.record({
      field: fc.constantFrom("CREATED_AT", "UPLOADED_AT", "NAME", "SIZE"),
      direction: fc.constantFrom("ASC", "DESC"),
    });
    const cursor = fc.oneof(
      text,
      json.map((value) => Buffer.from(JSON.stringify(value) ?? "").toString("base64url")),
    );
    await fc.assert(
      fc.asyncProperty(filter, maybe(order), maybe(cursor), maybe(number), async (f, orderBy, after, first) => {
        const response = await server.graphql(
          `query ($f: FileFilter, $o: FileOrder, $a: String, $n: Int) { files(workspaceId: "default", filter: $f, orderBy: $o, after: $a, first: $n) { totalCount edges { cursor } } }`,
          { f, o: orderBy, a: after, n: first },
        );
        expectNoFault(response, { f, orderBy, after, first });
      }),
      { numRuns: 150 },
    );
  });

  it("file, node, deleteFile and completeUpload answer any id without a fault", async () => {
    const id = fc.oneof(
      text,
      fc
        .tuple(fc.constantFrom("File", "Workspace", "Folder"), text)
        .map(([type, inner]) => Buffer.from(`${type}:${inner}`).toString("base64")),
    );
    await fc.assert(
      fc.asyncProperty(id, async (value) => {
        const before = await stored();
        for (const query of [
          `query ($id: ID!) { file(id: $id) { id } }`,
          `query ($id: ID!) { node(id: $id) { id } }`,
          `query ($id: ID!) { workspace(id: $id) { id } }`,
          `query ($id: ID!) { folder(id: $id) { id } }`,
          `mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`,
          `mutation ($id: ID!) { completeUpload(input: { id: $id }) { __typename } }`,
        ]) {
          expectNoFault(await server.graphql(query, { id: value }), value);
        }
        expect(await stored()).toEqual(before);
      }),
      { numRuns: 100 },
    );
  });
});
