import type { FileEvent } from "../events/file-event.js";

/** Counts the bytes of one body as they pass: a signed PUT or POST, one MULTIPART part, or an in-request file. */
export interface ByteMeter {
  /** `bytes` more have arrived. */
  add(bytes: number): void;
  /** The body arrived whole. */
  end(): void;
}

/** Reports an upload's progress: bytes received so far. */
export interface ProgressReporter {
  /** Publishes a PROGRESS event with this count from this instance. */
  report(receivedBytes: number): void;
  /** The PROGRESS event with this count, for a shared store to publish (built when it is sent, not per chunk). */
  event(receivedBytes: number): FileEvent;
}

/**
 * Where every instance keeps the per-part counts of the MULTIPART uploads it receives parts of
 * (Redis, src/events/shared-progress.ts), so that their PROGRESS is the sum over all parts.
 */
export interface SharedPartCounts {
  /**
   * Stores the latest count of these parts of upload `uploadId`, and publishes `event` with the
   * sum over all its parts when that sum is above every count already published for it and at
   * least `intervalMs` has passed since the last publish. Resolves with how long to wait for a
   * report the interval held back (0 when none is due); rejects when the store cannot be reached.
   */
  update(
    uploadId: string,
    parts: [partNumber: number, bytes: number][],
    intervalMs: number,
    event: ProgressReporter["event"],
  ): Promise<number>;
  /** Forgets an upload that completed or went. */
  forget(uploadId: string): void;
  /** Says that updates fail: called on the first failure, and again only after one succeeded. */
  failed(error: unknown): void;
}

interface UploadState {
  reporter: ProgressReporter;
  /** A MULTIPART upload (counted per part), whose counts go to the shared store if there is one. */
  multipart: boolean;
  received: number;
  /** Bytes counted per part (or 0 for a single body), so a part sent again is not counted twice. */
  parts: Map<number, number>;
  /** Parts whose count changed since it was last sent to the shared store. */
  unsent: Set<number>;
  lastReportAt: number;
  lastReported: number;
  touchedAt: number;
  /** The report the interval held back at a part's end, due when the interval has passed. */
  trailing: NodeJS.Timeout | undefined;
}

/** An upload untouched this long is forgotten (its client went away without completing or aborting). */
export const progressIdleMs = 3600 * 1000;

/**
 * Throttles the progress of uploads the server sees: at most one report per `intervalMs` per
 * upload, the first an interval after the upload's first body starts, and never a count lower
 * than one already reported. A single body (signed PUT or POST, in-request bytes) reports when it
 * ends too, without waiting for the interval: one body ends once. A MULTIPART upload's parts may
 * arrive in parallel and again: the count is the sum over its parts of the bytes of each one's
 * latest attempt, and a part's end reports through the throttle, the count the interval held
 * back reported once it has passed (so many parts ending together report at most once per
 * interval, and the last bytes are still reported).
 *
 * With `shared` (REDIS_URL), a MULTIPART upload's part counts go to the shared store at the
 * throttle's pace (never per chunk), which sums them over every instance and publishes at most
 * once per interval across instances; when the store fails, this instance reports its own count.
 * Without it, counts are this instance's.
 */
export class ProgressThrottle {
  private readonly uploads = new Map<string, UploadState>();
  private sharedDown = false;

  constructor(
    private readonly intervalMs: number,
    private readonly shared?: SharedPartCounts,
  ) {}

  /** Whether progress is reported at all (PROGRESS events are off with an interval of 0). */
  get enabled(): boolean {
    return this.intervalMs > 0;
  }

