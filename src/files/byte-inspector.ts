/**
 * What we learn from a file's bytes as they stream past: SHA-256 and size, with a size cap, and
 * the first bytes kept for sniffing (src/files/sniff.ts).
 */
import { Transform, type TransformCallback } from "node:stream";
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
  /**
   * How many bytes should pass, when known (a stored object's size): the head is allocated no
   * larger, and the hash source may choose by it. More bytes are still counted and hashed; only
   * the head kept of them is then shorter.
   */
  expectedBytes?: number;
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
    this.hash = (options.sha256 ?? inlineSha256).stream(options.expectedBytes);
    const headBytes = Math.min(
      options.headBytes ?? DEFAULT_HEAD_BYTES,
      options.maxBytes,
      options.expectedBytes ?? Number.POSITIVE_INFINITY,
    );
    this.head = Buffer.allocUnsafe(Math.max(0, headBytes));
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
