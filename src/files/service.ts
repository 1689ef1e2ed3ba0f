import { randomUUID } from "node:crypto";
import contentDisposition from "content-disposition";
import type { Caller } from "../access/caller.js";
import { type Action, authorize, can, type WorkspaceAccess } from "../access/policy.js";
import {
  canReadFile,
  findReadableWorkspace,
  hiddenFilesIn,
  readableFilesIn,
  workspaceOfReadable,
} from "../access/readable.js";
import { type Db, FileStatus, type FileVersion, type Prisma, type Provider } from "../db/client.js";
import { isUniqueViolation, prismaErrorCode } from "../db/errors.js";
import {
  type FileEventSink,
  type FileEventType,
  fileEvent,
  type UploadChannel,
  type UploadFacts,
} from "../events/file-event.js";
import { OutboxTransactions } from "../events/outbox.js";
import { type StagedUpload, type StorageDriver, StorageError } from "../storage/driver.js";
import { inSpan } from "../telemetry/spans.js";
import { mustDownloadAsAttachment } from "./disposition.js";
import {
  ConflictError,
  FileError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  UploadIncompleteError,
  ValidationError,
} from "./errors.js";
import { type FileInWorkspace, readFileById, readPendingUploadOf } from "./file-reads.js";
import { hasChildren, insertNewFile } from "./file-writes.js";
import {
  type ByteSource,
  chooseSource,
  drainUnread,
  ingestError,
  openBytes,
  sourceLimit,
  storeInspected,
} from "./ingest.js";
import { fileIdOfKey, storageKeyOf } from "./keys.js";
import { type FileOrder, type FilePage, listFiles, type PageRequest } from "./listing.js";
import type { FileFilter } from "./listing-filter.js";
import { mimeTypeAllowed } from "./mime.js";
import { joinParts, multipartTarget } from "./multipart.js";
import {
  type FileUpdate,
  type NewContent,
  overwrittenFields,
  type ReleasedBytes,
  swapContent,
  updateFileIn,
} from "./overwrite.js";
import { type ByteMeter, ProgressThrottle } from "./progress.js";
import { buildFileData, fileName, labelRows, newFileChildren, withLabels } from "./records.js";
import { completeMismatch, inRequestMismatch, type RecordChange, UploadSettler, type VerifiedBytes } from "./settle.js";
import type { Sha256Source } from "./sha256.js";
import { inspectStoredObject } from "./stored-bytes.js";
import {
  type CompletedPart,
  type CreateFileRequest,
  defaultContentType,
  type FileLimits,
  type FileRecord,
  type FileRow,
  type UpdateFileRequest,
  type UploadMethod,
  type UploadTarget,
} from "./types.js";
import { checkDeclaredSize, unheldCategoryErrors, validateFileFields } from "./validation.js";

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
  /** The labels when the request gives them (an overwrite keeps the file's labels otherwise). */
  labelsGiven: string[] | undefined;
  /** Whether an existing file with the externalId is to be overwritten rather than refused. */
  overwrite: boolean;
  /** The read filter of the caller in the workspace: an overwritten file must pass it. */
  readable: Prisma.FileWhereInput;
}

/** Creating, completing, changing and removing files: everything but GraphQL. */
export class FileService {
  private readonly settler: UploadSettler;
  private readonly progress: ProgressThrottle;
  /** Every change with events runs in one of these (src/events/outbox.ts). */
  private readonly transactions: OutboxTransactions;

  constructor(private readonly options: FileServiceOptions) {
    this.transactions = new OutboxTransactions(options);
    this.settler = new UploadSettler({ ...options, transactions: this.transactions });
    this.progress = new ProgressThrottle(options.progressIntervalMs);
  }

  /**
   * Publishes an event live only, as it happens (PROGRESS, and an in-request upload's CREATED
   * and FAILED, of a file with no row yet); events of a change are recorded in its transaction
   * (`transactions`). Every event names its file as the change left it (as it was, for DELETED
   * and UPLOAD_ABORTED).
   */
  private emit(type: FileEventType, file: FileRecord, upload?: UploadFacts): void {
    this.options.events.publish(fileEvent(type, file, upload));
  }

