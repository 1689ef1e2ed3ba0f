import contentDisposition from "content-disposition";
import type { Caller } from "../access/caller.js";
import { type Action, authorize, can } from "../access/policy.js";
import {
  canReadFile,
  findReadableWorkspace,
  hiddenFilesIn,
  readableFilesIn,
  workspaceOfReadable,
} from "../access/readable.js";
import type { Db, FileVersion, Provider } from "../db/client.js";
import { type FileEventSink, fileEvent, type UploadChannel } from "../events/file-event.js";
import { OutboxTransactions } from "../events/outbox.js";
import type { StorageDriver } from "../storage/driver.js";
import { UploadCompleter } from "./complete.js";
import { FileCreator } from "./create.js";
import { mustDownloadAsAttachment } from "./disposition.js";
import { NotFoundError, ValidationError } from "./errors.js";
import { type FileInWorkspace, pendingUploadOf, readFileById } from "./file-reads.js";
import { fileIdOfKey } from "./keys.js";
import { type FileOrder, type FilePage, listFiles, type PageRequest } from "./listing.js";
import type { FileFilter } from "./listing-filter.js";
import { releaseBytes, updateFileIn } from "./overwrite.js";
import type { ByteMeter, SharedPartCounts } from "./progress.js";
import { buildFileData, withLabels } from "./records.js";
import { UploadSettler } from "./settle.js";
import type { Sha256Source } from "./sha256.js";
import {
  type CompletedPart,
  type CreateFileRequest,
  defaultContentType,
  type FileLimits,
  type FileRecord,
  type FileRow,
  type UpdateFileRequest,
  type UploadTarget,
} from "./types.js";
import { UploadEvents } from "./upload-events.js";
import { uploadTarget } from "./upload-target.js";
import { validateFileFields } from "./validation.js";

export interface FileServiceOptions {
  db: Db;
  /** The database `db` opens (the listing's spatial index differs between them). */
  provider: Provider;
  storage: StorageDriver;
  limits: FileLimits;
  /** Seconds a signed upload target stays valid. */
  uploadUrlTtl: number;
  /** Seconds a PENDING file lives before the sweeper removes it. */
  pendingUploadTtl: number;
  /** How `sourceUrl` imports are fetched. */
  sourceUrl: { allowedHosts: string[]; timeoutMs: number };
  /** Where the SHA-256 of incoming and stored bytes is computed. */
  sha256: Sha256Source;
  /** How many replaced contents of a file keep their bytes (FILE_VERSIONS_KEPT). */
  versionsKept: number;
  /** Where the file events go (src/events/bus.ts). */
  events: FileEventSink;
  /** Milliseconds between two PROGRESS events of one upload; 0: no PROGRESS events. */
  progressIntervalMs: number;
  /** Where MULTIPART part counts are summed across instances (Redis); without it, per instance. */
  sharedProgress?: SharedPartCounts;
  /**
   * Whether upload targets point at this server (the local driver's signed URLs), which then
   * counts PROGRESS as bytes arrive; otherwise PROGRESS comes from the parts a MULTIPART upload
   * lists when a client asks for its target again.
   */
  seesUploadBytes: boolean;
  /** Called once a change that wrote webhook deliveries has committed (the worker delivers them at once). */
  outboxWritten?: () => void;
}

/** The service's options and what it builds from them, shared with the create and complete paths. */
export interface FileServiceParts extends FileServiceOptions {
  /** Every change with events runs in one of these (src/events/outbox.ts). */
  transactions: OutboxTransactions;
  settler: UploadSettler;
  uploadEvents: UploadEvents;
}

/** Creating, completing, changing and removing files: everything but GraphQL. */
export class FileService {
  private readonly transactions: OutboxTransactions;
  private readonly uploadEvents: UploadEvents;
  private readonly creator: FileCreator;
  private readonly completer: UploadCompleter;

