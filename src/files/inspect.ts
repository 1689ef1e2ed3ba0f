/**
 * What we learn from a file's bytes as they stream past: SHA-256, size, a size cap, and from the
 * first bytes its real type, whether it is an executable, and an image's dimensions.
 */
import { isUtf8 } from "node:buffer";
import { Transform, type TransformCallback } from "node:stream";
import { fileTypeFromBuffer } from "file-type";
import { imageSize } from "image-size";
import { mimeEssence } from "./mime.js";
import type { ByteMeter } from "./progress.js";
import { inlineSha256, type Sha256, type Sha256Source } from "./sha256.js";

/** The bytes went past the allowed size; nothing beyond the limit was passed on. */
export class TooLargeError extends Error {
  override name = "TooLargeError";
  constructor(
    /** The limit that was exceeded, in bytes. */
    readonly maxSize: number,
  ) {
    super(`file is larger than the limit of ${maxSize} bytes`);
  }
}

export interface ByteInspectorOptions {
  /** Largest number of bytes allowed through; one more fails the stream with TooLargeError. */
  maxBytes: number;
  /** How many leading bytes to keep for `sniff` (default 64 KiB). */
  headBytes?: number;
  /** Bytes buffered on each side before backpressure (default 1 MiB). */
  highWaterMark?: number;
  /** Where the running SHA-256 comes from (default: computed inline). */
  sha256?: Sha256Source;
  /** Told of the bytes as they pass (upload progress). */
  meter?: ByteMeter;
}

/** What a ByteInspector measured once the stream ended. */
export interface InspectedBytes {
  /** Number of bytes that passed. */
  size: number;
  /** SHA-256 of those bytes, lowercase hex. */
  sha256: string;
  /** The first `headBytes` of them (all of them for a smaller file). */
  head: Buffer;
}

/**
 * 64 KiB: file-type needs at most a few KiB for nearly every format, but image dimensions can sit
 * further in. A JPEG's size is in its SOF marker, which follows the APPn segments (EXIF, XMP,
 * thumbnails); one segment is at most 64 KiB (16-bit length), so this finds it past a typical
 * EXIF block. Beyond that dimensions are simply unknown. It is 0.006% of a 1 GiB upload.
 */
export const DEFAULT_HEAD_BYTES = 64 * 1024;

/**
 * A pass-through stream that hashes, counts and caps the bytes and keeps a copy of the first
 * `headBytes`. Chunks are passed on as they are: the only copies are into the fixed head buffer.
 */
export class ByteInspector extends Transform {
  private readonly maxBytes: number;
  private readonly hash: Sha256;
  private readonly head: Buffer;
  private headLength = 0;
  private size = 0;
  private sha256: string | undefined;
  private readonly meter: ByteMeter | undefined;

  constructor(options: ByteInspectorOptions) {
    // Chunks are passed on without copies, so a deep buffer costs no memory per byte, and it saves
    // a pause/resume of the source for nearly every 64 KiB socket chunk (Node's default is 16 KiB).
    super({ highWaterMark: options.highWaterMark ?? 1024 * 1024 });
    this.maxBytes = options.maxBytes;
    this.meter = options.meter;
    this.hash = (options.sha256 ?? inlineSha256).stream();
    this.head = Buffer.allocUnsafe(Math.max(0, Math.min(options.headBytes ?? DEFAULT_HEAD_BYTES, options.maxBytes)));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // The chunk that would cross the limit is dropped whole: a partial prefix is of no use to a
    // store about to discard the object, and this keeps "nothing past the limit" exact.
    if (chunk.length > this.maxBytes - this.size) {
      callback(new TooLargeError(this.maxBytes));
      return;
    }
    this.size += chunk.length;
    this.meter?.add(chunk.length);
    if (this.headLength < this.head.length) {
      this.headLength += chunk.copy(this.head, this.headLength, 0, this.head.length - this.headLength);
    }
    this.hash.update(chunk, (error) => callback(error ?? null, chunk));
  }

  override _flush(callback: TransformCallback): void {
    this.hash.digest().then((hex) => {
      this.sha256 = hex;
      this.meter?.end();
      callback();
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.sha256 === undefined) this.hash.abort();
    callback(error);
  }

  /** The measurements; only available once the stream has ended. */
  result(): InspectedBytes {
    if (this.sha256 === undefined) throw new Error("ByteInspector.result() called before the stream ended");
    return { size: this.size, sha256: this.sha256, head: this.head.subarray(0, this.headLength) };
  }
}

/** What the first bytes of a file say about it. */
export interface Sniffed {
  /** The type to store and serve; `application/octet-stream` when unknown. */
  mimeType: string;
  /** PE/MZ, ELF or Mach-O: to be rejected whatever the name or declared type. */
  executable: boolean;
  /** Width and height in pixels for images whose header is in the head, else undefined. */
  dimensions: { width: number; height: number } | undefined;
}

const startsWith = (head: Buffer, magic: readonly number[]): boolean =>
  head.length >= magic.length && magic.every((byte, index) => head[index] === byte);

/**
 * Executable formats by magic bytes. Fat (universal) Mach-O shares CA FE BA BE with Java class
 * files; the next big-endian u32 is the architecture count for Mach-O but minor<<16|major version
 * for Java, whose major versions start at 45 (JDK 1.0). So a count of 1..44 is Mach-O.
 * Note that `MZ` alone is the DOS/PE signature, so a text file that starts with "MZ" is flagged too;
 * we accept that rare false positive rather than let a crafted PE through.
 */
function isExecutable(head: Buffer): boolean {
  if (startsWith(head, [0x4d, 0x5a])) return true; // MZ: DOS and PE (Windows)
  if (startsWith(head, [0x7f, 0x45, 0x4c, 0x46])) return true; // \x7fELF
  const machO = [
    [0xfe, 0xed, 0xfa, 0xce], // 32-bit, big-endian
    [0xfe, 0xed, 0xfa, 0xcf], // 64-bit, big-endian
    [0xce, 0xfa, 0xed, 0xfe], // 32-bit, little-endian
    [0xcf, 0xfa, 0xed, 0xfe], // 64-bit, little-endian
  ];
  if (machO.some((magic) => startsWith(head, magic))) return true;
  if (startsWith(head, [0xca, 0xfe, 0xba, 0xbe]) || startsWith(head, [0xca, 0xfe, 0xba, 0xbf])) {
    if (head.length < 8) return false;
    const architectures = head.readUInt32BE(4);
    return architectures >= 1 && architectures < 45;
  }
  return false;
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

/**
 * Types served inline: those a browser displays without running script from our origin. Anything
 * else (HTML, SVG, XML, JavaScript, PDF — whose viewers run JavaScript and submit forms — and
 * every unknown type) is served as an attachment. An allow-list, so a type nobody thought of is
 * downloaded rather than rendered.
 */
const INLINE_TYPES = new Set([
  "image/png",
  "image/apng",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/avif",
  "image/bmp",
  "text/plain",
]);

/** Whether downloads of this type must carry `Content-Disposition: attachment`. */
export function mustDownloadAsAttachment(mimeType: string): boolean {
  const essence = mimeEssence(mimeType);
  if (essence.startsWith("video/") || essence.startsWith("audio/")) return false;
  return !INLINE_TYPES.has(essence);
}