  /** What an event of `file`'s upload says of it: how the bytes travel, where to, how many. */
  private uploadFacts(
    file: FileRow,
    channel: UploadChannel,
    extra: Omit<UploadFacts, "method" | "driver"> = {},
  ): UploadFacts {
    return {
      method: channel,
      driver: this.storage.name,
      ...(file.size === null ? {} : { totalBytes: Number(file.size) }),
      ...extra,
    };
  }

  /** The facts of an upload that ended now: its duration from `startedAt`, and the error code if it failed. */
  private outcome(file: FileRow, channel: UploadChannel, startedAt: Date, error?: unknown): UploadFacts {
    const durationMs = Date.now() - startedAt.getTime();
    if (error === undefined)
      return this.uploadFacts(file, channel, { durationMs, receivedBytes: Number(file.size ?? 0) });
    return this.uploadFacts(file, channel, {
      durationMs,
      errorCode: error instanceof FileError ? error.code : "INTERNAL",
    });
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
    if (!this.progress.enabled) return { meter: undefined };
    // An overwrite's pending upload: its progress is the file's.
    const file =
      upload.pendingForId === null ? upload : ((await readFileById(this.db, upload.pendingForId))?.file ?? null);
    const channel = upload.uploadMethod as UploadChannel;
    return { meter: file === null ? undefined : this.progressMeter(file, channel, part?.partNumber, upload) };
  }

