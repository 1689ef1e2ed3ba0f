import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFile } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MAX_FILE_BYTES: "1000000", MAX_SINGLE_UPLOAD_BYTES: "500000" });
});
afterAll(() => server.close());

/** Creates a file with `input` over a valid base and returns the paths of its field errors. */
async function fieldErrorPaths(input: Record<string, unknown>): Promise<string[]> {
  const result = await createFile(server, { name: "ok.txt", ...input });
  expect(result.__typename).toBe("ValidationError");
  expect(result.code).toBe("VALIDATION_FAILED");
  return (result.fieldErrors ?? []).map((error) => error.path.join("."));
}

async function accepted(input: Record<string, unknown>): Promise<void> {
  const result = await createFile(server, { name: "ok.txt", ...input });
  expect(result.__typename, JSON.stringify(result)).toBe("CreateFilePayload");
}

const metadataOf = (pairs: number, valueBytes = 1) =>
  Object.fromEntries(Array.from({ length: pairs }, (_, i) => [`k${i}`, "v".repeat(valueBytes)]));

describe("createFile validation (DESIGN.md limits)", () => {
  it.each([
    ["an empty name", ""],
    ["a name of 256 characters", "a".repeat(256)],
    ["a name with a slash", "a/b.txt"],
    ["a name with a backslash", "a\\b.txt"],
    ["a name with NUL", "a\u0000b"],
    ["a name with a control character", "a\u0007b"],
    ["a name with a bidi override", "invoice\u202Efdp.exe"],
    ['the name "."', "."],
    ['the name ".."', ".."],
  ])("rejects %s", async (_label, name) => {
    expect(await fieldErrorPaths({ name })).toEqual(["input.name"]);
  });

  it("accepts a name of 255 characters", () => accepted({ name: "a".repeat(255) }));

  it("accepts 255 characters after NFC even when the input is longer", () => accepted({ name: "e\u0301".repeat(255) }));

  it.each([
    ["externalId", "x".repeat(256), "x".repeat(255)],
    ["directory", `/${"d".repeat(512)}`, `/${"d".repeat(511)}`],
    ["directory", "relative/path", "/absolute/path"],
    ["source", "s".repeat(129), "s".repeat(128)],
    ["mimeType", `text/plain; x=${"a".repeat(257 - 14)}`, `text/plain; x=${"a".repeat(256 - 14)}`],
    ["mimeType", "not-a-type", "text/plain"],
    ["description", "d".repeat(1001), "d".repeat(1000)],
  ])("rejects a bad %s and accepts one at the limit", async (field, bad, good) => {
    expect(await fieldErrorPaths({ [field]: bad })).toEqual([`input.${field}`]);
    await accepted({ [field]: good });
  });

  it("accepts 256 metadata pairs and rejects 257", async () => {
    await accepted({ metadata: metadataOf(256) });
    expect(await fieldErrorPaths({ metadata: metadataOf(257) })).toEqual(["input.metadata"]);
  });

  it("rejects a metadata key over 128 bytes", async () => {
    await accepted({ metadata: { ["k".repeat(128)]: "v" } });
    const paths = await fieldErrorPaths({ metadata: { ["é".repeat(65)]: "v" } });
    expect(paths[0]).toMatch(/^input\.metadata/);
  });

  it("rejects metadata over 10240 bytes in total", async () => {
    await accepted({ metadata: { k: "v".repeat(10239) } });
    expect(await fieldErrorPaths({ metadata: { k: "v".repeat(10240) } })).toHaveLength(1);
  });

  it("accepts metadata values of any JSON, counted by their serialized JSON", async () => {
    await accepted({ metadata: { n: 1, b: false, z: null, tags: ["a"], o: { x: [1] } } });
    // ["…"] is the string and 4 bytes: 1 + 10235 + 4 = 10240 in all, then one byte more.
    await accepted({ metadata: { k: ["v".repeat(10235)] } });
    expect(await fieldErrorPaths({ metadata: { k: ["v".repeat(10236)] } })).toEqual(["input.metadata"]);
  });

  it("accepts 1000 distinct asset ids and refuses 1001, none, a repeat or a zero", async () => {
    await accepted({ assetIds: Array.from({ length: 1000 }, (_, i) => 2 ** 53 - 1 - i) });
    expect(await fieldErrorPaths({ assetIds: Array.from({ length: 1001 }, (_, i) => i + 1) })).toEqual([
      "input.assetIds",
    ]);
    expect(await fieldErrorPaths({ assetIds: [] })).toEqual(["input.assetIds"]);
    expect(await fieldErrorPaths({ assetIds: [5, 6, 5] })).toEqual(["input.assetIds.2"]);
    expect(await fieldErrorPaths({ assetIds: [0] })).toEqual(["input.assetIds.0"]);
  });

  it("refuses a dataSetId below 1", async () => {
    expect(await fieldErrorPaths({ dataSetId: 0 })).toEqual(["input.dataSetId"]);
    await accepted({ dataSetId: 2 ** 53 - 1 });
  });

  it("refuses a geoLocation that is not a valid GeoJSON Feature, at the path inside it", async () => {
    const ring = [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
    ];
    expect(
      await fieldErrorPaths({ geoLocation: { type: "Feature", geometry: { type: "Polygon", coordinates: [ring] } } }),
    ).toEqual(["input.geoLocation.geometry.coordinates.0.3"]);
    expect(
      await fieldErrorPaths({ geoLocation: { type: "Feature", geometry: { type: "Point", coordinates: [10, 91] } } }),
    ).toEqual(["input.geoLocation.geometry.coordinates.1"]);
    await accepted({
      geoLocation: {
        type: "Feature",
        properties: null,
        geometry: { type: "Polygon", coordinates: [[...ring, [0, 0]]] },
      },
    });
  });

  it("refuses NUL inside a metadata value, which PostgreSQL cannot store", async () => {
    // The check every argument passes (src/schema/well-formed.ts) names the string itself.
    expect(await fieldErrorPaths({ metadata: { k: { note: "a\u0000b" } } })).toEqual(["input.metadata.k.note"]);
  });

  it("accepts 10 labels and rejects 11", async () => {
    await accepted({ labels: Array.from({ length: 10 }, (_, i) => `l${i}`) });
    expect(await fieldErrorPaths({ labels: Array.from({ length: 11 }, (_, i) => `l${i}`) })).toEqual(["input.labels"]);
  });

  it("rejects a checksum that is not 64 hex characters", async () => {
    expect(await fieldErrorPaths({ checksumSha256: "abc" })).toEqual(["input.checksumSha256"]);
  });

  it("requires entityId for ENTITY scope", async () => {
    expect(await fieldErrorPaths({ scope: "ENTITY" })).toEqual(["input.entityId"]);
    await accepted({ scope: "ENTITY", entityId: "e-1" });
  });

  it("reports every bad field at once", async () => {
    expect(await fieldErrorPaths({ name: "", source: "s".repeat(129) })).toEqual(["input.name", "input.source"]);
  });

  const sessionId = "9b2f3c1e-57a4-4d0b-8e6f-0a1b2c3d4e5f";

  it("requires a UUID sessionId for SESSION scope", async () => {
    expect(await fieldErrorPaths({ scope: "SESSION", sessionId: "editor-session-1" })).toEqual(["input.sessionId"]);
    await accepted({ scope: "SESSION", sessionId });
  });

  it("refuses an entityId beside scope SESSION, on entityId", async () => {
    expect(await fieldErrorPaths({ scope: "SESSION", sessionId, entityId: "e-1" })).toEqual(["input.entityId"]);
  });

  it("refuses a sessionId beside scope ENTITY or WORKSPACE, on sessionId", async () => {
    expect(await fieldErrorPaths({ scope: "ENTITY", entityId: "e-1", sessionId })).toEqual(["input.sessionId"]);
    expect(await fieldErrorPaths({ sessionId })).toEqual(["input.sessionId"]);
  });

  it("accepts source times from 1970-01-01T00:00:00Z and refuses earlier ones", async () => {
    await accepted({ sourceCreatedTime: "1970-01-01T00:00:00.000Z", sourceModifiedTime: "1970-01-01T00:00:00.000Z" });
    expect(await fieldErrorPaths({ sourceCreatedTime: "1969-12-31T23:59:59.999Z" })).toEqual([
      "input.sourceCreatedTime",
    ]);
    expect(await fieldErrorPaths({ sourceModifiedTime: "1969-12-31T23:59:59.999Z" })).toEqual([
      "input.sourceModifiedTime",
    ]);
  });
});