  constructor(private readonly options: FileServiceOptions) {
    this.transactions = new OutboxTransactions(options);
    this.uploadEvents = new UploadEvents(options);
    const settler = new UploadSettler({ ...options, transactions: this.transactions });
    const shared = { ...options, transactions: this.transactions, settler, uploadEvents: this.uploadEvents };
    this.creator = new FileCreator(shared);
    this.completer = new UploadCompleter(shared);
  }

  /**
   * Whether a body may still arrive at the local driver's signed URL for `key` (with `part`, that
   * part of that MULTIPART upload; see `openUploadOf`), and if so a meter reporting its PROGRESS
   * (undefined when progress is off): one read of the upload answers both.
   */
  async openUpload(
    key: string,
    part?: { uploadId: string; partNumber: number },
  ): Promise<{ meter: ByteMeter | undefined } | null> {
    const upload = await this.openUploadOf(key, part?.uploadId);
    if (upload === null) return null;
    if (!this.uploadEvents.progress.enabled) return { meter: undefined };
    // An overwrite's pending upload: its progress is the file's.
    const file =
      upload.pendingForId === null ? upload : ((await readFileById(this.db, upload.pendingForId))?.file ?? null);
    const channel = upload.uploadMethod as UploadChannel;
    return {
      meter: file === null ? undefined : this.uploadEvents.progressMeter(file, channel, part?.partNumber, upload),
    };
  }

  private get db(): Db {
    return this.options.db;
  }

  private get storage(): StorageDriver {
    return this.options.storage;
  }

  /** The file with this id, if the caller may do `action` to it (NotFoundError or ForbiddenError otherwise). */
  async fileFor(caller: Caller, id: string, action: Action): Promise<FileRecord> {
    const found = await this.readable(caller, id);
    const notFound = () => new NotFoundError(`file ${id} was not found`);
    if (found === null) throw notFound();
    const { file, workspacePublic } = found;
    authorize(caller, action, { id: file.workspaceId, public: workspacePublic }, notFound);
    return file;
  }

  /** The file with this id if the caller can read it, else null. */
  async file(caller: Caller, id: string): Promise<FileRecord | null> {
    return (await this.readable(caller, id))?.file ?? null;
  }

  /** The file with this id and its workspace's public flag, if the caller can read it. */
  private async readable(caller: Caller, id: string): Promise<FileInWorkspace | null> {
    const found = await readFileById(this.db, id);
    return found !== null && canReadFile(caller, found.file, found.workspacePublic) ? found : null;
  }

  /** The file with this externalId in a workspace the caller can read, else null. */
  async fileByExternalId(caller: Caller, workspaceRef: string, externalId: string): Promise<FileRecord | null> {
    const workspace = await findReadableWorkspace(this.db, caller, workspaceRef);
    if (workspace === null) return null;
    return this.db.file.findFirst({
      where: { AND: [{ externalId }, readableFilesIn(caller, workspace)] },
      include: withLabels,
    });
  }

  /** A page of the files the caller can read in a workspace; NotFoundError when it cannot read the workspace. */
  async listFiles(
    caller: Caller,
    workspaceRef: string,
    filter: FileFilter | null | undefined,
    order: FileOrder | null | undefined,
    page: PageRequest,
  ): Promise<FilePage> {
    const workspace = await findReadableWorkspace(this.db, caller, workspaceRef);
    if (workspace === null) throw new NotFoundError(`workspace ${workspaceRef} was not found`);
    return listFiles(
      this.db,
      this.options.provider,
      {
        id: workspace.id,
        readable: readableFilesIn(caller, workspace),
        hiddenFiles: () => hiddenFilesIn(this.db, caller, workspace),
      },
      filter,
      order,
      page,
    );
  }

