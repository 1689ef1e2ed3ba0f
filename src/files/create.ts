/**
 * createFile: the request validated into a FileDraft, then either its bytes streamed in and
 * verified in the request (ingest), or its PENDING row written with an upload target; with
 * `overwrite`, the file holding the externalId changed in place (src/files/overwrite.ts).
 */
import type { Caller } from "../access/caller.js";
import { FileStatus } from "../db/client.js";
import { isUniqueViolation, prismaErrorCode } from "../db/errors.js";
import { fileEvent, type UploadChannel } from "../events/file-event.js";
import { inSpan } from "../telemetry/spans.js";
import { draftFile, type FileDraft, pendingRecord } from "./draft.js";
import { ConflictError } from "./errors.js";
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
import { multipartTarget } from "./multipart.js";
import {
  type FileUpdate,
  type NewContent,
  overwrittenFields,
  releaseBytes,
  swapContent,
  updateFileIn,
} from "./overwrite.js";
import type { ByteMeter } from "./progress.js";
import { fileName, newFileChildren } from "./records.js";
import type { FileServiceParts } from "./service.js";
import { inRequestMismatch, type RecordChange, type VerifiedBytes } from "./settle.js";
import {
  type CreateFileRequest,
  defaultContentType,
  type FileRecord,
  type FileRow,
  type UploadTarget,
} from "./types.js";
import { uploadTarget } from "./upload-target.js";

/** The create path of FileService.createFile; the caller's right to create in the workspace is checked in draftFile. */
export class FileCreator {
  constructor(private readonly options: FileServiceParts) {}

  /** Creates a file as FileService.createFile says. */
  async create(caller: Caller, request: CreateFileRequest): Promise<{ file: FileRecord; upload: UploadTarget | null }> {
    try {
      const source = chooseSource(request, this.options.limits);
      const draft = await draftFile(this.options, caller, request, source);
      const existing = await this.holderOf(draft);
      if (existing !== undefined && !draft.overwrite) throw conflict(draft.row.externalId);
      if (source !== undefined) return { file: await this.ingest(draft, source, existing), upload: null };
      const { file, pending } = await this.insertPending(draft, existing);
      const expiresAt = new Date(Date.now() + this.options.uploadUrlTtl * 1000);
      const upload =
        pending.multipartUploadId === null
          ? await uploadTarget(this.options, pending, expiresAt)
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
    const holder = await this.options.db.file.findUnique({
      where: { workspaceId_externalId: { workspaceId: row.workspaceId, externalId: row.externalId } },
      select: { id: true },
    });
    if (holder === null || !overwrite) return holder?.id;
    const allowed = await this.options.db.file.count({ where: { AND: [{ id: holder.id }, readable] } });
    if (allowed === 0) {
      throw new ConflictError(
        `a file with externalId "${row.externalId}" exists in this workspace and you may not change it`,
      );
    }
    return holder.id;
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
        ? await this.options.storage.createMultipartUpload(storageKey, {
            contentType: row.mimeType ?? defaultContentType,
          })
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
          const file = await this.options.transactions.run(
            workspaceId,
            async (tx, record) => {
              const inserted = await insertNewFile(tx, { ...row, ...pendingColumns, updatedAt: createdAt }, children);
              const written = { ...inserted, labels: labels.map((label) => ({ label })) };
              await record(
                fileEvent(
                  "CREATED",
                  written,
                  this.options.uploadEvents.uploadFacts(written, written.uploadMethod as UploadChannel),
                ),
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
      if (multipartUploadId !== null) await this.options.storage.abortMultipartUpload(storageKey, multipartUploadId);
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
    return this.options.transactions.run(
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
    if (pending !== undefined)
      this.options.uploadEvents.emit("CREATED", pending, this.options.uploadEvents.uploadFacts(pending, channel));
    try {
      const uploaded: RecordChange = (record, file) =>
        record(fileEvent("UPLOADED", file, this.options.uploadEvents.outcome(file, channel, startedAt)));
      return await this.ingestBytes(
        draft,
        source,
        existing,
        pending && this.options.uploadEvents.progressMeter(pending, channel, undefined),
        {
          // The webhook outbox gets CREATED with UPLOADED, when the row is written; live subscribers had CREATED already.
          created: async (record, file) => {
            await record(fileEvent("CREATED", file, this.options.uploadEvents.uploadFacts(file, channel)), {
              live: pending === undefined,
            });
            await uploaded(record, file);
          },
          replaced: uploaded,
        },
      );
    } catch (error) {
      if (pending !== undefined)
        this.options.uploadEvents.emit(
          "FAILED",
          { ...pending, status: "FAILED" },
          this.options.uploadEvents.outcome(pending, channel, startedAt, error),
        );
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
        const measured = await storeInspected(this.options.storage, row.storageKey, opened, {
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
        return this.options.settler.verify(
          { ...declared, storageKey: row.storageKey },
          measured,
          opened.declaredType,
          inRequestMismatch,
        );
      });
    } catch (error) {
      release();
      await this.options.storage.deleteObject(row.storageKey);
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
          return await this.options.settler.insertUploaded(row, labels, verified, record.created);
        } catch (error) {
          // Another request created the file first: overwrite it, or refuse.
          if (!isUniqueViolation(error) || !draft.overwrite) throw error;
          target = await this.holderOf(draft);
          if (target === undefined) throw error;
        }
      }
    } catch (error) {
      await this.options.storage.deleteObject(row.storageKey);
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
    const { file, released } = await this.options.transactions
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
    await releaseBytes(this.options.storage, released);
    return file;
  }
}

/** Changes of one file kept queueing past the transaction's limits. */
const busyOverwriting = () => new ConflictError("the file is busy with other changes; try again");

/** How the bytes of each in-request source travel, as events name it. */
const channelOf: Record<ByteSource["kind"], UploadChannel> = {
  file: "FILE",
  content: "CONTENT",
  sourceUrl: "SOURCE_URL",
};

function conflict(externalId: string | null | undefined): ConflictError {
  return new ConflictError(
    `a file with externalId "${externalId}" already exists in this workspace; pass overwrite: true to replace it`,
  );
}
