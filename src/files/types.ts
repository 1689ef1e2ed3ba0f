import type { Readable } from "node:stream";
import type { File, FileLabel, FileScope, FileStatus, UploadMethod } from "../db/client.js";

export type { FileScope, FileStatus, UploadMethod };

/** The type of bytes nothing more is known about. */
export const defaultContentType = "application/octet-stream";

/** A file row without its labels. */
export type FileRow = File;

/** A file row with its labels, as the service hands it out. */
export type FileRecord = File & { labels: Pick<FileLabel, "label">[] };

/** The limits the domain enforces; filled from the configuration. */
export interface FileLimits {
  maxInlineBytes: number;
  maxSingleUploadBytes: number;
  maxFileBytes: number;
  /** Longest file name, in characters after NFC (MAX_NAME_LENGTH). */
  maxNameLength: number;
  /** Exact `type/subtype` or `type/*`, lower case; empty allows every type. */
  allowedMimeTypes: string[];
}

/**
 * The metadata fields a client sets at create and may change with updateFile. `undefined` means
 * "not given"; `null` (an explicit GraphQL null) means "no value", allowed for all but `name`.
 */
export interface FileFields {
  name?: string | null;
  mimeType?: string | null;
  size?: number | null;
  checksumSha256?: string | null;
  externalId?: string | null;
  directory?: string | null;
  description?: string | null;
  source?: string | null;
  /** Must be a JSON object whose values are all strings. */
  metadata?: unknown;
  labels?: readonly string[] | null;
  scope?: FileScope | null;
  entityId?: string | null;
  sessionId?: string | null;
  sourceCreatedTime?: Date | null;
  sourceModifiedTime?: Date | null;
  /** 1 to 1000 distinct asset ids. */
  assetIds?: readonly number[] | null;
  dataSetId?: number | null;
  /** At most 100 distinct security categories. */
  securityCategories?: readonly number[] | null;
  /** A GeoJSON Feature (RFC 7946). */
  geoLocation?: unknown;
}

export interface CreateFileRequest extends FileFields {
  /** Internal workspace id or the workspace's slug. */
  workspace: string;
  name: string;
  overwrite?: boolean | null;
  uploadMethod?: UploadMethod | null;
  /** Bytes streamed in this request (GraphQL multipart); resolves when the file's part begins. */
  file?: Promise<IncomingFile> | null;
  /** The bytes as standard base64 (RFC 4648 §4, padded), at most `maxInlineBytes` decoded. */
  content?: string | null;
  /** An http(s) URL the server downloads the bytes from. */
  sourceUrl?: string | null;
  /** The internal id of the folder the file goes in (its path becomes the directory). */
  folderId?: string | null;
}

/** A file arriving in the request body. */
export interface IncomingFile {
  /** The bytes as they arrive; `truncated` is set by parsers that cut a part off at their limit. */
  stream: Readable & { truncated?: boolean };
  /** The part's declared Content-Type, used only as a hint for text types. */
  mimeType: string | undefined;
}

export interface UpdateFileRequest
  extends Pick<FileFields, "name" | "metadata" | "labels" | "directory" | "description"> {
  id: string;
}

/** A part of a MULTIPART upload as the client lists it at completeUpload. */
export interface CompletedPart {
  partNumber: number;
  etag: string;
}

/** Where and how the client sends the bytes of a PENDING file. */
export interface UploadTarget {
  method: UploadMethod;
  url: string | null;
  headers: { name: string; value: string }[];
  fields: { name: string; value: string }[];
  /** MULTIPART: the parts still to send, each with a freshly signed URL (and its ETag where the store answers none). */
  parts: { partNumber: number; url: string; headers: { name: string; value: string }[]; etag: string | null }[];
  /** MULTIPART: the parts the store has received, with the ETags completeUpload needs. */
  receivedParts: { partNumber: number; etag: string; size: number }[];
  partSize: number | null;
  expiresAt: Date;
  maxSize: number | null;
}
