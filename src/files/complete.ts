/**
 * completeUpload: the bytes that arrived at an upload target are joined (MULTIPART), pinned,
 * verified and committed (src/files/settle.ts), then the PENDING file is marked UPLOADED or an
 * overwrite's pending upload becomes its file's content; a failure is recorded as FAILED.
 */
import { fileEvent, type UploadChannel } from "../events/file-event.js";
import { type StagedUpload, StorageError } from "../storage/driver.js";
import { inSpan } from "../telemetry/spans.js";
import { FileError, NotFoundError, UnsupportedMediaTypeError, UploadIncompleteError } from "./errors.js";
import { pendingUploadOf, readFileById } from "./file-reads.js";
import { joinParts } from "./multipart.js";
import { releaseBytes, swapContent } from "./overwrite.js";
import { withLabels } from "./records.js";
import type { FileServiceParts } from "./service.js";
import { completeMismatch, type RecordChange, type VerifiedBytes } from "./settle.js";
import { inspectStoredObject } from "./stored-bytes.js";
import type { CompletedPart, FileRecord } from "./types.js";

/** Completes uploads for FileService, which checks that the caller may before calling it. */
export class UploadCompleter {
  constructor(private readonly options: FileServiceParts) {}

  /** FileService.completeUpload, once the caller may complete the upload of `file`. */
  async complete(file: FileRecord, parts: CompletedPart[] | null | undefined): Promise<FileRecord> {
    try {
      return await this.completeFound(file, parts);
    } catch (error) {
      // Deleted or aborted while it was being completed: whatever failed (a missing object, a
      // row gone), the answer is that the file is not there, and bytes a join wrote go too.
      if ((await this.options.db.file.count({ where: { id: file.id } })) > 0) throw error;
      await this.options.storage.deleteObject(file.storageKey);
      throw new NotFoundError(`file ${file.id} was deleted while it was being completed`);
    }
  }

  private async completeFound(file: FileRecord, parts: CompletedPart[] | null | undefined): Promise<FileRecord> {
    const { id } = file;
    const pending = await pendingUploadOf(this.options.db, file);
    // No pending upload (any more): a completion racing this one may have made it the file's
    // content, in one transaction, between the read of `file` and this one; read the file again so
    // that the answer is its content now (only an overwrite by externalId has a pending upload).
    if (pending === null && file.status === "UPLOADED")
      return file.externalId === null ? file : ((await readFileById(this.options.db, id))?.file ?? file);
    if (pending === null && file.status === "FAILED")
      throw new UploadIncompleteError(`file ${id} failed and can no longer be completed`);
    const upload = pending ?? file;
    const channel = upload.uploadMethod as UploadChannel;
    this.options.uploadEvents.progress.forget(file.id, channel === "MULTIPART");
    try {
      const uploaded: RecordChange = (record, done) =>
        record(fileEvent("UPLOADED", done, this.options.uploadEvents.outcome(done, channel, upload.createdAt)));
      if (pending !== null) return await this.completePending(file, pending, parts, uploaded);
      const verified = await inSpan("upload.verify", { "file.id": file.id }, () => this.verifiedUpload(file, parts));
      return await this.options.settler.markUploaded(file, verified, uploaded);
    } catch (error) {
      if (!(error instanceof FileError)) throw error;
      // The upload failed: refused bytes were deleted, and another upload may follow, unless the
      // bytes were refused for their type (an executable, a type not allowed): then a new file is
      // FAILED, and an overwrite's pending upload ends (completePending).
      const status = error instanceof UnsupportedMediaTypeError && pending === null ? "FAILED" : file.status;
      await this.options.transactions.run(file.workspaceId, async (tx, record) => {
        if (status !== file.status)
          await tx.file.updateMany({ where: { id: file.id, status: "PENDING" }, data: { status } });
        await record(
          fileEvent(
            "FAILED",
            { ...file, status },
            this.options.uploadEvents.outcome(upload, channel, upload.createdAt, error),
          ),
        );
      });
      throw error;
    }
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
        await this.options.settler.checkSize(upload, bytes.info.size, completeMismatch);
        const measured = await inSpan("upload.inspect", { "file.id": upload.id, "upload.size": bytes.info.size }, () =>
          inspectStoredObject(bytes, this.options.limits.maxFileBytes, this.options.sha256),
        );
        const verified = await this.options.settler.verify(upload, measured, undefined, completeMismatch);
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
    const object = await this.options.storage.headObject(key);
    if (object !== null)
      return { info: object, read: (range) => this.options.storage.getObject(key, range), commit: async () => {} };
    return upload.uploadMethod === "MULTIPART" ? null : this.options.storage.stagedUpload(key);
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
      if (error instanceof UnsupportedMediaTypeError)
        await this.options.db.file.deleteMany({ where: { id: pending.id } });
      throw error;
    });
    const content = { ...verified, storageKey: pending.storageKey, uploadMethod: pending.uploadMethod };
    const outcome = await this.options.transactions.run(
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
    if (outcome === null)
      return this.options.db.file.findUniqueOrThrow({ where: { id: file.id }, include: withLabels });
    await releaseBytes(this.options.storage, outcome.released);
    return outcome.file;
  }
}

/** Times completion pins, verifies and commits bytes that keep being replaced before it gives up. */
const maxCommitAttempts = 3;
