import { randomUUID } from "node:crypto";
import contentDisposition from "content-disposition";
import type { Caller } from "../access/caller.js";
import { type Action, authorize, can } from "../access/policy.js";
import { findReadableWorkspace, readableFiles, readableFilesIn, workspaceOfReadable } from "../access/readable.js";
import type { Db, Prisma } from "../db/client.js";
import { isUniqueViolation } from "../db/errors.js";
import type { StorageDriver } from "../storage/driver.js";
import {
  ConflictError,
  FileError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  UploadIncompleteError,
  ValidationError,
} from "./errors.js";
import { chooseSource, drainUnread, ingestError, openBytes, sourceLimit, storeInspected, type ByteSource } from "./ingest.js";
import { mustDownloadAsAttachment } from "./inspect.js";
import { type FileFilter, type FileOrder, type FilePage, listFiles, type PageRequest } from "./listing.js";
import { joinParts, multipartTarget } from "./multipart.js";
import { ancestorRows, buildFileData, fileName, labelRows, newFileChildren, withLabels } from "./records.js";
import { completeMismatch, inRequestMismatch, type RecordChange, UploadSettler, type VerifiedBytes } from "./settle.js";
import type { Sha256Source } from "./sha256.js";
import { inSpan } from "../telemetry/spans.js";
import { type FileEvent, type FileEventSink, type FileEventType, fileEvent, type UploadChannel, type UploadFacts } from "../events/file-event.js";
import { writeOutbox } from "../events/outbox.js";
import { type ByteMeter, ProgressThrottle } from "./progress.js";
import { inspectStoredObject } from "./stored-bytes.js";
import {
  defaultContentType,
  type CompletedPart,
  type CreateFileRequest,
  type FileLimits,
  type FileRecord,
  type FileRow,
  type UpdateFileRequest,
  type UploadMethod,
  type UploadTarget,
} from "./types.js";
import { checkDeclaredSize, mimeTypeAllowed, validateFileFields } from "./validation.js";

export interface FileServiceOptions {
  db: Db;
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
  /** Where the file events go (src/events/bus.ts). */
  events: FileEventSink;
  /** Milliseconds between two PROGRESS events of one upload; 0: no PROGRESS events. */
  progressIntervalMs: number;
  /**
   * Whether upload targets point at this server (the local driver's signed URLs), which then
   * counts PROGRESS as bytes arrive; otherwise PROGRESS comes from the parts a MULTIPART upload
   * lists when a client asks for its target again.
   */
  seesUploadBytes: boolean;
  /** Called once a change that wrote webhook deliveries has committed (the worker delivers them at once). */
  outboxWritten?: () => void;
}

/** A validated create request: its row's columns (no status yet), labels, and the file whose externalId it takes over. */
interface FileDraft {
  row: ReturnType<typeof buildFileData> &
    ReturnType<typeof fileName> & { id: string; workspaceId: string; storageKey: string; uploadMethod: UploadMethod };
  labels: string[];
  /** With overwrite: the id of the file currently holding the externalId. */
  replaced: string | undefined;
}

/** Creating, completing, changing and removing files: everything but GraphQL. */
export class FileService {
  private readonly settler: UploadSettler;
  private readonly progress: ProgressThrottle;

  constructor(private readonly options: FileServiceOptions) {
    this.settler = new UploadSettler(options);
    this.progress = new ProgressThrottle(options.progressIntervalMs);
  }

  /**
   * The one place events leave the service: every event names its file as the change left it
   * (as it was, for DELETED and UPLOAD_ABORTED).
   */
  private emit(type: FileEventType, file: FileRecord, upload?: UploadFacts): void {
    this.options.events.publish(fileEvent(type, file, upload));
  }

  /**
   * Runs a change whose events must not be lost: `record` writes an event to the webhook outbox
   * in the change's transaction, and the events recorded are published once it has committed
   * (all but those marked `live: false`, already published as they happened).
   */
  private async recorded<T>(change: (record: (tx: Prisma.TransactionClient, event: FileEvent, live?: boolean) => Promise<void>) => Promise<T>): Promise<T> {
    const committed: FileEvent[] = [];
    let deliveries = 0;
    const result = await change(async (tx, event, live = true) => {
      deliveries += await writeOutbox(tx, event);
      if (live) committed.push(event);
    });
    for (const event of committed) this.options.events.publish(event);
    if (deliveries > 0) this.options.outboxWritten?.();
    return result;
  }