  /**
   * Creates a file. Without bytes in the request it is PENDING and the result says where to send
   * them; with `file`, `content` or `sourceUrl` the bytes are streamed in, verified, and the file
   * is UPLOADED (upload null). A failed in-request upload leaves nothing behind: no row, no bytes.
   */
  async createFile(
    caller: Caller,
    request: CreateFileRequest,
  ): Promise<{ file: FileRecord; upload: UploadTarget | null }> {
    return this.creator.create(caller, request);
  }

  /**
   * A fresh upload target for a PENDING file the caller may write to, null otherwise. For
   * MULTIPART it lists the parts already received and signs URLs only for the missing ones, so
   * a client that reloads resumes where it stopped.
   */
  async resumeUpload(caller: Caller, file: FileRow): Promise<UploadTarget | null> {
    if (file.status !== "PENDING" || !can(caller, "upload:sign", workspaceOfReadable(caller, file))) return null;
    const target = await uploadTarget(this.options, file, new Date(Date.now() + this.options.uploadUrlTtl * 1000));
    // Bytes that go straight to the store pass no meter here: the parts it lists are their progress
    // (an overwrite's pending upload reports as its file).
    if (!this.options.seesUploadBytes && this.uploadEvents.progress.enabled && target.receivedParts.length > 0) {
      const receivedBytes = target.receivedParts.reduce((sum, part) => sum + part.size, 0);
      const subject = await this.db.file.findUnique({
        where: { id: file.pendingForId ?? file.id },
        include: withLabels,
      });
      if (subject !== null)
        this.uploadEvents.emit(
          "PROGRESS",
          subject,
          this.uploadEvents.uploadFacts(file, "MULTIPART", { receivedBytes }),
        );
    }
    return target;
  }

  /**
   * Verifies the bytes that arrived for a PENDING file and marks it UPLOADED. An UPLOADED file
   * is returned unchanged. Bytes that fail a check are deleted so the client can upload again.
   * A MULTIPART upload is first joined from `parts`; the joined object is verified like any other.
   */
  async completeUpload(caller: Caller, id: string, parts?: CompletedPart[] | null): Promise<FileRecord> {
    return this.completer.complete(await this.fileFor(caller, id, "upload:complete"), parts);
  }

  /**
   * The row of the upload a signed upload to `key` (with `multipartUploadId`, to that upload)
   * writes to, if it may still write: only while the file it was issued for is PENDING,
   * unexpired, and this is its current upload; else null. The signed upload routes ask before
   * (`openUpload`) and after (`objectWanted`) writing (src/http/local-storage.ts).
   */
  private async openUploadOf(key: string, multipartUploadId: string | undefined): Promise<FileRecord | null> {
    const id = fileIdOfKey(key);
    if (id === undefined) return null;
    const file = (await readFileById(this.db, id))?.file;
    const open =
      file !== undefined &&
      file.storageKey === key &&
      file.status === "PENDING" &&
      file.expiresAt !== null &&
      file.expiresAt.getTime() > Date.now() &&
      (multipartUploadId === undefined || file.multipartUploadId === multipartUploadId);
    return open ? file : null;
  }

  /**
   * Whether the object just stored under `key` is one a file keeps: its upload's while open, or
   * the content of the file it became (a completion verified it before the PUT answered). Looked
   * up by key, since an overwrite's completion moves the key from its pending row to the file.
   */
  async objectWanted(key: string): Promise<boolean> {
    if ((await this.openUploadOf(key, undefined)) !== null) return true;
    const owner = await this.db.file.findFirst({ where: { storageKey: key }, select: { status: true } });
    return owner?.status === "UPLOADED";
  }

  /** Changes a file's name, metadata, labels, directory or description. */
  async updateFile(caller: Caller, request: UpdateFileRequest): Promise<FileRecord> {
    const file = await this.fileFor(caller, request.id, "file:update");
    const fieldErrors = validateFileFields(request, this.options.limits, ["input"], { requireName: false });
    if (fieldErrors.length > 0) throw new ValidationError(fieldErrors);
    const data = buildFileData(request);
    return this.transactions.run(file.workspaceId, async (tx, record) => {
      const updated = await updateFileIn(tx, file.id, data, request.labels);
      await record(fileEvent("UPDATED", updated));
      return updated;
    });
  }