  /** A meter reporting the PROGRESS of `file`, whose bytes are `upload`'s (the file itself, or an overwrite's pending upload). */
  private progressMeter(
    file: FileRecord,
    channel: UploadChannel,
    partNumber: number | undefined,
    upload: FileRow = file,
  ): ByteMeter | undefined {
    if (!this.progress.enabled) return undefined;
    return this.progress.meter(file.id, partNumber, (receivedBytes) =>
      this.emit("PROGRESS", file, this.uploadFacts(upload, channel, { receivedBytes })),
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
  private async workspaceFor(caller: Caller, ref: string, action: Action): Promise<WorkspaceAccess> {
    const workspace = await findReadableWorkspace(this.db, caller, ref);
    const notFound = () => new NotFoundError(`workspace ${ref} was not found`);
    if (workspace === null) throw notFound();
    authorize(caller, action, workspace, notFound);
    return workspace;
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
        hiddenFiles: (limit) => hiddenFilesIn(this.db, caller, workspace, limit),
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
    try {
      const source = chooseSource(request, this.options.limits);
      const draft = await this.prepareCreate(caller, request, source);
      const existing = await this.holderOf(draft);
      if (existing !== undefined && !draft.overwrite) throw conflict(draft.row.externalId);
      if (source !== undefined) return { file: await this.ingest(draft, source, existing), upload: null };
      const { file, pending } = await this.insertPending(draft, existing);
      const expiresAt = new Date(Date.now() + this.options.uploadUrlTtl * 1000);
      const upload =
        pending.multipartUploadId === null
          ? await this.uploadTarget(pending, expiresAt)
          : await multipartTarget(this.options, pending, expiresAt, {
              uploadId: pending.multipartUploadId,
              received: [],
            });
      return { file, upload };
    } finally {
      drainUnread(request.file);
    }
  }

  /**
   * The id of the file holding the draft's externalId, if one does. To overwrite it the caller
   * must be able to read it (hold its security categories): a ConflictError otherwise.
   */
  private async holderOf({ row, readable, overwrite }: FileDraft): Promise<string | undefined> {
    if (row.externalId == null) return undefined;
    const holder = await this.db.file.findUnique({
      where: { workspaceId_externalId: { workspaceId: row.workspaceId, externalId: row.externalId } },
      select: { id: true },
    });
    if (holder === null || !overwrite) return holder?.id;
    const allowed = await this.db.file.count({ where: { AND: [{ id: holder.id }, readable] } });
    if (allowed === 0) {
      throw new ConflictError(
        `a file with externalId "${row.externalId}" exists in this workspace and you may not change it`,
      );
    }
    return holder.id;
  }

  /** Validates a create request and resolves what its row will hold; writes nothing. */
  private async prepareCreate(
    caller: Caller,
    request: CreateFileRequest,
    source: ByteSource | undefined,
  ): Promise<FileDraft> {
    const { limits } = this.options;
    const workspace = await this.workspaceFor(caller, request.workspace, "file:create");
    const workspaceId = workspace.id;
    if (request.folderId != null) request = { ...request, directory: await this.folderPath(workspaceId, request) };
    const fieldErrors = validateFileFields(request, limits, ["input"], { requireName: true });
    if (fieldErrors.length > 0) throw new ValidationError(fieldErrors);
    // A caller gives a file only categories it holds: it could not read the file otherwise.
    const unheld = unheldCategoryErrors(request.securityCategories ?? [], caller.categoriesIn(workspaceId), [
      "input",
      "securityCategories",
    ]);
    if (unheld.length > 0) throw new ValidationError(unheld);
    const tooLarge = checkDeclaredSize(request.size ?? undefined, limits);
    if (tooLarge !== undefined) {
      throw new PayloadTooLargeError(
        `size is over the largest file accepted (${tooLarge.maxSize} bytes)`,
        tooLarge.maxSize,
      );
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
    const storageKey = storageKeyOf(workspaceId, id);
    const row = {
      ...buildFileData(request),
      ...fileName(request.name),
      id,
      workspaceId,
      storageKey,
      uploadMethod: method,
    };
    const labels = labelRows(workspaceId, request.labels).map(({ label }) => label);
    return {
      row,
      labels,
      labelsGiven: request.labels === undefined ? undefined : labels,
      overwrite: request.overwrite === true,
      readable: readableFilesIn(caller, workspace),
    };
  }

  /** The path of the folder `folderId` names in the workspace: the file's directory. */
  private async folderPath(workspaceId: string, { folderId, directory }: CreateFileRequest): Promise<string> {
    if (directory != null) {
      throw ValidationError.field(["input", "folderId"], "give folderId or directory, not both");
    }
    const folder = await this.db.folder.findFirst({
      where: { id: folderId ?? "", workspaceId },
      select: { path: true },
    });
    if (folder === null) throw new NotFoundError(`folderId ${folderId} names no folder of this workspace`);
    return folder.path;
  }

  /**
   * Inserts the PENDING row of a file whose bytes will come to an upload target, or, when
   * `existing` is the file to overwrite (or another request creates the file first and the
   * draft overwrites), that file's pending upload: a row holding the new content's upload that
   * the read filter hides, written with the fields' changes to the file in one transaction. A
   * file has at most one pending upload: another is a ConflictError.
   */
  private async insertPending(
    draft: FileDraft,
    existing: string | undefined,
  ): Promise<{ file: FileRecord; pending: FileRow }> {
    const { row, labels } = draft;
    const { storageKey, workspaceId } = row;
    const multipartUploadId =
      row.uploadMethod === "MULTIPART"
        ? await this.storage.createMultipartUpload(storageKey, { contentType: row.mimeType ?? defaultContentType })
        : null;
    const createdAt = new Date();
    const pendingColumns = {
      status: FileStatus.PENDING,
      multipartUploadId,
      createdAt,
      expiresAt: new Date(createdAt.getTime() + this.options.pendingUploadTtl * 1000),
    };
    let target = existing;
    try {
      for (;;) {
        if (target !== undefined) return await this.insertPendingUpload(target, draft, pendingColumns);
        try {
          // The row comes back from the INSERT itself (one raw statement: src/files/file-writes.ts)
          // and its labels are the ones just written, where `include` would add two SELECTs.
          const children = newFileChildren(workspaceId, { ...row, labels }, createdAt);
          const file = await this.transactions.run(
            workspaceId,
            async (tx, record) => {
              const inserted = await insertNewFile(tx, { ...row, ...pendingColumns, updatedAt: createdAt }, children);
              const written = { ...inserted, labels: labels.map((label) => ({ label })) };
              await record(
                fileEvent("CREATED", written, this.uploadFacts(written, written.uploadMethod as UploadChannel)),
              );
              return written;
            },
            undefined,
            { oneStatement: !hasChildren(children) },
          );
          return { file, pending: file };
        } catch (error) {
          // Another request created the file first: overwrite it, or refuse.
          if (!isUniqueViolation(error) || !draft.overwrite) throw error;
          target = await this.holderOf(draft);
          if (target === undefined) throw error;
        }
      }
    } catch (error) {
      if (multipartUploadId !== null) await this.storage.abortMultipartUpload(storageKey, multipartUploadId);
      if (!isUniqueViolation(error)) throw error;
      throw target === undefined
        ? conflict(row.externalId)
        : new ConflictError(
            `an upload of the file with externalId "${row.externalId}" is already pending: complete or abort it first, or send the bytes in the request`,
          );
    }
  }

  /** The pending upload of file `id` (an overwrite), written with the draft's field changes to the file. */
  private async insertPendingUpload(
    id: string,
    { row, labelsGiven }: FileDraft,
    pendingColumns: { status: FileStatus; multipartUploadId: string | null; createdAt: Date; expiresAt: Date },
  ): Promise<{ file: FileRecord; pending: FileRow }> {
    const { size, checksumSha256, mimeType } = row;
    return this.transactions.run(
      row.workspaceId,
      async (tx, record) => {
        const file = await updateFileIn(tx, id, overwrittenFields(row), labelsGiven);
        // The file's fields changed now; its new content is UPLOADED at completeUpload.
        await record(fileEvent("UPDATED", file));
        const pending = await tx.file.create({
          data: {
            id: row.id,
            workspaceId: row.workspaceId,
            ...fileName(file.name),
            storageKey: row.storageKey,
            uploadMethod: row.uploadMethod,
            size,
            checksumSha256,
            mimeType,
            pendingForId: id,
            ...pendingColumns,
          },
        });
        return { file, pending };
      },
      busyOverwriting,
    );
  }

  /**
   * Streams an in-request source into the store, verifies it as completeUpload would, and only
   * then writes: the new file's row, UPLOADED (one INSERT, where a PENDING row would need an
   * INSERT and an UPDATE), or, overwriting `existing` (or a file another request creates first),
   * that file's content and fields in one transaction. The object is written while it is hashed
   * and sniffed, and verified from those measurements without reading it again. On any failure
   * the object is removed and nothing was written.
   */
  private async ingest(draft: FileDraft, source: ByteSource, existing: string | undefined): Promise<FileRecord> {
    const channel = channelOf[source.kind];
    const startedAt = new Date();
    // A new file is announced as its bytes start; an overwritten one once its new content is in.
    const pending = existing === undefined ? pendingRecord(draft, startedAt) : undefined;
    if (pending !== undefined) this.emit("CREATED", pending, this.uploadFacts(pending, channel));
    try {
      const uploaded: RecordChange = (record, file) =>
        record(fileEvent("UPLOADED", file, this.outcome(file, channel, startedAt)));
      return await this.ingestBytes(
        draft,
        source,
        existing,
        pending && this.progressMeter(pending, channel, undefined),
        {
          // The webhook outbox gets CREATED with UPLOADED, when the row is written; live subscribers had CREATED already.
          created: async (record, file) => {
            await record(fileEvent("CREATED", file, this.uploadFacts(file, channel)), { live: pending === undefined });
            await uploaded(record, file);
          },
          replaced: uploaded,
        },
      );
    } catch (error) {
      if (pending !== undefined)
        this.emit("FAILED", { ...pending, status: "FAILED" }, this.outcome(pending, channel, startedAt, error));
      throw error;
    }
  }

  private async ingestBytes(
    draft: FileDraft,
    source: ByteSource,
    existing: string | undefined,
    meter: ByteMeter | undefined,
    record: { created: RecordChange; replaced: RecordChange },
  ): Promise<FileRecord> {
    const { row, labels, labelsGiven } = draft;
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
        const measured = await storeInspected(this.storage, row.storageKey, opened, {
          maxBytes,
          expectedBytes: declaredSize,
          contentType,
          sha256: this.options.sha256,
          meter,
        });
        const declared = {
          size: row.size ?? null,
          checksumSha256: row.checksumSha256 ?? null,
          mimeType: row.mimeType ?? null,
        };
        return this.settler.verify(
          { ...declared, storageKey: row.storageKey },
          measured,
          opened.declaredType,
          inRequestMismatch,
        );
      });
    } catch (error) {
      release();
      await this.storage.deleteObject(row.storageKey);
      throw ingestError(error, maxBytes);
    }
    let target = existing;
    try {
      for (;;) {
        if (target !== undefined) {
          const content = { ...verified, storageKey: row.storageKey, uploadMethod: row.uploadMethod };
          return await this.replaceContent(
            row.workspaceId,
            target,
            content,
            overwrittenFields(row),
            labelsGiven,
            record.replaced,
          );
        }
        try {
          return await this.settler.insertUploaded(row, labels, verified, record.created);
        } catch (error) {
          // Another request created the file first: overwrite it, or refuse.
          if (!isUniqueViolation(error) || !draft.overwrite) throw error;
          target = await this.holderOf(draft);
          if (target === undefined) throw error;
        }
      }
    } catch (error) {
      await this.storage.deleteObject(row.storageKey);
      throw isUniqueViolation(error) ? conflict(row.externalId) : error;
    }
  }