  /** What an event of `file`'s upload says of it: how the bytes travel, where to, how many. */
  private uploadFacts(file: FileRow, channel: UploadChannel, extra: Omit<UploadFacts, "method" | "driver"> = {}): UploadFacts {
    return { method: channel, driver: this.storage.name, ...(file.size === null ? {} : { totalBytes: Number(file.size) }), ...extra };
  }

  /** The facts of an upload that ended now: its duration from `startedAt`, and the error code if it failed. */
  private outcome(file: FileRow, channel: UploadChannel, startedAt: Date, error?: unknown): UploadFacts {
    const durationMs = Date.now() - startedAt.getTime();
    if (error === undefined) return this.uploadFacts(file, channel, { durationMs, receivedBytes: Number(file.size ?? 0) });
    return this.uploadFacts(file, channel, { durationMs, errorCode: error instanceof FileError ? error.code : "INTERNAL" });
  }

  /**
   * A meter for a body arriving at the local driver's signed URL `storageKey` (part
   * `partNumber` of a MULTIPART upload, or a PUT/POST), reporting PROGRESS; undefined when
   * progress is off or the key is no PENDING file's.
   */
  async meterUpload(storageKey: string, partNumber: number | undefined): Promise<ByteMeter | undefined> {
    if (!this.progress.enabled) return undefined;
    // Keys are `<workspace id>/<file id>` (prepareCreate).
    const id = storageKey.slice(storageKey.lastIndexOf("/") + 1);
    const file = await this.db.file.findUnique({ where: { id }, include: withLabels });
    if (file === null || file.storageKey !== storageKey || file.status !== "PENDING") return undefined;
    return this.progressMeter(file, file.uploadMethod as UploadChannel, partNumber);
  }

  private progressMeter(file: FileRecord, channel: UploadChannel, partNumber: number | undefined): ByteMeter | undefined {
    if (!this.progress.enabled) return undefined;
    return this.progress.meter(file.id, partNumber, (receivedBytes) =>
      this.emit("PROGRESS", file, this.uploadFacts(file, channel, { receivedBytes })),
    );
  }

  private get db(): Db {
    return this.options.db;
  }

  private get storage(): StorageDriver {
    return this.options.storage;
  }

  /**
   * The workspace named by internal id or slug, if the caller may do `action` in it. One it
   * cannot read is NotFoundError, never a hint that it exists; one it can read but not act in is
   * ForbiddenError (src/access/policy.ts).
   */
  private async workspaceFor(caller: Caller, ref: string, action: Action): Promise<string> {
    const workspace = await findReadableWorkspace(this.db, caller, ref);
    const notFound = () => new NotFoundError(`workspace ${ref} was not found`);
    if (workspace === null) throw notFound();
    authorize(caller, action, workspace, notFound);
    return workspace.id;
  }

  /** The file with this id, if the caller may do `action` to it (NotFoundError or ForbiddenError otherwise). */
  async fileFor(caller: Caller, id: string, action: Action): Promise<FileRecord> {
    const file = await this.db.file.findFirst({ where: { AND: [{ id }, readableFiles(caller)] }, include: withLabels });
    const notFound = () => new NotFoundError(`file ${id} was not found`);
    if (file === null) throw notFound();
    authorize(caller, action, workspaceOfReadable(caller, file), notFound);
    return file;
  }

  /** The file with this id if the caller can read it, else null. */
  async file(caller: Caller, id: string): Promise<FileRecord | null> {
    return this.db.file.findFirst({ where: { AND: [{ id }, readableFiles(caller)] }, include: withLabels });
  }

  /** The file with this externalId in a workspace the caller can read, else null. */
  async fileByExternalId(caller: Caller, workspaceRef: string, externalId: string): Promise<FileRecord | null> {
    const workspace = await findReadableWorkspace(this.db, caller, workspaceRef);
    if (workspace === null) return null;
    return this.db.file.findFirst({ where: { AND: [{ externalId }, readableFilesIn(caller, workspace)] }, include: withLabels });
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
    return listFiles(this.db, { id: workspace.id, readable: readableFilesIn(caller, workspace) }, filter, order, page);
  }

