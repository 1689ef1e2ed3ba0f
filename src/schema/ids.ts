import { decodeGlobalID } from "@pothos/plugin-relay";

/**
 * The internal id inside a global ID of `typename`. Anything that is not such a global ID is
 * returned as it is, so a workspace can also be named by its slug ("default").
 */
export function internalId(id: string, typename: string): string {
  try {
    const decoded = decodeGlobalID(id);
    if (decoded.typename === typename) return decoded.id;
  } catch {
    // not a global ID
  }
  return id;
}