  /**
   * Makes verified bytes the content of file `id`, with the fields `data` sets, in one
   * transaction; the replaced bytes go once it has committed (or stay, as a version).
   */
  private async replaceContent(
    workspaceId: string,
    id: string,
    content: NewContent,
    data: FileUpdate,
    labels: readonly string[] | undefined,
    recordChange: RecordChange,
  ): Promise<FileRecord> {
    const { file, released } = await this.transactions
      .run(
        workspaceId,
        async (tx, record) => {
          const swapped = await swapContent(tx, id, content, data, labels, this.options.versionsKept);
          await recordChange(record, swapped.file);
          return swapped;
        },
        busyOverwriting,
      )
      .catch((error: unknown) => {
        if (prismaErrorCode(error) === "P2025")
          throw new ConflictError(`file ${id} was deleted while it was being overwritten`);
        throw error;
      });
    await this.release(released);
    return file;
  }

  /** Removes bytes no row refers to any more. */
  private async release(released: ReleasedBytes[]): Promise<void> {
    for (const { key, multipartUploadId } of released) {
      if (multipartUploadId !== null) await this.storage.abortMultipartUpload(key, multipartUploadId);
      await this.storage.deleteObject(key);
    }
  }

  /**
   * A fresh upload target for a PENDING file the caller may write to, null otherwise. For
   * MULTIPART it lists the parts already received and signs URLs only for the missing ones, so
   * a client that reloads resumes where it stopped.
   */
  async resumeUpload(caller: Caller, file: FileRow): Promise<UploadTarget | null> {
    if (file.status !== "PENDING" || !can(caller, "upload:sign", workspaceOfReadable(caller, file))) return null;
    const target = await this.uploadTarget(file, new Date(Date.now() + this.options.uploadUrlTtl * 1000));
    // Bytes that go straight to the store pass no meter here: the parts it lists are their progress
    // (an overwrite's pending upload reports as its file).
    if (!this.options.seesUploadBytes && this.progress.enabled && target.receivedParts.length > 0) {
      const receivedBytes = target.receivedParts.reduce((sum, part) => sum + part.size, 0);
      const subject = await this.db.file.findUnique({
        where: { id: file.pendingForId ?? file.id },
        include: withLabels,
      });
      if (subject !== null) this.emit("PROGRESS", subject, this.uploadFacts(file, "MULTIPART", { receivedBytes }));
    }
    return target;
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
    try {
      return await this.completeFound(file, parts);
    } catch (error) {
      // Deleted or aborted while it was being completed: whatever failed (a missing object, a
      // row gone), the answer is that the file is not there, and bytes a join wrote go too.
      if ((await this.db.file.count({ where: { id: file.id } })) > 0) throw error;
      await this.storage.deleteObject(file.storageKey);
      throw new NotFoundError(`file ${id} was deleted while it was being completed`);
    }
  }