  /**
   * Creates a file. Without bytes in the request it is PENDING and the result says where to send
   * them; with `file`, `content` or `sourceUrl` the bytes are streamed in, verified, and the file
   * is UPLOADED (upload null). A failed in-request upload leaves nothing behind: no row, no bytes.
   */
  async createFile(caller: Caller, request: CreateFileRequest): Promise<{ file: FileRecord; upload: UploadTarget | null }> {
    try {
      const source = chooseSource(request, this.options.limits);
      const draft = await this.prepareCreate(caller, request, source);
      if (source !== undefined) return { file: await this.ingest(draft, source), upload: null };
      const file = await this.insertPending(draft);
      const expiresAt = new Date(Date.now() + this.options.uploadUrlTtl * 1000);
      const upload =
        file.multipartUploadId === null
          ? await this.uploadTarget(file, expiresAt)
          : await multipartTarget(this.options, file, expiresAt, { uploadId: file.multipartUploadId, received: [] });
      return { file, upload };
    } finally {
      drainUnread(request.file);
    }
  }

  /** Validates a create request and resolves what its row will hold; writes nothing. */
  private async prepareCreate(caller: Caller, request: CreateFileRequest, source: ByteSource | undefined): Promise<FileDraft> {
    const { limits } = this.options;
    const workspaceId = await this.workspaceFor(caller, request.workspace, "file:create");
    const fieldErrors = validateFileFields(request, limits, ["input"], { requireName: true });
    if (fieldErrors.length > 0) throw new ValidationError(fieldErrors);
    const tooLarge = checkDeclaredSize(request.size ?? undefined, limits);
    if (tooLarge !== undefined) {
      throw new PayloadTooLargeError(`size is over the largest file accepted (${tooLarge.maxSize} bytes)`, tooLarge.maxSize);
    }
    const method = request.uploadMethod ?? "PUT";
    if (source !== undefined) {
      const limit = sourceLimit(source, undefined, limits);
      if (request.size != null && request.size > limit) {
        throw new PayloadTooLargeError(`a file sent as ${source.kind} takes at most ${limit} bytes`, limit);
      }
    } else if (!this.storage.capabilities.uploadMethods.includes(method)) {
      const available = this.storage.capabilities.uploadMethods.join(", ");
      throw ValidationError.field(
        ["input", "uploadMethod"],
        `uploadMethod ${method} is not available with this deployment's ${this.storage.name} storage; use one of ${available}`,
      );
    } else if (method === "MULTIPART" && request.size == null) {
      throw ValidationError.field(["input", "size"], "size is required for MULTIPART uploads: it decides the parts");
    } else if (method !== "MULTIPART" && request.size != null && request.size > limits.maxSingleUploadBytes) {
      // A large PUT/POST is refused rather than switched to MULTIPART: the client would then get
      // a target of a shape it did not ask for (parts instead of a url).
      throw new PayloadTooLargeError(
        `a single ${method} upload takes at most ${limits.maxSingleUploadBytes} bytes; use uploadMethod MULTIPART`,
        limits.maxSingleUploadBytes,
      );
    }
    if (request.mimeType != null && !mimeTypeAllowed(request.mimeType, limits.allowedMimeTypes)) {
      throw new UnsupportedMediaTypeError(`files of type ${request.mimeType} are not accepted here`);
    }

    const id = randomUUID();
    const replaced = await this.claimExternalId(workspaceId, request);
    const storageKey = `${workspaceId}/${id}`;
    const row = { ...buildFileData(request), ...fileName(request.name), id, workspaceId, storageKey, uploadMethod: method };
    return { row, labels: labelRows(workspaceId, request.labels).map(({ label }) => label), replaced };
  }

  /** Inserts the PENDING row of a file whose bytes will come to an upload target. */
  private async insertPending({ row, labels, replaced }: FileDraft): Promise<FileRecord> {
    const { storageKey, workspaceId } = row;
    const multipartUploadId =
      row.uploadMethod === "MULTIPART"
        ? await this.storage.createMultipartUpload(storageKey, { contentType: row.mimeType ?? defaultContentType })
        : null;
    const createdAt = new Date();
    try {
      // The row comes back from the INSERT itself and its labels are the ones just written,
      // where `include` would add two SELECTs.
      const data = {
        ...row,
        externalId: replaced === undefined ? row.externalId : null,
        pendingExternalId: replaced === undefined ? null : row.externalId,
        replacesId: replaced ?? null,
        status: "PENDING",
        multipartUploadId,
        createdAt,
        expiresAt: new Date(createdAt.getTime() + this.options.pendingUploadTtl * 1000),
        ...newFileChildren(workspaceId, labels, row.directory, createdAt),
      };
      return await this.recorded((record) =>
        this.db.$transaction(async (tx) => {
          const file = { ...(await tx.file.create({ data })), labels: labels.map((label) => ({ label })) };
          await record(tx, fileEvent("CREATED", file, this.uploadFacts(file, file.uploadMethod as UploadChannel)));
          return file;
        }),
      );
    } catch (error) {
      if (multipartUploadId !== null) await this.storage.abortMultipartUpload(storageKey, multipartUploadId);
      throw isUniqueViolation(error) ? conflict(row.externalId) : error;
    }
  }

