import { describe, expect, it } from "vitest";
import type { FieldError } from "./errors.js";
import { mimeTypeAllowed, normalizeMimeType } from "./mime.js";
import type { FileFields, FileLimits } from "./types.js";
import {
  checkDeclaredSize,
  normalizeChecksum,
  normalizeDirectory,
  normalizeName,
  validateFileFields,
} from "./validation.js";

const MiB = 1024 * 1024;
const limits: FileLimits = {
  maxInlineBytes: 7 * MiB,
  maxSingleUploadBytes: 256 * MiB,
  maxFileBytes: 1024 * MiB,
  maxNameLength: 255,
  allowedMimeTypes: [],
};

const validate = (input: FileFields, custom: Partial<FileLimits> = {}): FieldError[] =>
  validateFileFields(input, { ...limits, ...custom });
/** The errors for one field, by its path below "input". */
const errorsAt = (errors: FieldError[], ...path: string[]): string[] =>
  errors.filter((error) => error.path.join(".") === ["input", ...path].join(".")).map((error) => error.message);

describe("name", () => {
  it("accepts an ordinary name", () => {
    expect(validate({ name: "Quarterly report (final).pdf" })).toEqual([]);
  });

  it("accepts a name of 255 characters", () => {
    expect(validate({ name: "a".repeat(255) })).toEqual([]);
  });

  it("takes its length limit from MAX_NAME_LENGTH", () => {
    expect(validate({ name: "a".repeat(1024) }, { maxNameLength: 1024 })).toEqual([]);
    expect(errorsAt(validate({ name: "a".repeat(1025) }, { maxNameLength: 1024 }), "name")).toEqual([
      "must be at most 1024 characters",
    ]);
    expect(errorsAt(validate({ name: "a".repeat(11) }, { maxNameLength: 10 }), "name")).toEqual([
      "must be at most 10 characters",
    ]);
  });

  it("rejects a name of 256 characters", () => {
    expect(validate({ name: "a".repeat(256) })).toEqual([
      { path: ["input", "name"], message: "must be at most 255 characters" },
    ]);
  });

  it("counts an emoji as one character", () => {
    expect(validate({ name: "😀".repeat(255) })).toEqual([]);
    expect(errorsAt(validate({ name: "😀".repeat(256) }), "name")).toEqual(["must be at most 255 characters"]);
  });

  it("measures the name after NFC, so 255 decomposed accents fit", () => {
    // "e" + COMBINING ACUTE ACCENT is two code points; NFC makes it one "é".
    expect(validate({ name: "e\u0301".repeat(255) })).toEqual([]);
  });

  it("normalizes a name to NFC", () => {
    expect(normalizeName("Cafe\u0301.txt")).toBe("Caf\u00e9.txt");
  });

  it("rejects an empty name", () => {
    expect(errorsAt(validate({ name: "" }), "name")).toEqual(["must not be empty"]);
  });

  it("rejects a name that is only whitespace", () => {
    expect(errorsAt(validate({ name: " \u00a0 " }), "name")).toEqual(["must not be only whitespace"]);
  });

  it("rejects a name with a slash", () => {
    expect(errorsAt(validate({ name: "a/b.txt" }), "name")).toEqual(["must not contain / or \\"]);
  });

  it("rejects a name with a backslash", () => {
    expect(errorsAt(validate({ name: "a\\b.txt" }), "name")).toEqual(["must not contain / or \\"]);
  });

  it("rejects a name with a NUL", () => {
    expect(errorsAt(validate({ name: "a\u0000.txt" }), "name")).toEqual(["must not contain control characters"]);
  });

  it("rejects a name with a newline", () => {
    expect(errorsAt(validate({ name: "a\n.txt" }), "name")).toEqual(["must not contain control characters"]);
  });

  it("rejects a name with DEL", () => {
    expect(errorsAt(validate({ name: "a\u007f.txt" }), "name")).toEqual(["must not contain control characters"]);
  });

  it("rejects a name with a C1 control character", () => {
    expect(errorsAt(validate({ name: "a\u0085.txt" }), "name")).toEqual(["must not contain control characters"]);
  });

  it("rejects a name with a bidi override", () => {
    expect(errorsAt(validate({ name: "invoice\u202efdp.exe" }), "name")).toEqual([
      "must not contain bidirectional control characters",
    ]);
  });

  it.each([
    ["U+202A", "\u202a"],
    ["U+2066", "\u2066"],
    ["U+2069", "\u2069"],
    ["U+200E", "\u200e"],
    ["U+200F", "\u200f"],
    ["U+061C", "\u061c"],
  ])("rejects a name with the bidi control %s", (_label, char) => {
    expect(errorsAt(validate({ name: `a${char}b` }), "name")).toEqual([
      "must not contain bidirectional control characters",
    ]);
  });

  it("accepts a name in a right-to-left script", () => {
    expect(validate({ name: "تقرير.pdf" })).toEqual([]);
  });

  it.each([".", ".."])('rejects the name "%s"', (name) => {
    expect(errorsAt(validate({ name }), "name")).toEqual(['must not be "." or ".."']);
  });

  it("accepts a name starting with a dot", () => {
    expect(validate({ name: ".env.example" })).toEqual([]);
  });

  it("requires a name when asked to", () => {
    expect(validateFileFields({}, limits, ["input"], { requireName: true })).toEqual([
      { path: ["input", "name"], message: "is required" },
    ]);
  });

  it("does not require a name for an update that leaves it out", () => {
    expect(validate({ description: "new text" })).toEqual([]);
  });

  it("rejects clearing the name with null", () => {
    expect(errorsAt(validate({ name: null }), "name")).toEqual(["is required"]);
  });

  it("reports paths under the given prefix", () => {
    expect(validateFileFields({ name: "" }, limits, ["input", "files", "2"])).toEqual([
      { path: ["input", "files", "2", "name"], message: "must not be empty" },
    ]);
  });
});