  private async completeFound(file: FileRecord, parts: CompletedPart[] | null | undefined): Promise<FileRecord> {
    const { id } = file;
    const pending = await this.pendingUploadOf(file);
    // No pending upload (any more): a completion racing this one may have made it the file's
    // content, in one transaction, between the read of `file` and this one; read the file again so
    // that the answer is its content now (only an overwrite by externalId has a pending upload).
    if (pending === null && file.status === "UPLOADED")
      return file.externalId === null ? file : ((await readFileById(this.db, id))?.file ?? file);
    if (pending === null && file.status === "FAILED")
      throw new UploadIncompleteError(`file ${id} failed and can no longer be completed`);
    const upload = pending ?? file;
    const channel = upload.uploadMethod as UploadChannel;
    this.progress.forget(file.id);
    try {
      const uploaded: RecordChange = (record, done) =>
        record(fileEvent("UPLOADED", done, this.outcome(done, channel, upload.createdAt)));
      if (pending !== null) return await this.completePending(file, pending, parts, uploaded);
      const verified = await inSpan("upload.verify", { "file.id": file.id }, () => this.verifiedUpload(file, parts));
      return await this.settler.markUploaded(file, verified, uploaded);
    } catch (error) {
      if (!(error instanceof FileError)) throw error;
      // The upload failed: refused bytes were deleted, and another upload may follow, unless the
      // bytes were refused for their type (an executable, a type not allowed): then a new file is
      // FAILED, and an overwrite's pending upload ends (completePending).
      const status = error instanceof UnsupportedMediaTypeError && pending === null ? "FAILED" : file.status;
      await this.transactions.run(file.workspaceId, async (tx, record) => {
        if (status !== file.status)
          await tx.file.updateMany({ where: { id: file.id, status: "PENDING" }, data: { status } });
        await record(fileEvent("FAILED", { ...file, status }, this.outcome(upload, channel, upload.createdAt, error)));
      });
      throw error;
    }
  }

