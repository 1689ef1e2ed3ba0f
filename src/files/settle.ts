import { type Db, FileStatus } from "../db/client.js";
import type { OutboxTransactions, RecordEvent } from "../events/outbox.js";
import type { StorageDriver } from "../storage/driver.js";
import type { InspectedBytes } from "./byte-inspector.js";
import {
  type FileError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  UploadIncompleteError,
  ValidationError,
} from "./errors.js";
import { hasChildren, insertNewFile, type NewFile, updateFileFrom } from "./file-writes.js";
import { mimeTypeAllowed } from "./mime.js";
import { newFileChildren, withLabels } from "./records.js";
import { sniff } from "./sniff.js";
import { defaultContentType, type FileLimits, type FileRecord } from "./types.js";

/** Records the events of a change to `file` (as the change left it) in the change's transaction. */
export type RecordChange = (record: RecordEvent, file: FileRecord) => Promise<void>;

/** Turns a mismatch between declared and received bytes into the error the caller's operation reports. */
export type MismatchError = (field: "size" | "checksumSha256", message: string) => FileError;

/** In createFile the client's own fields were wrong: a ValidationError on that field. */
export const inRequestMismatch: MismatchError = (field, message) => ValidationError.field(["input", field], message);
/** At completeUpload the upload can be retried: UploadIncompleteError. */
export const completeMismatch: MismatchError = (_field, message) =>
  new UploadIncompleteError(`${message}; upload again`);

/** What the bytes of an upload were found to be once they passed every check. */
export interface VerifiedBytes {
  size: bigint;
  checksumSha256: string;
  mimeType: string;
  width: number | null;
  height: number | null;
}

/** The columns verification compares the bytes with: what the client declared, and where the bytes are. */
export type DeclaredFile = Pick<FileRecord, "size" | "checksumSha256" | "mimeType" | "storageKey">;

/** A row for bytes that arrived in the createFile request, written once they are verified. */
export type NewFileRow = Omit<
  NewFile,
  keyof VerifiedBytes | "status" | "createdAt" | "updatedAt" | "uploadedAt" | "expiresAt"
>;

/**
 * How every upload path ends, whether the bytes came to a signed target (completeUpload) or in
 * the createFile request: the measurements are checked, then the PENDING file is marked UPLOADED
 * or, for bytes in the request, its row is written.
 */
export class UploadSettler {
  constructor(
    private readonly options: {
      db: Db;
      storage: StorageDriver;
      limits: FileLimits;
      transactions: OutboxTransactions;
    },
  ) {}

  private get db(): Db {
    return this.options.db;
  }

  private get storage(): StorageDriver {
    return this.options.storage;
  }

  /** Deletes the bytes and throws when `size` is not the declared size or is over the file limit. */
  async checkSize(file: DeclaredFile, size: number, mismatch: MismatchError): Promise<void> {
    const declared = file.size === null ? undefined : Number(file.size);
    const { maxFileBytes } = this.options.limits;
    if (declared !== undefined && size !== declared) {
      await this.storage.deleteObject(file.storageKey);
      throw mismatch("size", `${size} bytes arrived but ${declared} were declared`);
    }
    if (size > maxFileBytes) {
      await this.storage.deleteObject(file.storageKey);
      throw new PayloadTooLargeError(`the file is over the largest accepted (${maxFileBytes} bytes)`, maxFileBytes);
    }
  }

  /**
   * The one verification every upload path goes through, from the measurements of the stored
   * bytes: size and checksum against what was declared, executable and MIME allow-list checks on
   * the sniffed type, image dimensions. Bytes that fail a check are deleted and the check's error
   * is thrown.
   */
  async verify(
    file: DeclaredFile,
    measured: InspectedBytes,
    typeHint: string | undefined,
    mismatch: MismatchError,
  ): Promise<VerifiedBytes> {
    await this.checkSize(file, measured.size, mismatch);
    if (file.checksumSha256 != null && measured.sha256 !== file.checksumSha256) {
      await this.storage.deleteObject(file.storageKey);
      throw mismatch("checksumSha256", "the bytes that arrived do not match checksumSha256");
    }
    const sniffed = await sniff(measured.head, file.mimeType ?? typeHint);
    const mimeType = sniffed.mimeType ?? defaultContentType;
    if (sniffed.executable || !mimeTypeAllowed(mimeType, this.options.limits.allowedMimeTypes)) {
      await this.storage.deleteObject(file.storageKey);
      throw new UnsupportedMediaTypeError(
        sniffed.executable ? "executable files are not accepted" : `files of type ${mimeType} are not accepted here`,
      );
    }
    return {
      size: BigInt(measured.size),
      checksumSha256: measured.sha256,
      mimeType,
      width: sniffed.dimensions?.width ?? null,
      height: sniffed.dimensions?.height ?? null,
    };
  }

  /**
   * Writes the UPLOADED row of bytes verified in the createFile request, and its events, in one
   * transaction. The caller removes the bytes when it fails.
   */
  async insertUploaded(
    row: NewFileRow,
    labels: string[],
    verified: VerifiedBytes,
    recordChange: RecordChange,
  ): Promise<FileRecord> {
    const now = new Date();
    const columns = {
      ...row,
      ...verified,
      status: FileStatus.UPLOADED,
      createdAt: now,
      uploadedAt: now,
      updatedAt: now,
      expiresAt: null,
    };
    // The row comes back from its INSERT (one raw statement: src/files/file-writes.ts), and its
    // labels are the ones just written. Without child rows, and with no webhook delivery to write
    // beside it, that INSERT runs alone, outside an interactive transaction (OutboxTransactions).
    const children = newFileChildren(row.workspaceId, { ...row, labels }, now);
    return this.options.transactions.run(
      row.workspaceId,
      async (tx, record) => {
        const file = { ...(await insertNewFile(tx, columns, children)), labels: labels.map((label) => ({ label })) };
        await recordChange(record, file);
        return file;
      },
      undefined,
      { oneStatement: !hasChildren(children) },
    );
  }

  /**
   * Marks a verified PENDING file UPLOADED, once even when completions race, with its events in
   * the same transaction. Returns the file as it now is, built from what was written rather than
   * read back; the one that loses a race reads the winner's row (and records nothing).
   */
  async markUploaded(file: FileRecord, measured: VerifiedBytes, recordChange: RecordChange): Promise<FileRecord> {
    const now = new Date();
    const uploaded = { ...measured, status: FileStatus.UPLOADED, uploadedAt: now, updatedAt: now, expiresAt: null };
    const marked = await this.options.transactions.run(
      file.workspaceId,
      async (tx, record) => {
        const changed = await updateFileFrom(tx, file.id, FileStatus.PENDING, uploaded);
        if (changed) await recordChange(record, { ...file, ...uploaded });
        return changed;
      },
      undefined,
      { oneStatement: true },
    );
    return marked ? { ...file, ...uploaded } : this.current(file.id);
  }

  /** The file as another completion left it; NotFoundError when it was deleted meanwhile. */
  private async current(id: string): Promise<FileRecord> {
    const file = await this.db.file.findUnique({ where: { id }, include: withLabels });
    if (file === null) throw new NotFoundError(`file ${id} was deleted while it was being completed`);
    return file;
  }
}
