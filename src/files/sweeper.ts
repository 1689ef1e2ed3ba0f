import type { Logger } from "pino";
import type { Db, Provider } from "../db/client.js";
import { type FileEventSink, fileEvent, type UploadChannel } from "../events/file-event.js";
import { OutboxTransactions } from "../events/outbox.js";
import type { StorageDriver } from "../storage/driver.js";
import { fileIdOfKey } from "./keys.js";
import { withLabels } from "./records.js";

export interface PendingSweeperOptions {
  db: Db;
  /** Which database: on PostgreSQL one instance at a time reconciles (an advisory lock). */
  provider: Provider;
  storage: StorageDriver;
  logger: Logger;
  /** PENDING_UPLOAD_TTL in milliseconds: staged bytes of a file still pending are never abandoned. */
  pendingUploadTtlMs: number;
  /** Told of each upload removed (UPLOAD_ABORTED, error code EXPIRED), under its file's id. */
  events: FileEventSink;
  /** Called once a removal that wrote webhook deliveries has committed (the worker delivers them at once). */
  outboxWritten?: () => void;
  /** Milliseconds between sweeps. */
  intervalMs?: number;
  /** Milliseconds between reconciliations of the store with the rows (each lists the whole store). */
  reconcileIntervalMs?: number;
  /** Files removed per batch, and UPLOADED files checked for their object per reconciliation. */
  batchSize?: number;
  /** Told what each sweep and reconciliation did (the metrics). */
  observer?: SweepObserver;
}

/** What the sweeper reports after each run. */
export interface SweepObserver {
  /** Expired uploads this instance removed in one sweep. */
  swept(removed: number): void;
  reconciled(result: Reconciliation): void;
}

/** What one reconciliation did; `ran` is false when another instance held the lock. */
export interface Reconciliation {
  ran: boolean;
  /** Objects no row names, deleted. */
  orphansDeleted: number;
  /** UPLOADED files whose object was gone, marked FAILED. */
  missingObjects: number;
  /** Multipart uploads no pending file owns, aborted. */
  uploadsAborted: number;
}

/**
 * A write's temporary bytes untouched a day belong to no live write: the server cuts a connection
 * idle for minutes (src/main.ts), so a process that died mid-write left them. Bytes staged for a
 * pending upload (Azure) are kept while their file may still be completed (`abandonedAfterMs`).
 */
const dayMs = 24 * 3600 * 1000;

/**
 * Objects and multipart uploads younger than this are left alone by the reconciliation: bytes
 * sent in a createFile request are stored a moment before their row is written.
 */
const orphanGraceMs = 15 * 60 * 1000;

/** The advisory lock the reconciling instance holds on PostgreSQL (any constant of our own). */
const reconcileLockKey = 0x66_69_6c_65;

/**
 * Removes files that were never uploaded once they pass their expiry, with their bytes, and
 * reconciles the store with the rows both ways: objects no row names are deleted, UPLOADED rows
 * whose object is gone are marked FAILED and reported, multipart uploads no pending file owns are
 * aborted. Every instance may run one: a row is removed by exactly one of them (the conditional
 * delete), removing bytes twice is harmless, and on PostgreSQL one instance at a time reconciles.
 */
export class PendingSweeper {
  private timer: NodeJS.Timeout | undefined;
  private lastReconciled = 0;
  /** Where the check of UPLOADED files for their object goes on from (ids in order, wrapping). */
  private checkedUpTo = "";

  private readonly transactions: OutboxTransactions;
  /** A day, or longer when a pending upload may live longer (PENDING_UPLOAD_TTL, plus the grace). */
  private readonly abandonedAfterMs: number;

  constructor(private readonly options: PendingSweeperOptions) {
    this.transactions = new OutboxTransactions(options);
    this.abandonedAfterMs = Math.max(dayMs, options.pendingUploadTtlMs + orphanGraceMs);
  }