  /**
   * The pending upload of a file (an overwrite's new content), if there is one. Only an overwrite
   * by externalId makes one (`insertPendingUpload`), and nothing sets a file's externalId after
   * it is created: a file without one has none, known without a read.
   */
  private async pendingUploadOf(file: FileRecord): Promise<FileRecord | null> {
    if (file.externalId === null) return null;
    return (await readPendingUploadOf(this.db, file.id))?.file ?? null;
  }

  /**
   * Verifies the bytes that arrived for `upload` and puts them where download URLs read: a
   * MULTIPART upload is joined first (the joined object is where they read); what a signed PUT or
   * POST staged is pinned, verified and committed, so bytes a still-valid URL sends meanwhile are
   * never the ones served. Pinned bytes replaced before their commit, or a commit that another
   * completion made first, are looked at again.
   */
  private async verifiedUpload(upload: FileRecord, parts: CompletedPart[] | null | undefined): Promise<VerifiedBytes> {
    if (upload.uploadMethod === "MULTIPART") await joinParts(this.options, upload, parts);
    for (let attempt = 1; ; attempt += 1) {
      const bytes = await this.arrivedBytes(upload);
      if (bytes === null)
        throw new UploadIncompleteError(`no bytes have arrived for file ${upload.pendingForId ?? upload.id}`);
      try {
        // The stored size alone can already rule the bytes out, without reading them.
        await this.settler.checkSize(upload, bytes.info.size, completeMismatch);
        const measured = await inSpan("upload.inspect", { "file.id": upload.id, "upload.size": bytes.info.size }, () =>
          inspectStoredObject(bytes, this.options.limits.maxFileBytes, this.options.sha256),
        );
        const verified = await this.settler.verify(upload, measured, undefined, completeMismatch);
        await bytes.commit();
        return verified;
      } catch (error) {
        const again = error instanceof StorageError && (error.code === "CHANGED" || error.code === "EXISTS");
        if (!again) throw error;
        if (attempt === maxCommitAttempts)
          throw new UploadIncompleteError(
            `the bytes of file ${upload.pendingForId ?? upload.id} kept changing; complete the upload again`,
          );
      }
    }
  }

