/**
 * What a file's first bytes say about it: its real type, whether it is an executable, and an
 * image's dimensions.
 */
import { isUtf8 } from "node:buffer";
import { fileTypeFromBuffer } from "file-type";
import { imageSize } from "image-size";
import { isExecutable } from "./executable.js";
import { mimeEssence } from "./mime.js";

/** What the first bytes of a file say about it. */
export interface Sniffed {
  /** The type to store and serve; `application/octet-stream` when unknown. */
  mimeType: string;
  /** PE/MZ, ELF or Mach-O: to be rejected whatever the name or declared type. */
  executable: boolean;
  /** Width and height in pixels for images whose header is in the head, else undefined. */
  dimensions: { width: number; height: number } | undefined;
}

/**
 * WHATWG MIME Sniffing §3 "binary data byte": control bytes that do not occur in text (NUL
 * included). Tab, LF, FF, CR and ESC are text.
 */
const isBinaryByte = (byte: number): boolean =>
  byte <= 0x08 || byte === 0x0b || (byte >= 0x0e && byte <= 0x1a) || (byte >= 0x1c && byte <= 0x1f);

/**
 * The head with an incomplete UTF-8 sequence at its very end removed: the head is cut at a fixed
 * length, which can split a multi-byte character of an otherwise valid text.
 */
function withoutCutCharacter(head: Buffer): Buffer {
  for (let back = 1; back <= Math.min(3, head.length); back++) {
    const byte = head[head.length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? head.subarray(0, head.length - back) : head;
  }
  return head;
}

function isText(head: Buffer): boolean {
  return !head.some(isBinaryByte) && isUtf8(withoutCutCharacter(head));
}

/** Elements that make a browser treat a document as HTML (WHATWG MIME Sniffing §7.1). */
const HTML_ELEMENTS = new Set([
  "html",
  "head",
  "body",
  "script",
  "iframe",
  "h1",
  "div",
  "font",
  "table",
  "a",
  "style",
  "title",
  "b",
  "br",
  "p",
]);

/**
 * Whether text is really an SVG image or an HTML page, whatever it was declared as: both run
 * script when a browser renders them, so they must be stored as what they are. Decided by a
 * doctype naming html/svg, or else by the first element after the XML declaration, processing
 * instructions, comments and doctype.
 */
function markupType(text: string): "image/svg+xml" | "text/html" | undefined {
  let at = text.charCodeAt(0) === 0xfeff ? 1 : 0; // byte order mark
  for (;;) {
    while (at < text.length && /\s/.test(text.charAt(at))) at++;
    if (text.startsWith("<!--", at)) {
      const end = text.indexOf("-->", at + 4);
      if (end === -1) return undefined;
      at = end + 3;
    } else if (text.startsWith("<!", at) || text.startsWith("<?", at)) {
      const doctype = /^<!doctype\s+([a-z]+)/i.exec(text.slice(at, at + 32))?.[1]?.toLowerCase();
      if (doctype === "html") return "text/html";
      if (doctype === "svg") return "image/svg+xml";
      const end = text.indexOf(">", at + 2);
      if (end === -1) return undefined;
      at = end + 1;
    } else {
      break;
    }
  }
  const tag = /^<([a-z][a-z0-9]*(?::[a-z][a-z0-9]*)?)[\s/>]/i.exec(text.slice(at, at + 64));
  const element = tag?.[1]?.toLowerCase();
  if (element === undefined) return undefined;
  if (element === "svg" || element.endsWith(":svg")) return "image/svg+xml";
  if (HTML_ELEMENTS.has(element)) return "text/html";
  return undefined;
}

/** Declared types we keep for text content, since bytes alone cannot tell CSV from Markdown. */
function isTextualType(essence: string): boolean {
  return (
    essence.startsWith("text/") ||
    essence.endsWith("+json") ||
    essence.endsWith("+xml") ||
    [
      "application/json",
      "application/xml",
      "application/javascript",
      "application/ecmascript",
      "application/x-javascript",
      "application/yaml",
      "application/x-yaml",
      "application/toml",
      "application/sql",
      "application/graphql",
      "application/x-ndjson",
      "application/x-sh",
    ].includes(essence)
  );
}

async function detectType(head: Buffer): Promise<string | undefined> {
  try {
    return (await fileTypeFromBuffer(head))?.mime;
  } catch {
    // Some parsers throw on input cut short; a truncated head is simply "not recognised".
    return undefined;
  }
}

function dimensionsOf(head: Buffer): Sniffed["dimensions"] {
  try {
    const { width, height } = imageSize(head);
    const size = { width: Math.round(width), height: Math.round(height) };
    return size.width > 0 && size.height > 0 ? size : undefined;
  } catch {
    // Unsupported format, or the size lies beyond the head.
    return undefined;
  }
}

/**
 * The type of a file from its first bytes. Magic numbers (file-type) win; text that is SVG or
 * HTML is reported as such; other text keeps a textual declared type (else `text/plain`);
 * anything else is `application/octet-stream`. The declared type never overrides bytes that say
 * otherwise.
 */
export async function sniff(head: Buffer, declaredType?: string): Promise<Sniffed> {
  const executable = isExecutable(head);
  const text = isText(head);
  const markup = text ? markupType(head.toString("utf8")) : undefined;
  const detected = await detectType(head);
  const declared = declaredType === undefined ? "" : mimeEssence(declaredType);
  let mimeType: string;
  if (detected === "application/xml") {
    // file-type calls anything with an XML declaration application/xml: an SVG is reported as
    // such, and a declared XML dialect (application/rss+xml, text/xml) is more precise.
    mimeType = markup ?? (declared.endsWith("+xml") || declared === "text/xml" ? declared : detected);
  } else if (detected !== undefined) {
    mimeType = detected;
  } else if (markup !== undefined) {
    mimeType = markup;
  } else if (text) {
    mimeType = isTextualType(declared) ? declared : "text/plain";
  } else {
    mimeType = "application/octet-stream";
  }
  const dimensions = mimeType.startsWith("image/") ? dimensionsOf(head) : undefined;
  return { mimeType, executable, dimensions };
}
