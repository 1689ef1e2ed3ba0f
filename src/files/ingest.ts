/**
 * Bytes that arrive with `createFile` itself: a multipart file part, base64 `content`, or a
 * `sourceUrl` download. Each is checked up front where it can be, then streamed through a
 * ByteInspector (hash, size cap, head for sniffing) straight into the storage driver.
 */
import { Readable } from "node:stream";
import type { StorageDriver } from "../storage/driver.js";
import { ByteInspector, type InspectedBytes, TooLargeError } from "./byte-inspector.js";
import { FileError, PayloadTooLargeError, ValidationError } from "./errors.js";
import type { ByteMeter } from "./progress.js";
import type { Sha256Source } from "./sha256.js";
import { openSourceUrl, SourceUrlError, type SourceUrlOptions } from "./source-url.js";
import type { CreateFileRequest, FileLimits, IncomingFile } from "./types.js";

/** Where the bytes of a createFile come from. */
export type ByteSource =
  | { kind: "file"; file: Promise<IncomingFile> }
  | { kind: "content"; bytes: Buffer }
  | { kind: "sourceUrl"; url: string };

/** Bytes being read, with what the sender said about their type. */
export interface OpenedBytes {
  stream: Readable & { truncated?: boolean };
  declaredType: string | undefined;
  /** Lets go of a source that was not read to its end (drains a multipart part, closes a download). */
  release(): void;
}

const STANDARD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes strict standard base64 (RFC 4648 §4): the alphabet with `+` and `/`, padded to a
 * multiple of 4, no whitespace. base64url and unpadded input are refused rather than guessed
 * at, since a lenient decoder silently drops what it does not understand. The decoded size is
 * computed from the length first, so an oversized value is refused without decoding it.
 */
function decodeBase64(content: string, maxBytes: number): Buffer {
  const padding = content.endsWith("==") ? 2 : content.endsWith("=") ? 1 : 0;
  const decodedSize = Math.floor(content.length / 4) * 3 - padding;
  if (decodedSize > maxBytes) {
    throw new PayloadTooLargeError(
      `content is over the ${maxBytes} bytes accepted inline; use file, sourceUrl or an upload target`,
      maxBytes,
    );
  }
  if (content.length % 4 !== 0 || !STANDARD_BASE64.test(content)) {
    throw ValidationError.field(
      ["input", "content"],
      "must be standard base64 (A-Z a-z 0-9 + /, padded with = to a multiple of 4)",
    );
  }
  return Buffer.from(content, "base64");
}

/**
 * The source a request names, checked as far as it can be without reading bytes; undefined when
 * the client will upload to a signed target instead. More than one source is a ValidationError.
 */
export function chooseSource(request: CreateFileRequest, limits: FileLimits): ByteSource | undefined {
  const given = (["file", "content", "sourceUrl"] as const).filter((field) => request[field] != null);
  if (given.length > 1) {
    throw new ValidationError(
      given.map((field) => ({ path: ["input", field], message: "give only one of file, content and sourceUrl" })),
    );
  }
  if (request.file != null) return { kind: "file", file: request.file };
  if (request.content != null) return { kind: "content", bytes: decodeBase64(request.content, limits.maxInlineBytes) };
  if (request.sourceUrl != null) return { kind: "sourceUrl", url: request.sourceUrl };
  return undefined;
}

/** The most bytes a source may bring: its own limit, and the declared size when there is one. */
export function sourceLimit(source: ByteSource, declaredSize: number | undefined, limits: FileLimits): number {
  const limit =
    source.kind === "file"
      ? limits.maxSingleUploadBytes
      : source.kind === "content"
        ? limits.maxInlineBytes
        : limits.maxFileBytes;
  return Math.min(limit, limits.maxFileBytes, declaredSize ?? Number.MAX_SAFE_INTEGER);
}

/** Starts reading a source. */
export async function openBytes(
  source: ByteSource,
  maxBytes: number,
  sourceUrl: SourceUrlOptions,
): Promise<OpenedBytes> {
  if (source.kind === "file") {
    const { stream, mimeType } = await source.file.catch((error: unknown) => {
      // graphql-upload-minimal rejects when the part is missing or the request broke off.
      throw ValidationError.field(["input", "file"], `the file did not arrive: ${(error as Error).message}`);
    });
    return { stream, declaredType: mimeType, release: () => stream.resume() };
  }
  if (source.kind === "content") {
    return {
      stream: Readable.from([source.bytes], { objectMode: false }),
      declaredType: undefined,
      release: () => undefined,
    };
  }
  const download = await openSourceUrl(source.url, { ...sourceUrl, maxBytes });
  return { stream: download.body, declaredType: download.contentType, release: () => download.body.destroy() };
}

/**
 * Streams the bytes into the store under `key` through a ByteInspector capped at `maxBytes`, and
 * returns its measurements. The source is piped (not pipelined) so a failure here does not destroy
 * a multipart part stream, whose remaining bytes must still be drained for the request to go on.
 * On any failure the driver keeps nothing.
 */
export async function storeInspected(
  storage: StorageDriver,
  key: string,
  opened: OpenedBytes,
  {
    maxBytes,
    expectedBytes,
    contentType,
    sha256,
    meter,
  }: {
    maxBytes: number;
    /** The size the client declared, if it did: the head and the hash are sized by it (ByteInspector). */
    expectedBytes: number | undefined;
    contentType: string;
    sha256: Sha256Source;
    meter: ByteMeter | undefined;
  },
): Promise<InspectedBytes> {
  const { stream } = opened;
  const inspector = new ByteInspector({ maxBytes, expectedBytes, sha256, meter });
  const fail = (error: unknown): void => {
    inspector.destroy(error instanceof Error ? error : new Error(String(error)));
  };
  const closed = (): void => {
    if (!stream.readableEnded) fail(new Error("the bytes stopped arriving before their end"));
  };
  // busboy emits "limit" when a part reaches its size limit, and graphql-upload-minimal then
  // unpipes the part from every destination: without this the inspector would wait forever.
  const limit = (): void => fail(new TooLargeError(maxBytes));
  stream.once("error", fail);
  stream.once("close", closed);
  stream.once("limit", limit);
  stream.pipe(inspector);
  try {
    await storage.putObject(key, inspector, { contentType });
  } finally {
    stream.unpipe(inspector);
    stream.off("error", fail);
    stream.off("close", closed);
    stream.off("limit", limit);
  }
  // A parser that cut the part off at its own limit ends the stream normally: the bytes are not all there.
  if (stream.truncated === true) throw new TooLargeError(maxBytes);
  return inspector.result();
}

/** The client-facing error for a failed in-request upload. */
export function ingestError(error: unknown, maxBytes: number): unknown {
  if (error instanceof FileError) return error;
  if (error instanceof TooLargeError) {
    return new PayloadTooLargeError(`the file is larger than the ${maxBytes} bytes accepted here`, maxBytes);
  }
  if (error instanceof SourceUrlError) return ValidationError.field(["input", "sourceUrl"], error.message);
  return error;
}

/**
 * Drains a multipart file the request did not read (refused before reading, or cut off): later
 * parts of the same request only arrive once this one has been read past.
 */
export function drainUnread(file: Promise<IncomingFile> | null | undefined): void {
  file?.then(
    ({ stream }) => {
      if (!stream.readableEnded) stream.resume();
    },
    () => undefined,
  );
}
