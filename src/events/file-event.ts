import { randomUUID } from "node:crypto";
import type { File, FileLabel } from "../db/client.js";

/**
 * What happens to files, as the file service reports it (src/files/service.ts and the modules
 * it delegates to are the only emitters). Events travel between instances as JSON (Redis
 * pub/sub, the webhook outbox), so they hold nothing JSON cannot carry: sizes are numbers,
 * instants ISO strings.
 */
export const fileEventTypes = [
  "CREATED",
  "PROGRESS",
  "UPLOADED",
  "FAILED",
  "UPDATED",
  "DELETED",
  "UPLOAD_ABORTED",
] as const;
export type FileEventType = (typeof fileEventTypes)[number];

/**
 * How the bytes of an upload travel: to a signed target (`PUT`, `POST`, `MULTIPART`) or in the
 * createFile request (`FILE` multipart part, base64 `CONTENT`, `SOURCE_URL` import).
 */
export type UploadChannel = "PUT" | "POST" | "MULTIPART" | "FILE" | "CONTENT" | "SOURCE_URL";

/** What is known of the upload an event belongs to (CREATED, PROGRESS, UPLOADED, FAILED, UPLOAD_ABORTED). */
export interface UploadFacts {
  method: UploadChannel;
  /** The storage driver's name ("local", "s3", "azure"). */
  driver: string;
  /** Bytes the server has seen so far (PROGRESS), or the file's size once uploaded. */
  receivedBytes?: number;
  /** The declared or measured size; absent when unknown. */
  totalBytes?: number;
  /** Milliseconds from the upload's start (the file's creation) to this event, for UPLOADED and FAILED. */
  durationMs?: number;
  /** FAILED: the code of the error the client got (UNSUPPORTED_MEDIA_TYPE, UPLOAD_INCOMPLETE…). */
  errorCode?: string;
}

/** A file row with its labels in JSON form: the state after the event (before it, for DELETED and UPLOAD_ABORTED). */
export type FileSnapshot = Omit<File, "size" | "dataSetId" | DateColumn> & {
  size: number | null;
  dataSetId: number | null;
  labels: string[];
} & {
  [K in DateColumn]: File[K] extends Date ? string : string | null;
};

type DateColumn = "sourceCreatedTime" | "sourceModifiedTime" | "createdAt" | "updatedAt" | "uploadedAt" | "expiresAt";

export interface FileEvent {
  /** Unique per event; the webhook-id of its deliveries. */
  id: string;
  type: FileEventType;
  /** ISO-8601. */
  occurredAt: string;
  workspaceId: string;
  file: FileSnapshot;
  upload?: UploadFacts;
}

/** Where events go: the bus (src/events/bus.ts), or nowhere. */
export interface FileEventSink {
  publish(event: FileEvent): void;
}

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

/** A file row in the JSON form events carry. */
function fileSnapshot(file: File & { labels: Pick<FileLabel, "label">[] }): FileSnapshot {
  return {
    ...file,
    size: file.size === null ? null : Number(file.size),
    dataSetId: file.dataSetId === null ? null : Number(file.dataSetId),
    labels: file.labels.map((row) => row.label),
    sourceCreatedTime: iso(file.sourceCreatedTime),
    sourceModifiedTime: iso(file.sourceModifiedTime),
    createdAt: file.createdAt.toISOString(),
    updatedAt: file.updatedAt.toISOString(),
    uploadedAt: iso(file.uploadedAt),
    expiresAt: iso(file.expiresAt),
  };
}

const date = (value: string | null): Date | null => (value === null ? null : new Date(value));

/** The file row an event's snapshot describes, as the GraphQL File type resolves it. */
export function fileOfSnapshot(snapshot: FileSnapshot): File & { labels: Pick<FileLabel, "label">[] } {
  return {
    ...snapshot,
    size: snapshot.size === null ? null : BigInt(snapshot.size),
    dataSetId: snapshot.dataSetId === null ? null : BigInt(snapshot.dataSetId),
    labels: snapshot.labels.map((label) => ({ label })),
    sourceCreatedTime: date(snapshot.sourceCreatedTime),
    sourceModifiedTime: date(snapshot.sourceModifiedTime),
    createdAt: new Date(snapshot.createdAt),
    updatedAt: new Date(snapshot.updatedAt),
    uploadedAt: date(snapshot.uploadedAt),
    expiresAt: date(snapshot.expiresAt),
  };
}

/** A new event about `file`, occurring now. */
export function fileEvent(
  type: FileEventType,
  file: File & { labels: Pick<FileLabel, "label">[] },
  upload?: UploadFacts,
): FileEvent {
  return {
    id: randomUUID(),
    type,
    occurredAt: new Date().toISOString(),
    workspaceId: file.workspaceId,
    file: fileSnapshot(file),
    upload,
  };
}