  /**
   * Streams an in-request source into the store, verifies it as completeUpload would, and only
   * then writes the file's row, UPLOADED: one INSERT, where a PENDING row would need an INSERT
   * and an UPDATE. The object is written while it is hashed and sniffed, and verified from those
   * measurements without reading it again. On any failure the object is removed and no row exists.
   */
  private async ingest(draft: FileDraft, source: ByteSource): Promise<FileRecord> {
    const channel = channelOf[source.kind];
    const startedAt = new Date();
    const pending = pendingRecord(draft, startedAt);
    this.emit("CREATED", pending, this.uploadFacts(pending, channel));
    try {
      // The webhook outbox gets CREATED with UPLOADED, when the row is written; live subscribers had CREATED already.
      return await this.recorded((record) =>
        this.ingestBytes(draft, source, this.progressMeter(pending, channel, undefined), async (tx, file) => {
          await record(tx, fileEvent("CREATED", file, this.uploadFacts(file, channel)), false);
          await record(tx, fileEvent("UPLOADED", file, this.outcome(file, channel, startedAt)));
        }),
      );
    } catch (error) {
      this.emit("FAILED", { ...pending, status: "FAILED" }, this.outcome(pending, channel, startedAt, error));
      throw error;
    }
  }

  private async ingestBytes(
    { row, labels, replaced }: FileDraft,
    source: ByteSource,
    meter: ByteMeter | undefined,
    record: RecordChange,
  ): Promise<FileRecord> {
    const declaredSize = row.size == null ? undefined : Number(row.size);
    const maxBytes = sourceLimit(source, declaredSize, this.options.limits);
    const { allowedHosts, timeoutMs } = this.options.sourceUrl;
    let release = (): void => undefined;
    let verified: VerifiedBytes;
    try {
      const opened = await openBytes(source, maxBytes, { allowedHosts, timeoutMs, maxBytes });
      release = opened.release;
      const contentType = row.mimeType ?? opened.declaredType ?? defaultContentType;
      verified = await inSpan("upload.ingest", { "file.id": row.id, "upload.source": source.kind }, async () => {
        const measured = await storeInspected(this.storage, row.storageKey, opened, { maxBytes, contentType, sha256: this.options.sha256, meter });
        const declared = { size: row.size ?? null, checksumSha256: row.checksumSha256 ?? null, mimeType: row.mimeType ?? null };
        return this.settler.verify({ ...declared, storageKey: row.storageKey }, measured, opened.declaredType, inRequestMismatch);
      });
    } catch (error) {
      release();
      await this.storage.deleteObject(row.storageKey);
      throw ingestError(error, maxBytes);
    }
    try {
      return await this.settler.insertUploaded(row, labels, verified, replaced !== undefined, record);
    } catch (error) {
      throw isUniqueViolation(error) ? conflict(row.externalId) : error;
    }
  }

  /**
   * A fresh upload target for a PENDING file the caller may write to, null otherwise. For
   * MULTIPART it lists the parts already received and signs URLs only for the missing ones, so
   * a client that reloads resumes where it stopped.
   */
  async resumeUpload(caller: Caller, file: FileRecord): Promise<UploadTarget | null> {
    if (file.status !== "PENDING" || !can(caller, "upload:sign", workspaceOfReadable(caller, file))) return null;
    const target = await this.uploadTarget(file, new Date(Date.now() + this.options.uploadUrlTtl * 1000));
    // Bytes that go straight to the store pass no meter here: the parts it lists are their progress.
    if (!this.options.seesUploadBytes && this.progress.enabled && target.receivedParts.length > 0) {
      const receivedBytes = target.receivedParts.reduce((sum, part) => sum + part.size, 0);
      this.emit("PROGRESS", file, this.uploadFacts(file, "MULTIPART", { receivedBytes }));
    }
    return target;
  }