describe("externalId", () => {
  it("accepts an externalId of 255 characters", () => {
    expect(validate({ externalId: "x".repeat(255) })).toEqual([]);
  });

  it("rejects an externalId of 256 characters", () => {
    expect(errorsAt(validate({ externalId: "x".repeat(256) }), "externalId")).toEqual([
      "must be at most 255 characters",
    ]);
  });

  it("rejects an empty externalId", () => {
    expect(errorsAt(validate({ externalId: "" }), "externalId")).toEqual(["must not be empty"]);
  });

  it("rejects an externalId with a control character", () => {
    expect(errorsAt(validate({ externalId: "a\tb" }), "externalId")).toEqual(["must not contain control characters"]);
  });
});

describe("directory", () => {
  it("accepts the root", () => {
    expect(validate({ directory: "/" })).toEqual([]);
  });

  it("accepts a nested absolute path", () => {
    expect(validate({ directory: "/projects/2024/Q1 reports" })).toEqual([]);
  });

  it("accepts a trailing slash and stores the path without it", () => {
    expect(validate({ directory: "/a/b/" })).toEqual([]);
    expect(normalizeDirectory("/a/b/")).toBe("/a/b");
    expect(normalizeDirectory("/")).toBe("/");
  });

  it("rejects a relative path", () => {
    expect(errorsAt(validate({ directory: "a/b" }), "directory")).toEqual([
      'must be an absolute path starting with "/"',
    ]);
  });

  it("accepts a directory of 512 characters", () => {
    expect(validate({ directory: `/${"d".repeat(511)}` })).toEqual([]);
  });

  it("rejects a directory of 513 characters", () => {
    expect(errorsAt(validate({ directory: `/${"d".repeat(512)}` }), "directory")).toEqual([
      "must be at most 512 characters",
    ]);
  });

  it("rejects an empty segment", () => {
    expect(errorsAt(validate({ directory: "/a//b" }), "directory")).toEqual(["must not contain empty segments (//)"]);
  });

  it.each(["/a/../b", "/a/./b", "/..", "/a/.."])("rejects the dot segment in %s", (directory) => {
    expect(errorsAt(validate({ directory }), "directory")).toEqual(['must not contain "." or ".." segments']);
  });

  it("accepts a segment that merely starts with dots", () => {
    expect(validate({ directory: "/a/..hidden/.config" })).toEqual([]);
  });

  it("rejects a directory with a NUL", () => {
    expect(errorsAt(validate({ directory: "/a\u0000b" }), "directory")).toEqual([
      "must not contain control characters",
    ]);
  });
});