  /**
   * A meter for one body of upload `uploadId`: part `partNumber` of a MULTIPART upload, or the
   * whole body (undefined). A new whole body starts the count again.
   */
  meter(uploadId: string, partNumber: number | undefined, reporter: ProgressReporter): ByteMeter {
    const now = Date.now();
    this.forgetIdle(now);
    let state = this.uploads.get(uploadId);
    if (state === undefined || partNumber === undefined) {
      if (state !== undefined) clearTimeout(state.trailing);
      // The first report comes an interval after the body starts (or when it ends), not with its
      // first chunk: an upload shorter than the interval reports once, not twice in a few milliseconds.
      state = {
        reporter,
        multipart: partNumber !== undefined,
        received: 0,
        parts: new Map(),
        unsent: new Set(),
        lastReportAt: now,
        lastReported: 0,
        touchedAt: now,
        trailing: undefined,
      };
      this.uploads.set(uploadId, state);
    }
    const upload = state;
    const part = partNumber ?? 0;
    upload.received -= upload.parts.get(part) ?? 0;
    upload.parts.set(part, 0);
    if (partNumber !== undefined) upload.unsent.add(part);
    return {
      add: (bytes) => {
        upload.parts.set(part, (upload.parts.get(part) ?? 0) + bytes);
        upload.received += bytes;
        if (partNumber !== undefined) upload.unsent.add(part);
        const at = Date.now();
        upload.touchedAt = at;
        if (at - upload.lastReportAt >= this.intervalMs) this.report(uploadId, upload, at);
      },
      end: () => {
        const at = Date.now();
        if (partNumber === undefined) {
          this.reportOwn(upload, at);
          this.uploads.delete(uploadId);
          return;
        }
        this.reportWhenDue(uploadId, upload, at);
      },
    };
  }

  /** Forgets an upload that completed or went (`multipart`: in the shared store too). */
  forget(uploadId: string, multipart: boolean): void {
    clearTimeout(this.uploads.get(uploadId)?.trailing);
    this.uploads.delete(uploadId);
    if (multipart && this.shared !== undefined) this.shared.forget(uploadId);
  }

  private report(uploadId: string, upload: UploadState, at: number): void {
    const { shared } = this;
    if (shared === undefined || !upload.multipart) {
      this.reportOwn(upload, at);
      return;
    }
    upload.lastReportAt = at;
    const sent = [...upload.unsent];
    upload.unsent.clear();
    shared
      .update(
        uploadId,
        sent.map((part): [number, number] => [part, upload.parts.get(part) ?? 0]),
        this.intervalMs,
        (receivedBytes) => upload.reporter.event(receivedBytes),
      )
      .then(
        (waitMs) => {
          this.sharedDown = false;
          if (waitMs > 0) this.trail(uploadId, upload, waitMs);
        },
        (error: unknown) => {
          if (!this.sharedDown) shared.failed(error);
          this.sharedDown = true;
          for (const part of sent) upload.unsent.add(part);
          this.reportOwn(upload, Date.now());
        },
      );
  }

  /** Reports this instance's count, if above the last it reported. */
  private reportOwn(upload: UploadState, at: number): void {
    if (upload.received <= upload.lastReported) return;
    upload.lastReportAt = at;
    upload.lastReported = upload.received;
    upload.reporter.report(upload.received);
  }

  /** Reports now if the interval has passed since the last report, else once it has. */
  private reportWhenDue(uploadId: string, upload: UploadState, at: number): void {
    if (at - upload.lastReportAt >= this.intervalMs) this.report(uploadId, upload, at);
    else this.trail(uploadId, upload, upload.lastReportAt + this.intervalMs - at);
  }

  /**
   * Reports in `waitMs` what the interval holds back now, unless a report is due already; a
   * report made meanwhile (another part's bytes) pushes it back by an interval from that one.
   */
  private trail(uploadId: string, upload: UploadState, waitMs: number): void {
    if (upload.trailing !== undefined) return;
    upload.trailing = setTimeout(() => {
      upload.trailing = undefined;
      if (this.uploads.get(uploadId) === upload) this.reportWhenDue(uploadId, upload, Date.now());
    }, waitMs);
    upload.trailing.unref();
  }

  private forgetIdle(now: number): void {
    for (const [id, state] of this.uploads) {
      if (now - state.touchedAt > progressIdleMs) this.forget(id, false);
    }
  }
}
