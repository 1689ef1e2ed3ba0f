import { randomUUID } from "node:crypto";
import contentDisposition from "content-disposition";
import type { Caller, Role } from "../access/caller.js";
import type { Db } from "../db/client.js";
import { ignoreMissingRow, isUniqueViolation } from "../db/errors.js";
import type { StorageDriver } from "../storage/driver.js";
import {
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  UploadIncompleteError,
  ValidationError,
} from "./errors.js";
import { mustDownloadAsAttachment, sniff } from "./inspect.js";
import { joinParts, multipartTarget } from "./multipart.js";
import { buildFileData, fileName, labelRows } from "./records.js";
import { inspectStoredObject } from "./stored-bytes.js";
import type { CompletedPart, CreateFileRequest, FileLimits, FileRecord, FileRow, UpdateFileRequest, UploadTarget } from "./types.js";
import { checkDeclaredSize, mimeTypeAllowed, validateFileFields } from "./validation.js";

export interface FileServiceOptions {
  db: Db;
  storage: StorageDriver;
  limits: FileLimits;
  /** Seconds a signed upload target stays valid. */
  uploadUrlTtl: number;
  /** Seconds a PENDING file lives before the sweeper removes it. */
  pendingUploadTtl: number;
}

const withLabels = { labels: { select: { label: true } } } as const;

const defaultContentType = "application/octet-stream";

/** Creating, completing, changing and removing files: everything but GraphQL. */
export class FileService {
  constructor(private readonly options: FileServiceOptions) {}

  private get db(): Db {
    return this.options.db;
  }

  private get storage(): StorageDriver {
    return this.options.storage;
  }

  /** The workspace named by internal id or slug, if the caller holds `role` in it. */
  async workspaceFor(caller: Caller, ref: string, role: Role): Promise<string> {
    const workspace = await this.db.workspace.findFirst({
      where: { OR: [{ id: ref }, { slug: ref }] },
      select: { id: true },
    });
    if (workspace === null || !caller.can(workspace.id, role)) {
      throw new NotFoundError(`workspace ${ref} was not found`);
    }
    return workspace.id;
  }

  /** The file with this id, if the caller holds `role` in its workspace. */
  async fileFor(caller: Caller, id: string, role: Role): Promise<FileRecord> {
    const file = await this.db.file.findUnique({ where: { id }, include: withLabels });
    if (file === null || !caller.can(file.workspaceId, role)) {
      throw new NotFoundError(`file ${id} was not found`);
    }
    return file;
  }

