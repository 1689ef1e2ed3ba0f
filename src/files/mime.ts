// MIME types (RFC 6838, RFC 9110 §8.3.1): the one place their syntax, their essence and the
// allow-list (ALLOWED_MIME_TYPES) are defined.

/** RFC 6838 §4.2 restricted-name: a letter or digit, then up to 126 of the allowed characters. */
const RESTRICTED_NAME = "[a-z0-9][a-z0-9!#$&^_.+-]{0,126}";
/** RFC 9110 §5.6.2 token and §5.6.4 quoted-string, for `; name=value` parameters. */
const TOKEN = "[!#$%&'*+.^_`|~0-9a-z-]+";
const QUOTED_STRING =
  '"(?:[^"\\\\\\u0000-\\u0008\\u000a-\\u001f\\u007f]|\\\\[^\\u0000-\\u0008\\u000a-\\u001f\\u007f])*"';
const MIME_TYPE = new RegExp(
  `^${RESTRICTED_NAME}/${RESTRICTED_NAME}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED_STRING}))*$`,
  "i",
);
/** An allow-list entry: `type/subtype` or `type/*`, no parameters. */
const ALLOW_LIST_ENTRY = new RegExp(`^${RESTRICTED_NAME}/(?:\\*|${RESTRICTED_NAME})$`, "i");

/** Whether `text` is a `type/subtype` with optional `; name=value` parameters. */
export function isMimeType(text: string): boolean {
  return MIME_TYPE.test(text);
}

/** Whether `entry` can stand in an allow-list: `type/subtype` or `type/*`. */
export function isAllowListEntry(entry: string): boolean {
  return ALLOW_LIST_ENTRY.test(entry);
}

/** `type/subtype` lowercased, parameters dropped: "Text/HTML; charset=utf-8" → "text/html". */
export function mimeEssence(mimeType: string): string {
  return (mimeType.split(";", 1)[0] ?? "").trim().toLowerCase();
}

/**
 * The form a MIME type is stored in: the essence lowercased (types are case-insensitive, RFC 6838
 * §4.2), parameters kept as written after it, since their values can be case-sensitive.
 */
export function normalizeMimeType(mimeType: string): string {
  const semicolon = mimeType.indexOf(";");
  if (semicolon === -1) return mimeEssence(mimeType);
  return `${mimeEssence(mimeType)}${mimeType.slice(semicolon).trimEnd()}`;
}

/** Whether a type (parameters ignored) matches an allow-list entry exactly or by `type/*`; an empty list allows all. */
export function mimeTypeAllowed(mimeType: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const essence = mimeEssence(mimeType);
  const wildcard = `${essence.split("/", 1)[0]}/*`;
  return allowed.some((entry) => entry === essence || entry === wildcard);
}
