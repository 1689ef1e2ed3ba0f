import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { describe, expect, it } from "vitest";
import { internalId } from "./ids.js";

/** internalId as it was, on Pothos's decodeGlobalID: the reference its own decoding must match. */
function reference(id: string, typename: string): string {
  try {
    const decoded = decodeGlobalID(id);
    if (decoded.typename === typename) return decoded.id.includes("\u0000") ? "" : decoded.id;
  } catch {
    // not a global ID
  }
  return id.includes("\u0000") ? "" : id;
}

describe("internalId", () => {
  const b64 = (text: string): string => Buffer.from(text).toString("base64");
  const cases = [
    encodeGlobalID("Workspace", "default"),
    encodeGlobalID("Workspace", "a:b:c"),
    encodeGlobalID("File", "f1"),
    encodeGlobalID("Workspace", "nul\u0000inside"),
    b64("Workspace:"),
    b64("Workspace::x"),
    b64("Workspaces:x"),
    b64(":x"),
    "default",
    "abcd",
    "abc=",
    "V29ya3NwYWNl",
    "",
    "not base64!",
    "nul\u0000",
  ];
  it.each(cases)("decodes %j as Pothos's decodeGlobalID does", (id) => {
    expect(internalId(id, "Workspace")).toBe(reference(id, "Workspace"));
  });

  it("takes the id out of a global ID of the type asked for, and nothing else", () => {
    expect(internalId(encodeGlobalID("Workspace", "w1"), "Workspace")).toBe("w1");
    expect(internalId(encodeGlobalID("File", "w1"), "Workspace")).toBe(encodeGlobalID("File", "w1"));
    expect(internalId("default", "Workspace")).toBe("default");
  });
});