  /** Creates a PENDING file and signs where its bytes go. */
  async createFile(caller: Caller, request: CreateFileRequest): Promise<{ file: FileRecord; upload: UploadTarget }> {
    const { limits } = this.options;
    const workspaceId = await this.workspaceFor(caller, request.workspace, "WRITER");
    const fieldErrors = validateFileFields(request, limits, ["input"], { requireName: true });
    if (fieldErrors.length > 0) throw new ValidationError(fieldErrors);
    const tooLarge = checkDeclaredSize(request.size ?? undefined, limits);
    if (tooLarge !== undefined) {
      throw new PayloadTooLargeError(`size is over the largest file accepted (${tooLarge.maxSize} bytes)`, tooLarge.maxSize);
    }
    const method = request.uploadMethod ?? "PUT";
    if (method === "MULTIPART" && request.size == null) {
      throw ValidationError.field(["input", "size"], "size is required for MULTIPART uploads: it decides the parts");
    }
    // A large PUT/POST is refused rather than switched to MULTIPART: the client would then get a
    // target of a shape it did not ask for (parts instead of a url).
    if (method !== "MULTIPART" && request.size != null && request.size > limits.maxSingleUploadBytes) {
      throw new PayloadTooLargeError(
        `a single ${method} upload takes at most ${limits.maxSingleUploadBytes} bytes; use uploadMethod MULTIPART`,
        limits.maxSingleUploadBytes,
      );
    }
    if (request.mimeType != null && !mimeTypeAllowed(request.mimeType, limits.allowedMimeTypes)) {
      throw new UnsupportedMediaTypeError(`files of type ${request.mimeType} are not accepted here`);
    }

    const id = randomUUID();
    const now = Date.now();
    const replaced = await this.claimExternalId(workspaceId, request);
    const data = buildFileData(request);
    const storageKey = `${workspaceId}/${id}`;
    const multipartUploadId =
      method === "MULTIPART"
        ? await this.storage.createMultipartUpload(storageKey, { contentType: request.mimeType ?? defaultContentType })
        : null;
    let file: FileRecord;
    try {
      file = await this.db.file.create({
        data: {
          ...data,
          ...fileName(request.name),
          id,
          workspaceId,
          externalId: replaced === undefined ? data.externalId : null,
          pendingExternalId: replaced === undefined ? null : data.externalId,
          replacesId: replaced ?? null,
          status: "PENDING",
          storageKey,
          uploadMethod: method,
          multipartUploadId,
          expiresAt: new Date(now + this.options.pendingUploadTtl * 1000),
          labels: { create: labelRows(workspaceId, request.labels) },
        },
        include: withLabels,
      });
    } catch (error) {
      if (multipartUploadId !== null) await this.storage.abortMultipartUpload(storageKey, multipartUploadId);
      throw isUniqueViolation(error) ? conflict(request.externalId) : error;
    }
    const expiresAt = new Date(now + this.options.uploadUrlTtl * 1000);
    const upload =
      multipartUploadId === null
        ? await this.uploadTarget(file, expiresAt)
        : await multipartTarget(this.options, file, expiresAt, { uploadId: multipartUploadId, received: [] });
    return { file, upload };
  }

  /**
   * A fresh upload target for a PENDING file the caller may write to, null otherwise. For
   * MULTIPART it lists the parts already received and signs URLs only for the missing ones, so
   * a client that reloads resumes where it stopped.
   */
  async resumeUpload(caller: Caller, file: FileRow): Promise<UploadTarget | null> {
    if (file.status !== "PENDING" || !caller.can(file.workspaceId, "WRITER")) return null;
    return this.uploadTarget(file, new Date(Date.now() + this.options.uploadUrlTtl * 1000));
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
      checksumSha256: file.checksumSha256 ?? undefined,
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
    const file = await this.fileFor(caller, id, "WRITER");
    if (file.status === "UPLOADED") return file;
    if (file.status === "FAILED") throw new UploadIncompleteError(`file ${id} failed and can no longer be completed`);
    if (file.uploadMethod === "MULTIPART") await joinParts(this.options, file, parts);
    const object = await this.storage.headObject(file.storageKey);
    if (object === null) throw new UploadIncompleteError(`no bytes have arrived for file ${id}`);
    const declared = file.size === null ? undefined : Number(file.size);
    if (declared !== undefined && object.size !== declared) {
      await this.storage.deleteObject(file.storageKey);
      throw new UploadIncompleteError(`${object.size} bytes arrived but ${declared} were declared; upload again`);
    }
    const { maxFileBytes } = this.options.limits;
    if (object.size > maxFileBytes) {
      await this.storage.deleteObject(file.storageKey);
      throw new PayloadTooLargeError(`the file is over the largest accepted (${maxFileBytes} bytes)`, maxFileBytes);
    }
    const measured = await inspectStoredObject(this.storage, file.storageKey, object, maxFileBytes);
    if (file.checksumSha256 !== null && measured.sha256 !== file.checksumSha256) {
      await this.storage.deleteObject(file.storageKey);
      throw new UploadIncompleteError("the bytes that arrived do not match checksumSha256; upload again");
    }
    const sniffed = await sniff(measured.head, file.mimeType ?? undefined);
    const mimeType = sniffed.mimeType ?? defaultContentType;
    if (sniffed.executable || !mimeTypeAllowed(mimeType, this.options.limits.allowedMimeTypes)) {
      await this.storage.deleteObject(file.storageKey);
      await this.db.file.updateMany({ where: { id, status: "PENDING" }, data: { status: "FAILED" } });
      throw new UnsupportedMediaTypeError(
        sniffed.executable ? "executable files are not accepted" : `files of type ${mimeType} are not accepted here`,
      );
    }
    return this.markUploaded(file, {
      size: BigInt(measured.size),
      checksumSha256: measured.sha256,
      mimeType,
      width: sniffed.dimensions?.width ?? null,
      height: sniffed.dimensions?.height ?? null,
    });
  }