  /**
   * With `overwrite`, an existing file keeps its externalId until the new upload completes:
   * returns the id of the file to replace then. Without, an existing externalId is a conflict.
   */
  private async claimExternalId(workspaceId: string, request: CreateFileRequest): Promise<string | undefined> {
    if (request.externalId == null) return undefined;
    const existing = await this.db.file.findUnique({
      where: { workspaceId_externalId: { workspaceId, externalId: request.externalId } },
      select: { id: true },
    });
    if (existing === null) return undefined;
    if (!request.overwrite) throw conflict(request.externalId);
    return existing.id;
  }

  private async uploadTarget(file: FileRow, expiresAt: Date): Promise<UploadTarget> {
    if (file.uploadMethod === "MULTIPART") return multipartTarget(this.options, file, expiresAt);
    const { limits } = this.options;
    const size = file.size === null ? undefined : Number(file.size);
    const maxSize = size ?? Math.min(limits.maxSingleUploadBytes, limits.maxFileBytes);
    const method = file.uploadMethod === "POST" ? "POST" : "PUT";
    const signed = await this.storage.signUpload({
      key: file.storageKey,
      method,
      contentType: file.mimeType ?? defaultContentType,
      maxSize,
      exactSize: size,
      // Bound where the store verifies it on arrival; everywhere, completeUpload checks it.
      checksumSha256: this.storage.capabilities.checksumBinding ? (file.checksumSha256 ?? undefined) : undefined,
      expiresAt,
    });
    return { method, ...signed, parts: [], receivedParts: [], partSize: null, expiresAt, maxSize };
  }

  /**
   * Verifies the bytes that arrived for a PENDING file and marks it UPLOADED. An UPLOADED file
   * is returned unchanged. Bytes that fail a check are deleted so the client can upload again.
   * A MULTIPART upload is first joined from `parts`; the joined object is verified like any other.
   */
  async completeUpload(caller: Caller, id: string, parts?: CompletedPart[] | null): Promise<FileRecord> {
    const file = await this.fileFor(caller, id, "upload:complete");
    if (file.status === "UPLOADED") return file;
    if (file.status === "FAILED") throw new UploadIncompleteError(`file ${id} failed and can no longer be completed`);
    if (file.uploadMethod === "MULTIPART") await joinParts(this.options, file, parts);
    const object = await this.storage.headObject(file.storageKey);
    if (object === null) throw new UploadIncompleteError(`no bytes have arrived for file ${id}`);
    const channel = file.uploadMethod as UploadChannel;
    this.progress.forget(file.id);
    try {
      // The stored size alone can already rule the bytes out, without reading them.
      await this.settler.checkSize(file, object.size, completeMismatch);
      return await this.recorded((record) =>
        inSpan("upload.verify", { "file.id": file.id, "upload.size": object.size }, async () => {
          const measured = await inspectStoredObject(this.storage, file.storageKey, object, this.options.limits.maxFileBytes, this.options.sha256);
          return this.settler.settle(file, measured, completeMismatch, (tx, uploaded) =>
            record(tx, fileEvent("UPLOADED", uploaded, this.outcome(uploaded, channel, file.createdAt))),
          );
        }),
      );
    } catch (error) {
      // The bytes were refused and deleted: FAILED. The file stays PENDING for another upload,
      // unless it was refused for its type (an executable, a type not allowed): then it is FAILED.
      if (!(error instanceof FileError)) throw error;
      const status = error instanceof UnsupportedMediaTypeError ? "FAILED" : file.status;
      await this.recorded((record) =>
        this.db.$transaction(async (tx) => {
          if (status === "FAILED") await tx.file.updateMany({ where: { id: file.id, status: "PENDING" }, data: { status } });
          await record(tx, fileEvent("FAILED", { ...file, status }, this.outcome(file, channel, file.createdAt, error)));
        }),
      );
      throw error;
    }
  }