  start(): void {
    const interval = this.options.intervalMs ?? 60_000;
    this.timer = setInterval(() => {
      this.sweep().catch((error: unknown) =>
        this.options.logger.error({ err: error }, "sweeping expired uploads failed"),
      );
      if (Date.now() - this.lastReconciled >= (this.options.reconcileIntervalMs ?? 3600_000)) {
        this.lastReconciled = Date.now();
        this.reconcile().catch((error: unknown) =>
          this.options.logger.error({ err: error }, "reconciling the store with the files failed"),
        );
      }
    }, interval);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Removes one batch of expired files, and the storage's leftovers of writes abandoned more than
   * a day ago; returns how many files this instance removed.
   */
  async sweep(now = new Date()): Promise<number> {
    const { db, storage } = this.options;
    await storage.removeAbandoned?.(new Date(now.getTime() - this.abandonedAfterMs));
    const expired = await db.file.findMany({
      where: { status: { not: "UPLOADED" }, expiresAt: { lt: now } },
      include: withLabels,
      take: this.options.batchSize ?? 100,
    });
    let removed = 0;
    for (const file of expired) {
      const upload = { method: file.uploadMethod as UploadChannel, driver: storage.name, errorCode: "EXPIRED" };
      const deleted = await this.transactions.run(file.workspaceId, async (tx, record) => {
        const gone = await tx.file.deleteMany({
          where: { id: file.id, status: { not: "UPLOADED" }, expiresAt: { lt: now } },
        });
        if (gone.count === 0) return false;
        // An overwrite's pending upload is part of its file: the event names the file, which stays.
        const subject =
          file.pendingForId === null
            ? file
            : await tx.file.findUnique({ where: { id: file.pendingForId }, include: withLabels });
        if (subject !== null) await record(fileEvent("UPLOAD_ABORTED", subject, upload));
        return true;
      });
      if (!deleted) continue;
      removed += 1;
      if (file.multipartUploadId !== null) await storage.abortMultipartUpload(file.storageKey, file.multipartUploadId);
      await storage.deleteObject(file.storageKey);
    }
    this.options.observer?.swept(removed);
    return removed;
  }

  /** One reconciliation of the store with the rows (see the class); `now` decides what is old enough. */
  async reconcile(now = new Date()): Promise<Reconciliation> {
    const work = async (): Promise<Reconciliation> => {
      const before = new Date(now.getTime() - orphanGraceMs);
      const result = {
        ran: true,
        orphansDeleted: await this.step("orphan objects", () => this.deleteOrphans(before)),
        uploadsAborted: await this.step("orphan multipart uploads", () => this.abortOrphanUploads(before)),
        missingObjects: await this.step("missing objects", () => this.markMissingObjects()),
      };
      if (result.orphansDeleted + result.uploadsAborted > 0)
        this.options.logger.info(result, "reconciled the store with the files");
      this.options.observer?.reconciled(result);
      return result;
    };
    if (this.options.provider !== "postgresql") return work();
    // The lock lives as long as this transaction, which only holds it: the work uses the pool.
    return this.options.db.$transaction(
      async (tx) => {
        const [row] = await tx.$queryRaw<
          { locked: boolean }[]
        >`SELECT pg_try_advisory_xact_lock(${reconcileLockKey}) AS locked`;
        return row?.locked === true ? work() : { ran: false, orphansDeleted: 0, missingObjects: 0, uploadsAborted: 0 };
      },
      { timeout: 30 * 60_000 },
    );
  }

  /** One part of a reconciliation: its failure (a store without the listing) is logged, and the others still run. */
  private async step(name: string, run: () => Promise<number>): Promise<number> {
    try {
      return await run();
    } catch (error) {
      this.options.logger.warn({ err: error, step: name }, `reconciling ${name} failed`);
      return 0;
    }
  }

  /**
   * Deletes objects written before `before` that no row names, and staged uploads (bytes a signed
   * PUT or POST stored, `uploadFor`) whose key no PENDING row names: after completion, abort or
   * delete, a still-valid URL may stage bytes again, which nothing serves; returns how many.
   */
  private async deleteOrphans(before: Date): Promise<number> {
    const { db, storage } = this.options;
    if (storage.listObjects === undefined) return 0;
    let deleted = 0;
    for await (const page of storage.listObjects()) {
      // Keys not of our making are not ours to judge.
      const old = page.filter(
        (object) => object.lastModified < before && fileIdOfKey(object.uploadFor ?? object.key) !== undefined,
      );
      const keys = old.flatMap((object) => (object.uploadFor === undefined ? [object.key] : []));
      const stagedFor = old.flatMap((object) => (object.uploadFor === undefined ? [] : [object.uploadFor]));
      // A file's content, its pending upload's, or a kept version's (an overwrite moves keys between rows).
      const [files, versions, pending] = await Promise.all([
        db.file.findMany({ where: { storageKey: { in: keys } }, select: { storageKey: true } }),
        db.fileVersion.findMany({ where: { storageKey: { in: keys } }, select: { storageKey: true } }),
        db.file.findMany({ where: { storageKey: { in: stagedFor }, status: "PENDING" }, select: { storageKey: true } }),
      ]);
      const owned = new Set([...files, ...versions].map((row) => row.storageKey));
      const waiting = new Set(pending.map((row) => row.storageKey));
      for (const object of old) {
        if (object.uploadFor === undefined ? owned.has(object.key) : waiting.has(object.uploadFor)) continue;
        await storage.deleteObject(object.key);
        this.options.logger.warn({ storageKey: object.key }, "deleted an object no file names");
        deleted += 1;
      }
    }
    return deleted;
  }

  /** Aborts multipart uploads begun before `before` that no pending file owns; returns how many. */
  private async abortOrphanUploads(before: Date): Promise<number> {
    const { db, storage } = this.options;
    if (storage.listMultipartUploads === undefined) return 0;
    let aborted = 0;
    for await (const page of storage.listMultipartUploads()) {
      for (const upload of page) {
        const id = fileIdOfKey(upload.key);
        if (id === undefined || upload.initiated >= before) continue;
        const owner = await db.file.count({
          where: { id, storageKey: upload.key, multipartUploadId: upload.uploadId, status: "PENDING" },
        });
        if (owner > 0) continue;
        await storage.abortMultipartUpload(upload.key, upload.uploadId);
        aborted += 1;
      }
    }
    return aborted;
  }

  /**
   * Checks the next batch of UPLOADED files for their object (a rolling window over the ids, so
   * every file is checked in turn without one sweep heading every object); marks those whose
   * object is gone FAILED, with an error in the log and a count in the metrics.
   */
  private async markMissingObjects(): Promise<number> {
    const { db, storage, logger } = this.options;
    const batch = await db.file.findMany({
      where: { status: "UPLOADED", id: { gt: this.checkedUpTo } },
      orderBy: { id: "asc" },
      select: { id: true, storageKey: true },
      take: this.options.batchSize ?? 100,
    });
    this.checkedUpTo = batch.length < (this.options.batchSize ?? 100) ? "" : (batch.at(-1)?.id ?? "");
    let missing = 0;
    for (const file of batch) {
      if ((await storage.headObject(file.storageKey)) !== null) continue;
      // Only while the row still names the object looked for: an overwrite may have moved it to new content.
      const marked = await db.file.updateMany({
        where: { id: file.id, status: "UPLOADED", storageKey: file.storageKey },
        data: { status: "FAILED", updatedAt: new Date() },
      });
      if (marked.count === 0) continue;
      // Deleted or overwritten meanwhile, the file has no row left to mark: only a lost object is reported.
      logger.error(
        { fileId: file.id, storageKey: file.storageKey },
        "an uploaded file's bytes are missing from the store: marked FAILED",
      );
      missing += 1;
    }
    return missing;
  }
}