  /**
   * Marks a verified PENDING file UPLOADED, once even when completions race, and hands it the
   * externalId of the file it replaces, whose row goes in the same transaction.
   */
  private async markUploaded(
    file: FileRecord,
    measured: { size: bigint; checksumSha256: string; mimeType: string; width: number | null; height: number | null },
  ): Promise<FileRecord> {
    const replacedKeys = await this.db.$transaction(async (tx) => {
      const marked = await tx.file.updateMany({
        where: { id: file.id, status: "PENDING" },
        data: { ...measured, status: "UPLOADED", uploadedAt: new Date(), expiresAt: null },
      });
      if (marked.count === 0 || file.pendingExternalId === null) return [];
      const holder = await tx.file.findUnique({
        where: { workspaceId_externalId: { workspaceId: file.workspaceId, externalId: file.pendingExternalId } },
        select: { id: true, storageKey: true },
      });
      if (holder !== null) await tx.file.delete({ where: { id: holder.id } });
      await tx.file.update({
        where: { id: file.id },
        data: { externalId: file.pendingExternalId, pendingExternalId: null, replacesId: null },
      });
      return holder === null ? [] : [holder.storageKey];
    });
    // The old content goes only once the new file holds the externalId.
    await Promise.all(replacedKeys.map((key) => this.storage.deleteObject(key)));
    return this.db.file.findUniqueOrThrow({ where: { id: file.id }, include: withLabels });
  }

  /** Changes a file's name, metadata, labels, directory or description. */
  async updateFile(caller: Caller, request: UpdateFileRequest): Promise<FileRecord> {
    const file = await this.fileFor(caller, request.id, "WRITER");
    const fieldErrors = validateFileFields(request, this.options.limits, ["input"], { requireName: false });
    if (fieldErrors.length > 0) throw new ValidationError(fieldErrors);
    const data = buildFileData(request);
    return this.db.$transaction(async (tx) => {
      if (request.labels != null) {
        await tx.fileLabel.deleteMany({ where: { fileId: file.id } });
        await tx.fileLabel.createMany({ data: labelRows(file.workspaceId, request.labels).map((row) => ({ ...row, fileId: file.id })) });
      }
      return tx.file.update({ where: { id: file.id }, data, include: withLabels });
    });
  }

  /** Removes a file's record and its bytes. */
  async deleteFile(caller: Caller, id: string): Promise<void> {
    const file = await this.fileFor(caller, id, "WRITER");
    await this.db.file.delete({ where: { id: file.id } }).catch(ignoreMissingRow);
    if (file.multipartUploadId !== null) await this.storage.abortMultipartUpload(file.storageKey, file.multipartUploadId);
    await this.storage.deleteObject(file.storageKey);
  }

  /** Removes a PENDING file and any bytes that arrived for it; an uploaded file is not touched. */
  async abortUpload(caller: Caller, id: string): Promise<void> {
    const file = await this.fileFor(caller, id, "WRITER");
    if (file.status === "UPLOADED") throw new NotFoundError(`file ${id} has no upload in progress`);
    const removed = await this.db.file.deleteMany({ where: { id: file.id, status: { not: "UPLOADED" } } });
    if (removed.count === 0) throw new NotFoundError(`file ${id} has no upload in progress`);
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

function conflict(externalId: string | null | undefined): ConflictError {
  return new ConflictError(`a file with externalId "${externalId}" already exists in this workspace; pass overwrite: true to replace it`);
}
