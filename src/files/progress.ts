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
  /** Bytes arrived since the counts were last sent to the shared store. */
  changed: boolean;
  /** The shared store held a report back (another instance reported within the interval): ask it again at a tick. */
  held: boolean;
  /** The first tick of the clock this upload may report at again (every later one too). */
  dueTick: number;
  /** Its first report comes at a tick no earlier than this: half an interval after its first body started. */
  firstDueAt: number;
  /** When it last reported, or its body started: a part's end reports at once when an interval has passed since. */
  lastReportAt: number;
  lastReported: number;
  touchedAt: number;
}

/** An upload untouched this long is forgotten (its client went away without completing or aborting). */
export const progressIdleMs = 3600 * 1000;

/**
 * Throttles the progress of uploads the server sees: at most one report per `intervalMs` per
 * upload, and never a count lower than one already reported. Every upload in flight reports on
 * one clock (a timer ticking every interval while some upload's count rises): each tick reports
 * every upload whose count rose, so the PROGRESS of uploads received at once reaches a subscriber
 * together (one socket write, src/graphql-subscriptions.ts), not at as many moments as there are
 * uploads. An upload's first report is at the first tick at least half an interval after its
 * first body started: half an interval to one and a half after it (one when it started the clock).
 * A single body (signed PUT or POST, in-request bytes) reports when it ends too, at once: one body
 * ends once, and an upload shorter than half the interval reports once. A MULTIPART upload's parts may arrive in
 * parallel and again: the count is the sum over its parts of the bytes of each one's latest
 * attempt; a part's end reports at once when an interval has passed since the upload's last
 * report, else at the next tick it may (so many parts ending together report at most once per
 * interval, and the last bytes are still reported).
 *
 * With `shared` (REDIS_URL), a MULTIPART upload's part counts go to the shared store at the
 * throttle's pace (never per chunk), which sums them over every instance and publishes at most
 * once per interval across instances (a report it holds back is asked again at the next tick);
 * when the store fails, this instance reports its own count. Without it, counts are this instance's.
 */
export class ProgressThrottle {
  private readonly uploads = new Map<string, UploadState>();
  private sharedDown = false;
  /** The shared clock, while some upload's count rises (unref'd: it keeps no process alive). */
  private clock: NodeJS.Timeout | undefined;
  /** Ticks of the clock so far. */
  private ticks = 0;

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
      // The first report comes at the first tick at least half an interval after the body starts
      // (or when it ends), not with its first chunk: an upload shorter than half the interval
      // reports once, not twice in a few milliseconds. Half, not a whole one: uploads started
      // together report at the same first tick, not the first of them at one and the others at
      // the next (by when those shorter than two intervals have ended, each at its own moment).
      state = {
        reporter,
        multipart: partNumber !== undefined,
        received: 0,
        parts: new Map(),
        unsent: new Set(),
        changed: false,
        held: false,
        dueTick: 0,
        firstDueAt: now + this.intervalMs / 2,
        lastReportAt: now,
        lastReported: 0,
        touchedAt: now,
      };
      this.uploads.set(uploadId, state);
    }
    this.startClock();
    const upload = state;
    const part = partNumber ?? 0;
    upload.received -= upload.parts.get(part) ?? 0;
    upload.parts.set(part, 0);
    if (partNumber !== undefined) upload.unsent.add(part);
    return {
      add: (bytes) => {
        upload.parts.set(part, (upload.parts.get(part) ?? 0) + bytes);
        upload.received += bytes;
        upload.changed = true;
        if (partNumber !== undefined) upload.unsent.add(part);
        if (this.clock === undefined) this.startClock();
      },
      end: () => {
        if (partNumber === undefined) {
          this.reportOwn(upload);
          this.uploads.delete(uploadId);
          return;
        }
        const at = Date.now();
        // Otherwise a tick reports it: the upload's count rose.
        if (this.rose(upload) && at - upload.lastReportAt >= this.intervalMs)
          this.report(uploadId, upload, at, this.ticks + 2);
      },
    };
  }

  /** Forgets an upload that completed or went (`multipart`: in the shared store too). */
  forget(uploadId: string, multipart: boolean): void {
    this.uploads.delete(uploadId);
    if (multipart && this.shared !== undefined) this.shared.forget(uploadId);
  }

  private startClock(): void {
    if (this.clock !== undefined) return;
    this.clock = setInterval(() => this.tick(), this.intervalMs);
    this.clock.unref();
  }

  /** Reports every upload whose count rose and that may report at this tick; stops when none rose. */
  private tick(): void {
    this.ticks += 1;
    const at = Date.now();
    let rising = false;
    for (const [uploadId, upload] of this.uploads) {
      if (!this.rose(upload)) continue;
      rising = true;
      upload.touchedAt = at;
      if (this.ticks >= upload.dueTick && at >= upload.firstDueAt) this.report(uploadId, upload, at, this.ticks + 1);
    }
    if (!rising) {
      clearInterval(this.clock);
      this.clock = undefined;
    }
  }

  /** Whether the upload has something to report: a count above the last reported (or sent to the shared store, or held back there). */
  private rose(upload: UploadState): boolean {
    if (this.shared !== undefined && upload.multipart) return upload.changed || upload.held;
    return upload.received > upload.lastReported;
  }

  /** Reports the upload's count at `at`; its next report no earlier than tick `dueTick`. */
  private report(uploadId: string, upload: UploadState, at: number, dueTick: number): void {
    upload.lastReportAt = at;
    upload.dueTick = dueTick;
    const { shared } = this;
    if (shared === undefined || !upload.multipart) {
      this.reportOwn(upload);
      return;
    }
    upload.changed = false;
    upload.held = false;
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
          if (waitMs > 0 && this.uploads.get(uploadId) === upload) {
            upload.held = true;
            this.startClock();
          }
        },
        (error: unknown) => {
          if (!this.sharedDown) shared.failed(error);
          this.sharedDown = true;
          for (const part of sent) upload.unsent.add(part);
          if (upload.received <= upload.lastReported) return;
          upload.lastReportAt = Date.now();
          upload.dueTick = this.ticks + 2;
          this.reportOwn(upload);
        },
      );
  }

  /** Reports this instance's count, if above the last it reported. */
  private reportOwn(upload: UploadState): void {
    if (upload.received <= upload.lastReported) return;
    upload.lastReported = upload.received;
    upload.reporter.report(upload.received);
  }

  private forgetIdle(now: number): void {
    for (const [id, state] of this.uploads) {
      if (now - state.touchedAt > progressIdleMs) this.forget(id, false);
    }
  }
}