describe("source and description", () => {
  it("accepts a source of 128 characters", () => {
    expect(validate({ source: "s".repeat(128) })).toEqual([]);
  });

  it("rejects a source of 129 characters", () => {
    expect(errorsAt(validate({ source: "s".repeat(129) }), "source")).toEqual(["must be at most 128 characters"]);
  });

  it("accepts a description of 1000 characters", () => {
    expect(validate({ description: "d".repeat(1000) })).toEqual([]);
  });

  it("rejects a description of 1001 characters", () => {
    expect(errorsAt(validate({ description: "d".repeat(1001) }), "description")).toEqual([
      "must be at most 1000 characters",
    ]);
  });

  it("accepts a multi-line description", () => {
    expect(validate({ description: "line one\nline two" })).toEqual([]);
  });
});

describe("mimeType", () => {
  it("accepts type/subtype", () => {
    expect(validate({ mimeType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document" })).toEqual(
      [],
    );
  });

  it("accepts parameters and keeps them", () => {
    expect(validate({ mimeType: 'text/plain; charset=utf-8; format="flowed"' })).toEqual([]);
    expect(normalizeMimeType("Text/Plain; charset=UTF-8")).toBe("text/plain; charset=UTF-8");
  });

  it.each(["text", "text/", "/plain", "text/plain/x", "text /plain", "text/plain; charset", "te(xt/plain"])(
    "rejects the malformed type %j",
    (mimeType) => {
      expect(errorsAt(validate({ mimeType }), "mimeType")).toEqual(["must be a type/subtype such as text/plain"]);
    },
  );

  it("accepts a type of 256 characters", () => {
    const mimeType = `application/x-${"a".repeat(100)}; p=${"v".repeat(256 - 14 - 100 - 4)}`;
    expect(mimeType).toHaveLength(256);
    expect(validate({ mimeType })).toEqual([]);
  });

  it("rejects a type of 257 characters", () => {
    const mimeType = `application/x-${"a".repeat(100)}; p=${"v".repeat(257 - 14 - 100 - 4)}`;
    expect(errorsAt(validate({ mimeType }), "mimeType")).toEqual(["must be at most 256 characters"]);
  });

  it("leaves the allow-list to the caller, which answers UnsupportedMediaTypeError", () => {
    expect(validate({ mimeType: "application/zip" }, { allowedMimeTypes: ["image/*"] })).toEqual([]);
  });

  it("matches an allow-list wildcard, ignoring case and parameters", () => {
    expect(mimeTypeAllowed("Image/PNG; q=1", ["image/*"])).toBe(true);
  });

  it("matches allow-list entries exactly or by type/*", () => {
    expect(mimeTypeAllowed("application/pdf", ["application/pdf"])).toBe(true);
    expect(mimeTypeAllowed("application/pdfx", ["application/pdf"])).toBe(false);
    expect(mimeTypeAllowed("imagex/png", ["image/*"])).toBe(false);
    expect(mimeTypeAllowed("anything/at-all", [])).toBe(true);
  });
});

describe("metadata", () => {
  const pairs = (count: number): Record<string, string> =>
    Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${index}`, "v"]));

  it("accepts 256 pairs", () => {
    expect(validate({ metadata: pairs(256) })).toEqual([]);
  });

  it("rejects 257 pairs", () => {
    expect(validate({ metadata: pairs(257) })).toEqual([
      { path: ["input", "metadata"], message: "must have at most 256 pairs" },
    ]);
  });

  it("accepts a key of 128 bytes of multibyte characters", () => {
    expect(validate({ metadata: { ["é".repeat(64)]: "v" } })).toEqual([]);
  });

  it("rejects a key of 129 bytes", () => {
    const key = `${"é".repeat(64)}a`;
    expect(validate({ metadata: { [key]: "v" } })).toEqual([
      { path: ["input", "metadata", key], message: "key must be at most 128 bytes" },
    ]);
  });

  it("rejects an empty key", () => {
    expect(errorsAt(validate({ metadata: { "": "v" } }), "metadata", "")).toEqual(["key must not be empty"]);
  });

  it("rejects a value of 10241 bytes", () => {
    // "€" is 3 bytes in UTF-8: 3413 × 3 + 2 = 10241.
    const value = `${"€".repeat(3413)}ab`;
    expect(validate({ metadata: { note: value } })).toEqual([
      { path: ["input", "metadata", "note"], message: "must be at most 10240 bytes (as JSON, unless a string)" },
    ]);
  });

  it("accepts keys and values totalling 10240 bytes", () => {
    // key "k" (1 byte) + 3413 × "€" (10239 bytes) = 10240.
    expect(validate({ metadata: { k: "€".repeat(3413) } })).toEqual([]);
  });

  it("rejects keys and values totalling 10241 bytes", () => {
    expect(validate({ metadata: { k: "€".repeat(3413), l: "" } })).toEqual([
      { path: ["input", "metadata"], message: "keys and values must total at most 10240 bytes" },
    ]);
  });

  it("accepts any JSON value", () => {
    const metadata = { count: 3, ratio: -0.5, ok: true, none: null, tags: ["a", "b"], nested: { deep: [{ x: 1 }] } };
    expect(validate({ metadata })).toEqual([]);
  });

  it("counts a value that is not a string by its serialized JSON", () => {
    // ["…"] serializes to the string's bytes and 4 more: 10236 + 4 = 10240, then 10241.
    expect(validate({ metadata: { k: ["v".repeat(10236)] } })).toEqual([
      { path: ["input", "metadata"], message: "keys and values must total at most 10240 bytes" },
    ]);
    expect(validate({ metadata: { k: ["v".repeat(10235)] } })).toEqual([]);
    expect(errorsAt(validate({ metadata: { k: ["v".repeat(10237)] } }), "metadata", "k")).toEqual([
      "must be at most 10240 bytes (as JSON, unless a string)",
    ]);
  });

  it.each([
    ["NUL in a string", { k: ["a\u0000b"] }, "must not contain NUL or unpaired surrogates"],
    ["an unpaired surrogate", { k: { x: "\ud800" } }, "must not contain NUL or unpaired surrogates"],
    ["NUL in a nested key", { k: { "a\u0000": 1 } }, "must not contain NUL or unpaired surrogates"],
    ["an infinite number", { k: [Number.POSITIVE_INFINITY] }, "must hold finite numbers only"],
    [
      "nesting 33 deep",
      { k: JSON.parse(`${"[".repeat(33)}${"]".repeat(33)}`) as unknown },
      "must not nest arrays and objects more than 32 deep",
    ],
  ])("rejects a value with %s", (_label, metadata, message) => {
    expect(errorsAt(validate({ metadata }), "metadata", "k")).toEqual([message]);
  });

  it("accepts nesting 32 deep", () => {
    expect(validate({ metadata: { k: JSON.parse(`${"[".repeat(32)}${"]".repeat(32)}`) as unknown } })).toEqual([]);
  });

  it("rejects a key with NUL", () => {
    expect(errorsAt(validate({ metadata: { "a\u0000": "v" } }), "metadata", "a\u0000")).toEqual([
      "key must not contain NUL or unpaired surrogates",
    ]);
  });

  it.each([
    ["an array", ["a"]],
    ["a string", "a=b"],
    ["a number", 1],
  ])("rejects metadata that is %s", (_label, metadata) => {
    expect(validate({ metadata })).toEqual([{ path: ["input", "metadata"], message: "must be an object" }]);
  });

  it("accepts null metadata as none", () => {
    expect(validate({ metadata: null })).toEqual([]);
  });

  it("treats a __proto__ key from JSON as an ordinary key", () => {
    const metadata: unknown = JSON.parse('{"__proto__": "x"}');
    expect(validate({ metadata })).toEqual([]);
  });
});

describe("labels", () => {
  const labels = (count: number): string[] => Array.from({ length: count }, (_, index) => `label-${index}`);

  it("accepts 10 labels", () => {
    expect(validate({ labels: labels(10) })).toEqual([]);
  });

  it("rejects 11 labels", () => {
    expect(validate({ labels: labels(11) })).toEqual([
      { path: ["input", "labels"], message: "must have at most 10 labels" },
    ]);
  });

  it("accepts a label of 255 characters", () => {
    expect(validate({ labels: ["l".repeat(255)] })).toEqual([]);
  });

  it("rejects a label of 256 characters, naming its position", () => {
    expect(validate({ labels: ["ok", "ok2", "ok3", "l".repeat(256)] })).toEqual([
      { path: ["input", "labels", "3"], message: "must be at most 255 characters" },
    ]);
  });

  it("rejects an empty label", () => {
    expect(errorsAt(validate({ labels: [""] }), "labels", "0")).toEqual(["must not be empty"]);
  });

  it("rejects a label with a control character", () => {
    expect(errorsAt(validate({ labels: ["a\u0007"] }), "labels", "0")).toEqual(["must not contain control characters"]);
  });

  it("rejects a repeated label", () => {
    expect(validate({ labels: ["red", "blue", "red"] })).toEqual([
      { path: ["input", "labels", "2"], message: "must not repeat another label" },
    ]);
  });

  it("treats labels differing in case as different", () => {
    expect(validate({ labels: ["Red", "red"] })).toEqual([]);
  });
});

describe("size", () => {
  it("accepts a size of 0", () => {
    expect(validate({ size: 0 })).toEqual([]);
  });

  it("rejects a negative size", () => {
    expect(errorsAt(validate({ size: -1 }), "size")).toEqual(["must be a whole number of bytes, 0 or more"]);
  });

  it("rejects a fractional size", () => {
    expect(errorsAt(validate({ size: 1.5 }), "size")).toEqual(["must be a whole number of bytes, 0 or more"]);
  });

  it("leaves a size over the limit to checkDeclaredSize", () => {
    expect(validate({ size: limits.maxFileBytes + 1 })).toEqual([]);
  });

  it("accepts a declared size equal to the file limit", () => {
    expect(checkDeclaredSize(limits.maxFileBytes, limits)).toBeUndefined();
  });

  it("reports the limit for a declared size one byte over it", () => {
    expect(checkDeclaredSize(limits.maxFileBytes + 1, limits)).toEqual({ maxSize: limits.maxFileBytes });
  });

  it("has nothing to say about an undeclared size", () => {
    expect(checkDeclaredSize(undefined, limits)).toBeUndefined();
  });
});

describe("checksumSha256", () => {
  const hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

  it("accepts 64 hex characters", () => {
    expect(validate({ checksumSha256: hex })).toEqual([]);
  });

  it("accepts upper case and normalizes it to lower case", () => {
    expect(validate({ checksumSha256: hex.toUpperCase() })).toEqual([]);
    expect(normalizeChecksum(hex.toUpperCase())).toBe(hex);
  });

  it("rejects 63 hex characters", () => {
    expect(errorsAt(validate({ checksumSha256: hex.slice(1) }), "checksumSha256")).toEqual([
      "must be 64 hexadecimal characters",
    ]);
  });

  it("rejects 65 hex characters", () => {
    expect(errorsAt(validate({ checksumSha256: `${hex}0` }), "checksumSha256")).toEqual([
      "must be 64 hexadecimal characters",
    ]);
  });

  it("rejects a non-hex character", () => {
    expect(errorsAt(validate({ checksumSha256: `${hex.slice(1)}g` }), "checksumSha256")).toEqual([
      "must be 64 hexadecimal characters",
    ]);
  });
});

describe("scope", () => {
  it("requires entityId for ENTITY scope", () => {
    expect(validate({ scope: "ENTITY" })).toEqual([
      { path: ["input", "entityId"], message: "is required when scope is ENTITY" },
    ]);
  });

  it("treats an empty entityId as missing for ENTITY scope", () => {
    expect(errorsAt(validate({ scope: "ENTITY", entityId: "" }), "entityId")).toEqual([
      "is required when scope is ENTITY",
    ]);
  });

  it("requires sessionId for SESSION scope", () => {
    expect(validate({ scope: "SESSION" })).toEqual([
      { path: ["input", "sessionId"], message: "is required when scope is SESSION" },
    ]);
  });

  it("accepts ENTITY scope with an entityId of 255 characters", () => {
    expect(validate({ scope: "ENTITY", entityId: "e".repeat(255) })).toEqual([]);
  });

  it("rejects an entityId of 256 characters", () => {
    expect(errorsAt(validate({ scope: "ENTITY", entityId: "e".repeat(256) }), "entityId")).toEqual([
      "must be at most 255 characters",
    ]);
  });

  it("accepts SESSION scope with a UUID sessionId", () => {
    expect(validate({ scope: "SESSION", sessionId: "3F2504E0-4F89-11D3-9A0C-0305E82C3301" })).toEqual([]);
  });

  it.each([
    ["a word", "session-1"],
    ["a UUID without hyphens", "3f2504e04f8911d39a0c0305e82c3301"],
    ["a UUID with braces", "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}"],
    ["a UUID one digit short", "3f2504e0-4f89-11d3-9a0c-0305e82c330"],
  ])("rejects a sessionId that is %s", (_label, sessionId) => {
    expect(errorsAt(validate({ scope: "SESSION", sessionId }), "sessionId")).toEqual([
      "must be a UUID (8-4-4-4-12 hexadecimal digits)",
    ]);
  });

  it.each(["WORKSPACE", "SESSION"] as const)("rejects an entityId beside scope %s, on entityId", (scope) => {
    const errors = validate({
      scope,
      entityId: "e1",
      ...(scope === "SESSION" ? { sessionId: "3f2504e0-4f89-11d3-9a0c-0305e82c3301" } : {}),
    });
    expect(errors).toEqual([{ path: ["input", "entityId"], message: "is only allowed with scope ENTITY" }]);
  });

  it.each(["WORKSPACE", "ENTITY"] as const)("rejects a sessionId beside scope %s, on sessionId", (scope) => {
    const errors = validate({
      scope,
      sessionId: "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
      ...(scope === "ENTITY" ? { entityId: "e1" } : {}),
    });
    expect(errors).toEqual([{ path: ["input", "sessionId"], message: "is only allowed with scope SESSION" }]);
  });

  it("accepts WORKSPACE scope without ids", () => {
    expect(validate({ scope: "WORKSPACE" })).toEqual([]);
  });
});

describe("source times", () => {
  it("accepts a modified time before the created time", () => {
    expect(
      validate({
        sourceCreatedTime: new Date("2024-02-01T00:00:00Z"),
        sourceModifiedTime: new Date("2024-01-01T00:00:00Z"),
      }),
    ).toEqual([]);
  });

  it("accepts 1970-01-01T00:00:00Z and rejects the millisecond before", () => {
    expect(validate({ sourceCreatedTime: new Date(0), sourceModifiedTime: new Date(0) })).toEqual([]);
    const errors = validate({ sourceCreatedTime: new Date(-1), sourceModifiedTime: new Date(-1) });
    expect(errors.map((error) => error.path.join("."))).toEqual([
      "input.sourceCreatedTime",
      "input.sourceModifiedTime",
    ]);
    expect(errors[0]?.message).toBe("must not be before 1970-01-01T00:00:00Z");
  });

  it("rejects an invalid date", () => {
    expect(errorsAt(validate({ sourceCreatedTime: new Date("nope") }), "sourceCreatedTime")).toEqual([
      "must be a valid date and time",
    ]);
  });
});

describe("a whole request", () => {
  it("reports every bad field at once", () => {
    const errors = validate({ name: "..", directory: "relative", labels: ["a", "a"], checksumSha256: "xyz" });
    expect(errors.map((error) => error.path.join("."))).toEqual([
      "input.name",
      "input.directory",
      "input.checksumSha256",
      "input.labels.1",
    ]);
  });
});
