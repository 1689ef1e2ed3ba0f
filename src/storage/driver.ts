import type { Readable } from "node:stream";

/** A name/value pair, as in the GraphQL `KeyValue` type. */
export interface KeyValue {
  name: string;
  value: string;
}

/** What a client needs to send bytes for one object with a single request. */
export interface SignedUploadTarget {
  /** Absolute URL the client sends the bytes to. */
  url: string;
  /** Headers the client must send with a PUT (empty for POST). */
  headers: KeyValue[];
  /** Form fields for a POST, in the order the form must send them; the file goes last as field "file". */
  fields: KeyValue[];
}

export interface SignUploadOptions {
  /** Object key the bytes will be stored under. */
  key: string;
  method: "PUT" | "POST";
  /** Content type the client must declare; the signature binds it. */
  contentType: string;
  /** Largest body accepted; a larger one is refused and nothing is kept. */
  maxSize: number;
  /** When the client declared a size, the exact size the body must have. */
  exactSize?: number;
  /** Hex SHA-256 the client declared; bound only by drivers declaring `checksumBinding`. */
  checksumSha256?: string;
  /** The target stops working at this instant. */
  expiresAt: Date;
}

export interface SignDownloadOptions {
  key: string;
  /** Content-Type the download is served with. */
  contentType: string;
  /** Full Content-Disposition header value to serve, e.g. `attachment; filename*=UTF-8''a.html`. */
  contentDisposition: string;
  expiresAt: Date;
}

export interface PutObjectOptions {
  contentType: string;
}

/** An object as a listing shows it. */
export interface ListedObject {
  key: string;
  lastModified: Date;
  /**
   * Set on bytes a signed PUT or POST target stored that completion has not moved into place
   * (see `stagedUpload`): the object key they were sent for. `key` is then the staging key, which
   * `deleteObject` removes alone.
   */
  uploadFor?: string;
}

/** A multipart upload in progress as a listing shows it. */
export interface ListedUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

export interface ObjectInfo {
  size: number;
  /** Hex SHA-256 when the store knows it without reading the bytes; undefined otherwise. */
  checksumSha256?: string;
}

/**
 * The bytes a signed PUT or POST target stored for an object, pinned to exactly what the store
 * held when `stagedUpload` looked: completion reads them, verifies them and commits them, and
 * bytes a still-valid URL sends meanwhile make `read` and `commit` fail (`CHANGED`) rather than
 * slip in unverified.
 */
export interface StagedUpload {
  /** Size (and checksum where known) of the pinned bytes. */
  info: ObjectInfo;
  /** Streams the pinned bytes, optionally only the inclusive byte range `[start, end]`. */
  read(range?: { start: number; end: number }): Promise<Readable>;
  /**
   * Makes the pinned bytes the object at the key, where download URLs read, and removes the
   * staged copy. Create-only: `EXISTS` when the key already holds an object (another completion
   * committed first), `CHANGED` when the staged bytes were replaced since they were pinned.
   */
  commit(): Promise<void>;
}

/** A signed URL for one part of a multipart upload. */
export interface SignedPart {
  /** Absolute URL the client PUTs the part's bytes to. */
  url: string;
  /**
   * The ETag completeMultipartUpload expects for this part, when the store's answer to the PUT
   * carries none (Azure's Put Block answers without one: there the ETag is the part's block id).
   * Undefined where the client takes the part's ETag from the response (local, S3).
   */
  etag?: string;
}

/** Most parts a MULTIPART upload has, numbered 1 to MAX_PARTS: S3's limit, which every driver keeps. */
export const MAX_PARTS = 10_000;

/** Longest lifetime of a signed URL, upload or download: 7 days, the most S3 allows a presigned URL. */
export const MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600;

/** Lifetime of a signed URL when none is asked for: 15 minutes. */
export const DEFAULT_SIGNED_URL_SECONDS = 900;

/** The ways of uploading a PENDING file's bytes, as in the GraphQL `UploadMethod` enum. */
export type UploadMethod = "PUT" | "POST" | "MULTIPART";

/**
 * What a driver's store can do. The service reads it instead of trying and failing: a
 * `createFile` asking for a method the store lacks is refused before anything is signed.
 */
export interface StorageCapabilities {
  /** The upload methods the driver signs targets for (PUT and MULTIPART on every driver). */
  uploadMethods: readonly UploadMethod[];
  /**
   * A PUT target can bind the declared SHA-256, so the store itself refuses other bytes on
   * arrival (S3's `x-amz-checksum-sha256`). Without it the checksum is checked at completion only.
   */
  checksumBinding: boolean;
  /**
   * headObject can report a SHA-256 of the whole object that the store computed (S3, for objects
   * uploaded with a bound checksum), so completion reads only the object's first bytes instead of
   * hashing all of it.
   */
  fullObjectChecksum: boolean;
}