  /** Removes a file's record and its bytes: its content, its kept versions' and a pending upload's. */
  async deleteFile(caller: Caller, id: string): Promise<void> {
    const file = await this.fileFor(caller, id, "file:delete");
    const [pending, versions] = await Promise.all([
      pendingUploadOf(this.db, file),
      this.db.fileVersion.findMany({
        where: { fileId: file.id, storageKey: { not: null } },
        select: { storageKey: true },
      }),
    ]);
    // The pending upload's row and the versions go with the file's (foreign keys cascade).
    await this.transactions.run(file.workspaceId, async (tx, record) => {
      const removed = await tx.file.deleteMany({ where: { id: file.id } });
      if (removed.count === 1) await record(fileEvent("DELETED", file));
    });
    this.uploadEvents.progress.forget(file.id, (pending ?? file).uploadMethod === "MULTIPART");
    await releaseBytes(this.storage, [
      { key: file.storageKey, multipartUploadId: file.multipartUploadId },
      ...(pending === null ? [] : [{ key: pending.storageKey, multipartUploadId: pending.multipartUploadId }]),
      ...versions.flatMap((version) =>
        version.storageKey === null ? [] : [{ key: version.storageKey, multipartUploadId: null }],
      ),
    ]);
  }

  /**
   * Removes a PENDING file and any bytes that arrived for it; for an uploaded file, its pending
   * upload (an overwrite's new content), keeping the current content. NotFoundError when there is
   * no upload in progress.
   */
  async abortUpload(caller: Caller, id: string): Promise<void> {
    const file = await this.fileFor(caller, id, "upload:abort");
    const noUpload = () => new NotFoundError(`file ${id} has no upload in progress`);
    const pending = await pendingUploadOf(this.db, file);
    const upload = pending ?? (file.status === "UPLOADED" ? null : file);
    if (upload === null) throw noUpload();
    await this.transactions.run(file.workspaceId, async (tx, record) => {
      const removed = await tx.file.deleteMany({ where: { id: upload.id, status: { not: "UPLOADED" } } });
      if (removed.count === 0) throw noUpload();
      // An overwrite's pending upload went: the file stays, with its current content.
      await record(
        fileEvent("UPLOAD_ABORTED", file, this.uploadEvents.uploadFacts(upload, upload.uploadMethod as UploadChannel)),
      );
    });
    this.uploadEvents.progress.forget(file.id, upload.uploadMethod === "MULTIPART");
    await releaseBytes(this.storage, [{ key: upload.storageKey, multipartUploadId: upload.multipartUploadId }]);
  }

  /** A signed, expiring URL for a replaced content's bytes; null once they are no longer kept. */
  async versionDownloadUrl(
    file: Pick<FileRecord, "name">,
    version: FileVersion,
    expiresIn: number,
  ): Promise<string | null> {
    if (version.storageKey === null) return null;
    return this.downloadUrl(
      { status: "UPLOADED", storageKey: version.storageKey, mimeType: version.mimeType, name: file.name },
      expiresIn,
    );
  }

  /** A signed, expiring URL for an uploaded file's bytes; null until it is uploaded. */
  async downloadUrl(
    file: Pick<FileRecord, "status" | "storageKey" | "mimeType" | "name">,
    expiresIn: number,
  ): Promise<string | null> {
    if (file.status !== "UPLOADED") return null;
    const contentType = file.mimeType ?? defaultContentType;
    return this.storage.signDownload({
      key: file.storageKey,
      contentType,
      contentDisposition: contentDisposition(file.name, {
        type: mustDownloadAsAttachment(contentType) ? "attachment" : "inline",
      }),
      expiresAt: new Date(Date.now() + expiresIn * 1000),
    });
  }
}