  /**
   * The bytes to verify for `upload`: its object when it is there (joined, or committed by an
   * earlier completion that did not get to mark the file), else what a signed PUT or POST staged.
   */
  private async arrivedBytes(upload: FileRecord): Promise<StagedUpload | null> {
    const key = upload.storageKey;
    const object = await this.storage.headObject(key);
    if (object !== null)
      return { info: object, read: (range) => this.storage.getObject(key, range), commit: async () => {} };
    return upload.uploadMethod === "MULTIPART" ? null : this.storage.stagedUpload(key);
  }

  /**
   * Verifies the bytes of an overwrite's pending upload and makes them the file's content, in
   * one transaction that also removes the pending upload's row. When completions race, the one
   * that removes the row wins; the others get the file as the winner left it. Bytes refused as
   * an executable or a type not allowed end the pending upload.
   */
  private async completePending(
    file: FileRecord,
    pending: FileRecord,
    parts: CompletedPart[] | null | undefined,
    recordChange: RecordChange,
  ): Promise<FileRecord> {
    const verified = await this.verifiedUpload(pending, parts).catch(async (error: unknown) => {
      if (error instanceof UnsupportedMediaTypeError) await this.db.file.deleteMany({ where: { id: pending.id } });
      throw error;
    });
    const content = { ...verified, storageKey: pending.storageKey, uploadMethod: pending.uploadMethod };
    const outcome = await this.transactions.run(
      file.workspaceId,
      async (tx, record) => {
        const claimed = await tx.file.deleteMany({ where: { id: pending.id } });
        if (claimed.count === 0) return null;
        const swapped = await swapContent(tx, file.id, content, {}, undefined, this.options.versionsKept);
        await recordChange(record, swapped.file);
        return swapped;
      },
      () => new UploadIncompleteError(`file ${file.id} is busy with other changes; complete the upload again`),
    );
    if (outcome === null) return this.db.file.findUniqueOrThrow({ where: { id: file.id }, include: withLabels });
    await this.release(outcome.released);
    return outcome.file;
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
      this.pendingUploadOf(file),
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
    this.progress.forget(file.id);
    await this.release([
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
    const pending = await this.pendingUploadOf(file);
    const upload = pending ?? (file.status === "UPLOADED" ? null : file);
    if (upload === null) throw noUpload();
    await this.transactions.run(file.workspaceId, async (tx, record) => {
      const removed = await tx.file.deleteMany({ where: { id: upload.id, status: { not: "UPLOADED" } } });
      if (removed.count === 0) throw noUpload();
      // An overwrite's pending upload went: the file stays, with its current content.
      await record(fileEvent("UPLOAD_ABORTED", file, this.uploadFacts(upload, upload.uploadMethod as UploadChannel)));
    });
    this.progress.forget(file.id);
    await this.release([{ key: upload.storageKey, multipartUploadId: upload.multipartUploadId }]);
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

/** Times completion pins, verifies and commits bytes that keep being replaced before it gives up. */
const maxCommitAttempts = 3;

/** Changes of one file kept queueing past the transaction's limits. */
const busyOverwriting = () => new ConflictError("the file is busy with other changes; try again");

/** How the bytes of each in-request source travel, as events name it. */
const channelOf: Record<ByteSource["kind"], UploadChannel> = {
  file: "FILE",
  content: "CONTENT",
  sourceUrl: "SOURCE_URL",
};

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
    assetIds: row.assetIds ?? "[]",
    securityCategories: row.securityCategories ?? "[]",
    dataSetId: row.dataSetId ?? null,
    geoLocation: row.geoLocation ?? null,
    geoMinLongitude: row.geoMinLongitude ?? null,
    geoMinLatitude: row.geoMinLatitude ?? null,
    geoMaxLongitude: row.geoMaxLongitude ?? null,
    geoMaxLatitude: row.geoMaxLatitude ?? null,
    status: "PENDING",
    width: null,
    height: null,
    multipartUploadId: null,
    pendingForId: null,
    createdAt,
    updatedAt: createdAt,
    uploadedAt: null,
    expiresAt: null,
    labels: labels.map((label) => ({ label })),
  };
}

function conflict(externalId: string | null | undefined): ConflictError {
  return new ConflictError(
    `a file with externalId "${externalId}" already exists in this workspace; pass overwrite: true to replace it`,
  );
}
