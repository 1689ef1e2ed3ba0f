import { decodeGlobalID } from "@pothos/plugin-relay";

/**
 * The internal id inside a global ID of `typename`. Anything that is not such a global ID is
 * returned as it is, so a workspace can also be named by its slug ("default").
 */
export function internalId(id: string, typename: string): string {
  // A global ID is padded base64, whose length is a multiple of 4: anything else (a slug such as
  // "default") is not one, known without the two errors, stack traces and all, that decoding it throws.
  if (id.length % 4 !== 0) return storableId(id);
  try {
    const decoded = decodeGlobalID(id);
    // No id holds NUL, which PostgreSQL refuses in a parameter: "" names nothing either.
    if (decoded.typename === typename) return storableId(decoded.id);
  } catch {
    // not a global ID
  }
  return storableId(id);
}

/**
 * An id as it can be looked up. No id holds NUL, which PostgreSQL refuses in a parameter, and
 * the check on every argument cannot see one inside a global ID's base64: "" (which names
 * nothing) stands for such an id.
 */
function storableId(id: string): string {
  return id.includes("\u0000") ? "" : id;
}
