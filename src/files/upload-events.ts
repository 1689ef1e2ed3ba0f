import { type FileEventType, fileEvent, type UploadChannel, type UploadFacts } from "../events/file-event.js";
import { FileError } from "./errors.js";
import { type ByteMeter, ProgressThrottle } from "./progress.js";
import type { FileServiceOptions } from "./service.js";
import type { FileRecord, FileRow } from "./types.js";

/** What the events of an upload say of it (how its bytes travel, how many, how it ended), and its PROGRESS. */
export class UploadEvents {
  /** The progress of the uploads this instance sees. */
  readonly progress: ProgressThrottle;

  constructor(
    private readonly options: Pick<FileServiceOptions, "events" | "storage" | "progressIntervalMs" | "sharedProgress">,
  ) {
    this.progress = new ProgressThrottle(options.progressIntervalMs, options.sharedProgress);
  }

  /**
   * Publishes an event live only, as it happens (PROGRESS, and an in-request upload's CREATED
   * and FAILED, of a file with no row yet); events of a change are recorded in its transaction
   * (OutboxTransactions). Every event names its file as the change left it (as it was, for
   * DELETED and UPLOAD_ABORTED).
   */
  emit(type: FileEventType, file: FileRecord, upload?: UploadFacts): void {
    this.options.events.publish(fileEvent(type, file, upload));
  }

  /** What an event of `file`'s upload says of it: how the bytes travel, where to, how many. */
  uploadFacts(file: FileRow, channel: UploadChannel, extra: Omit<UploadFacts, "method" | "driver"> = {}): UploadFacts {
    return {
      method: channel,
      driver: this.options.storage.name,
      ...(file.size === null ? {} : { totalBytes: Number(file.size) }),
      ...extra,
    };
  }

  /** The facts of an upload that ended now: its duration from `startedAt`, and the error code if it failed. */
  outcome(file: FileRow, channel: UploadChannel, startedAt: Date, error?: unknown): UploadFacts {
    const durationMs = Date.now() - startedAt.getTime();
    if (error === undefined)
      return this.uploadFacts(file, channel, { durationMs, receivedBytes: Number(file.size ?? 0) });
    return this.uploadFacts(file, channel, {
      durationMs,
      errorCode: error instanceof FileError ? error.code : "INTERNAL",
    });
  }

  /** A meter reporting the PROGRESS of `file`, whose bytes are `upload`'s (the file itself, or an overwrite's pending upload). */
  progressMeter(
    file: FileRecord,
    channel: UploadChannel,
    partNumber: number | undefined,
    upload: FileRow = file,
  ): ByteMeter | undefined {
    if (!this.progress.enabled) return undefined;
    const event = (receivedBytes: number) =>
      fileEvent("PROGRESS", file, this.uploadFacts(upload, channel, { receivedBytes }));
    return this.progress.meter(file.id, partNumber, {
      report: (receivedBytes) => this.options.events.publish(event(receivedBytes)),
      event,
    });
  }
}
