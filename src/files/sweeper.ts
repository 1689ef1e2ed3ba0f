import type { Logger } from "pino";
import type { Db } from "../db/client.js";
import { type FileEventSink, fileEvent, type UploadChannel } from "../events/file-event.js";
import { webhooksOf, writeOutbox } from "../events/outbox.js";
import type { StorageDriver } from "../storage/driver.js";
import { withLabels } from "./records.js";

export interface PendingSweeperOptions {
  db: Db;
  storage: StorageDriver;
  logger: Logger;
  /** Told of each upload removed (UPLOAD_ABORTED, error code EXPIRED). */
  events: FileEventSink;
  /** Milliseconds between sweeps. */
  intervalMs?: number;
  /** Files removed per batch. */
  batchSize?: number;
}

/**
 * A write's temporary bytes untouched this long belong to no live upload: the server cuts a
 * connection idle for minutes (src/main.ts), so a process that died mid-write left them.
 */
const abandonedAfterMs = 24 * 3600 * 1000;

/**
 * Removes files that were never uploaded once they pass their expiry, with their bytes.
 * Every instance may run one: a row is removed by exactly one of them (the conditional delete),
 * and removing bytes twice is harmless.
 */
export class PendingSweeper {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PendingSweeperOptions) {}

  start(): void {
    const interval = this.options.intervalMs ?? 60_000;
    this.timer = setInterval(() => {
      this.sweep().catch((error: unknown) => this.options.logger.error({ err: error }, "sweeping expired uploads failed"));
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
    await storage.removeAbandoned?.(new Date(now.getTime() - abandonedAfterMs));
    const expired = await db.file.findMany({
      where: { status: { not: "UPLOADED" }, expiresAt: { lt: now } },
      include: withLabels,
      take: this.options.batchSize ?? 100,
    });
    let removed = 0;
    for (const file of expired) {
      const upload = { method: file.uploadMethod as UploadChannel, driver: storage.name, errorCode: "EXPIRED" };
      const event = fileEvent("UPLOAD_ABORTED", file, upload);
      const webhooks = await webhooksOf(db, file.workspaceId);
      const deleted = await db.$transaction(async (tx) => {
        const gone = await tx.file.deleteMany({ where: { id: file.id, status: { not: "UPLOADED" }, expiresAt: { lt: now } } });
        if (gone.count === 1) await writeOutbox(tx, event, webhooks);
        return gone.count === 1;
      });
      if (!deleted) continue;
      removed += 1;
      this.options.events.publish(event);
      if (file.multipartUploadId !== null) await storage.abortMultipartUpload(file.storageKey, file.multipartUploadId);
      await storage.deleteObject(file.storageKey);
    }
    return removed;
  }
}