/** One part of a multipart upload that the store has received. */
export interface StoredPart {
  partNumber: number;
  etag: string;
  size: number;
}

/**
 * A place to keep objects. Drivers know nothing of files' metadata: they store bytes under
 * generated keys and sign URLs for them. Every driver runs the shared suite in
 * `test/storage.shared.ts`.
 */
export interface StorageDriver {
  /** Short name for logs, metrics and messages ("local", "s3", "azure"). */
  readonly name: string;

  /** What the store can do; fixed for the driver's lifetime. */
  readonly capabilities: StorageCapabilities;

  /**
   * Writes `body` to `key`. The object appears only when the body has been read to its end;
   * if the body errors (a client disconnects, a limit is hit upstream) nothing is kept under
   * `key` and the promise rejects with that error. Resolves with the number of bytes written.
   */
  putObject(key: string, body: Readable, options: PutObjectOptions): Promise<{ size: number }>;

  /** Size (and checksum where known) of the object at `key`, or null when there is none. */
  headObject(key: string): Promise<ObjectInfo | null>;

  /** Streams the object's bytes, optionally only the inclusive byte range `[start, end]`. */
  getObject(key: string, range?: { start: number; end: number }): Promise<Readable>;

  /**
   * Removes the object, and any bytes a signed upload target stored for it (`stagedUpload`);
   * removing a missing object is not an error.
   */
  deleteObject(key: string): Promise<void>;

  /**
   * Signs a URL (and the headers or form fields) for uploading one object with PUT or POST; only
   * methods listed in `capabilities.uploadMethods` are asked for. Where a signed URL cannot be
   * revoked (S3, Azure) it writes to a staging key that no download URL reads: the bytes become
   * the object only through `stagedUpload(key).commit()`, so a URL used after its upload was
   * completed, aborted or deleted never changes what a download URL serves.
   */
  signUpload(options: SignUploadOptions): Promise<SignedUploadTarget>;

  /**
   * What a signed PUT or POST target stored for `key` and completion has not yet committed, pinned
   * (see StagedUpload); null when nothing is staged. The local driver stages nothing (its routes
   * write only while the domain says the upload is open, and never replace an object): there the
   * object itself is returned and `commit` has nothing to do.
   */
  stagedUpload(key: string): Promise<StagedUpload | null>;

  /** Signs an expiring URL that serves the object with the given headers. */
  signDownload(options: SignDownloadOptions): Promise<string>;

  /** Starts a multipart upload for `key`; returns the store's upload id. */
  createMultipartUpload(key: string, options: PutObjectOptions): Promise<string>;

  /**
   * Signs a URL for PUTting part `partNumber` (1-based) of a multipart upload. With `exactSize`
   * the signature binds the part's Content-Length where the store can, so it refuses a part of
   * any other size (the client sends the header; browsers set it from the body).
   */
  signUploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    expiresAt: Date,
    exactSize?: number,
  ): Promise<SignedPart>;

  /** The parts received so far, in part-number order. */
  listParts(key: string, uploadId: string): Promise<StoredPart[]>;

  /** Joins the given parts into the object at `key`. */
  completeMultipartUpload(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void>;

  /** Drops a multipart upload and every part received for it; a missing upload is not an error. */
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;

  /**
   * Removes what interrupted writes left behind (a process that died mid-upload) and was last
   * touched before `before`; resolves with how many were removed. A store that cleans up after
   * itself (S3 with a lifecycle rule) has nothing to do here.
   */
  removeAbandoned?(before: Date): Promise<number>;

  /**
   * Every stored object, a page at a time, with when it was last written: what the sweeper
   * reconciles with the rows (objects no row names). Staged single uploads are listed with
   * `uploadFor`; other staging areas (temporary files, parts of multipart uploads) are not listed.
   */
  listObjects?(): AsyncIterable<ListedObject[]>;

  /** Multipart uploads begun and neither completed nor aborted, a page at a time. */
  listMultipartUploads?(): AsyncIterable<ListedUpload[]>;

  /** Releases the driver's connections; the driver is not used afterwards. */
  close(): Promise<void>;
}

/**
 * Raised by drivers for a failure the caller can act on (missing upload, bad part list, an object
 * that a create-only write would replace, staged bytes replaced since they were pinned: `CHANGED`,
 * a store out of space: `FULL`), and by drivers that convert every SDK failure (Azure) for any
 * other failure of the store: `FAILED`, with the SDK's error as `cause`.
 */
export class StorageError extends Error {
  constructor(
    message: string,
    readonly code: "NOT_FOUND" | "INVALID_PART" | "TOO_LARGE" | "EXISTS" | "CHANGED" | "FULL" | "FAILED",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StorageError";
  }
}