describe("MAX_NAME_LENGTH", () => {
  let long: TestServer;
  beforeAll(async () => {
    long = await startServer({ MAX_NAME_LENGTH: "1024" });
  });
  afterAll(() => long.close());

  // Four-byte characters that do not repeat (CJK Extension B), so no compression shrinks them: 4 KiB
  // in UTF-8, over what one PostgreSQL index entry holds.
  const wide = (seed: number) =>
    Array.from({ length: 1023 }, (_, i) => String.fromCodePoint(0x20000 + ((i * 7919 + seed) % 40000))).join("");

  it("accepts names up to 1024 characters, four-byte ones included, and sorts them by name", async () => {
    const [b, a] = [`b${wide(1)}`, `a${wide(2)}`];
    for (const name of [b, a, "a".repeat(1024)]) {
      const result = await createFile(long, { name });
      expect(result.__typename, JSON.stringify(result).slice(0, 200)).toBe("CreateFilePayload");
      expect(result.file?.name).toBe(name);
    }
    const listed = await long.graphql<{ files: { edges: { node: { name: string } }[] } }>(
      `{ files(workspaceId: "default", orderBy: { field: NAME, direction: ASC }) { edges { node { name } } } }`,
    );
    expect(listed.data.files.edges.map((edge) => edge.node.name)).toEqual(["a".repeat(1024), a, b]);
  });

  it("refuses a name of 1025 characters", async () => {
    const result = await createFile(long, { name: "a".repeat(1025) });
    expect(result.fieldErrors).toEqual([{ path: ["input", "name"], message: "must be at most 1024 characters" }]);
  });
});

describe("createFile limits and conflicts", () => {
  it("answers PayloadTooLargeError with maxSize for a declared size over MAX_FILE_BYTES", async () => {
    const result = await createFile(server, { name: "big.bin", size: 1_000_001 });
    expect(result).toMatchObject({ __typename: "PayloadTooLargeError", code: "PAYLOAD_TOO_LARGE", maxSize: 1_000_000 });
  });

  it("answers PayloadTooLargeError for a single PUT over MAX_SINGLE_UPLOAD_BYTES", async () => {
    const result = await createFile(server, { name: "big.bin", size: 500_001 });
    expect(result).toMatchObject({ __typename: "PayloadTooLargeError", maxSize: 500_000 });
    await accepted({ size: 500_000 });
  });

  it("answers ConflictError for a duplicate externalId in a workspace", async () => {
    await accepted({ externalId: "dup-1" });
    const result = await createFile(server, { name: "again.txt", externalId: "dup-1" });
    expect(result).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
  });

  it("answers NotFoundError for a workspace that does not exist", async () => {
    const result = await createFile(server, { name: "a.txt", workspaceId: "no-such-workspace" });
    expect(result.__typename).toBe("NotFoundError");
  });
});
