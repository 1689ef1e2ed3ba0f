import { decodeGlobalID } from "@pothos/plugin-relay";
import { textProblem } from "../files/validation.js";

/**
 * The internal id inside a global ID of `typename`. Anything that is not such a global ID is
 * returned as it is, so a workspace can also be named by its slug ("default").
 */
export function internalId(id: string, typename: string): string {
  try {
    const decoded = decodeGlobalID(id);
    // The base64 may hide what no argument may hold (a NUL): such an id names nothing.
    if (decoded.typename === typename && textProblem(decoded.id) === undefined) return decoded.id;
  } catch {
    // not a global ID
  }
  return id;
}
