/** Padded standard base64, the form of Pothos's global IDs (`encodeGlobalID`). */
const BASE64 = /^(?:[\d+/A-Za-z]{4})*(?:[\d+/A-Za-z]{2}==|[\d+/A-Za-z]{3}=)?$/;

/**
 * The internal id inside a global ID of `typename`. Anything that is not such a global ID is
 * returned as it is, so a workspace can also be named by its slug ("default").
 * Decoded here as Pothos's `decodeGlobalID` does ("Typename:id", the id not empty and not starting
 * with ":"), but without its exceptions: a slug in every request made it throw and catch an error
 * (a stack trace) on the hot path.
 */
export function internalId(id: string, typename: string): string {
  if (BASE64.test(id)) {
    const decoded = Buffer.from(id, "base64").toString();
    const prefix = `${typename}:`;
    if (decoded.startsWith(prefix) && decoded.length > prefix.length && decoded[prefix.length] !== ":")
      return storableId(decoded.slice(prefix.length));
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