  /** Changes a file's name, metadata, labels, directory or description. */
  async updateFile(caller: Caller, request: UpdateFileRequest): Promise<FileRecord> {
    const file = await this.fileFor(caller, request.id, "file:update");
    const fieldErrors = validateFileFields(request, this.options.limits, ["input"], { requireName: false });
    if (fieldErrors.length > 0) throw new ValidationError(fieldErrors);
    const data = buildFileData(request);
    return this.recorded((record) => this.db.$transaction(async (tx) => {
      if (request.labels != null) {
        await tx.fileLabel.deleteMany({ where: { fileId: file.id } });
        await tx.fileLabel.createMany({ data: labelRows(file.workspaceId, request.labels).map((row) => ({ ...row, fileId: file.id })) });
      }
      if (data.directory !== undefined) {
        await tx.fileAncestor.deleteMany({ where: { fileId: file.id } });
        await tx.fileAncestor.createMany({
          data: ancestorRows(file.workspaceId, data.directory, file.createdAt).map((row) => ({ ...row, fileId: file.id })),
        });
      }
      const changed = await tx.file.update({ where: { id: file.id }, data, include: withLabels });
      await record(tx, fileEvent("UPDATED", changed));
      return changed;
    }));
  }

  /** Removes a file's record and its bytes. */
  async deleteFile(caller: Caller, id: string): Promise<void> {
    const file = await this.fileFor(caller, id, "file:delete");
    await this.recorded((record) =>
      this.db.$transaction(async (tx) => {
        const removed = await tx.file.deleteMany({ where: { id: file.id } });
        if (removed.count === 1) await record(tx, fileEvent("DELETED", file));
      }),
    );
    this.progress.forget(file.id);
    if (file.multipartUploadId !== null) await this.storage.abortMultipartUpload(file.storageKey, file.multipartUploadId);
    await this.storage.deleteObject(file.storageKey);
  }

  /** Removes a PENDING file and any bytes that arrived for it; an uploaded file is not touched. */
  async abortUpload(caller: Caller, id: string): Promise<void> {
    const file = await this.fileFor(caller, id, "upload:abort");
    if (file.status === "UPLOADED") throw new NotFoundError(`file ${id} has no upload in progress`);
    await this.recorded((record) =>
      this.db.$transaction(async (tx) => {
        const removed = await tx.file.deleteMany({ where: { id: file.id, status: { not: "UPLOADED" } } });
        if (removed.count === 0) throw new NotFoundError(`file ${id} has no upload in progress`);
        await record(tx, fileEvent("UPLOAD_ABORTED", file, this.uploadFacts(file, file.uploadMethod as UploadChannel)));
      }),
    );
    this.progress.forget(file.id);
    if (file.multipartUploadId !== null) await this.storage.abortMultipartUpload(file.storageKey, file.multipartUploadId);
    await this.storage.deleteObject(file.storageKey);
  }

  /** A signed, expiring URL for an uploaded file's bytes; null until it is uploaded. */
  async downloadUrl(file: Pick<FileRecord, "status" | "storageKey" | "mimeType" | "name">, expiresIn: number): Promise<string | null> {
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

/** How the bytes of each in-request source travel, as events name it. */
const channelOf: Record<ByteSource["kind"], UploadChannel> = { file: "FILE", content: "CONTENT", sourceUrl: "SOURCE_URL" };

/** The file an in-request upload is creating, as it would be read while its bytes arrive (it has no row yet). */
function pendingRecord({ row, labels }: FileDraft, createdAt: Date): FileRecord {
  return {
    ...row,
    mimeType: row.mimeType ?? null,
    size: row.size ?? null,
    checksumSha256: row.checksumSha256 ?? null,
    externalId: row.externalId ?? null,
    directory: row.directory ?? null,
    description: row.description ?? null,
    source: row.source ?? null,
    metadata: row.metadata ?? "{}",
    scope: row.scope ?? "WORKSPACE",
    entityId: row.entityId ?? null,
    sessionId: row.sessionId ?? null,
    sourceCreatedTime: row.sourceCreatedTime ?? null,
    sourceModifiedTime: row.sourceModifiedTime ?? null,
    status: "PENDING",
    width: null,
    height: null,
    multipartUploadId: null,
    replacesId: null,
    pendingExternalId: null,
    createdAt,
    updatedAt: createdAt,
    uploadedAt: null,
    expiresAt: null,
    labels: labels.map((label) => ({ label })),
  };
}

function conflict(externalId: string | null | undefined): ConflictError {
  return new ConflictError(`a file with externalId "${externalId}" already exists in this workspace; pass overwrite: true to replace it`);
}
