/** Counts the bytes of one body as they pass: a signed PUT or POST, one MULTIPART part, or an in-request file. */
export interface ByteMeter {
  /** `bytes` more have arrived. */
  add(bytes: number): void;
  /** The body arrived whole. */
  end(): void;
}

/** Reports an upload's progress: bytes received so far, and the total when known. */
export type ProgressReport = (receivedBytes: number) => void;

interface UploadState {
  report: ProgressReport;
  received: number;
  /** Bytes counted per part (or 0 for a single body), so a part sent again is not counted twice. */
  parts: Map<number, number>;
  lastReportAt: number;
  lastReported: number;
  touchedAt: number;
}

/** An upload untouched this long is forgotten (its client went away without completing or aborting). */
const idleMs = 3600 * 1000;

/**
 * Throttles the progress of uploads the server sees: at most one report per `intervalMs` per
 * upload, the first an interval after the upload's first body starts, plus one when a body ends, and never a count lower than one already reported. A
 * MULTIPART upload's parts may arrive in parallel and again: the count is the sum over its parts
 * of the bytes of each one's latest attempt. Counts are this instance's: parts sent to another
 * instance are reported there.
 */
export class ProgressThrottle {
  private readonly uploads = new Map<string, UploadState>();

  constructor(private readonly intervalMs: number) {}

  /** Whether progress is reported at all (PROGRESS events are off with an interval of 0). */
  get enabled(): boolean {
    return this.intervalMs > 0;
  }

  /**
   * A meter for one body of upload `uploadId`: part `partNumber` of a MULTIPART upload, or the
   * whole body (undefined). A new whole body starts the count again.
   */
  meter(uploadId: string, partNumber: number | undefined, report: ProgressReport): ByteMeter {
    const now = Date.now();
    this.forgetIdle(now);
    let state = this.uploads.get(uploadId);
    if (state === undefined || partNumber === undefined) {
      // The first report comes an interval after the body starts (or when it ends), not with its
      // first chunk: an upload shorter than the interval reports once, not twice in a few milliseconds.
      state = { report, received: 0, parts: new Map(), lastReportAt: now, lastReported: 0, touchedAt: now };
      this.uploads.set(uploadId, state);
    }
    const upload = state;
    const part = partNumber ?? 0;
    upload.received -= upload.parts.get(part) ?? 0;
    upload.parts.set(part, 0);
    return {
      add: (bytes) => {
        upload.parts.set(part, (upload.parts.get(part) ?? 0) + bytes);
        upload.received += bytes;
        const at = Date.now();
        upload.touchedAt = at;
        if (at - upload.lastReportAt >= this.intervalMs) this.report(upload, at);
      },
      end: () => {
        this.report(upload, Date.now());
        if (partNumber === undefined) this.uploads.delete(uploadId);
      },
    };
  }

  /** Forgets an upload that completed or went. */
  forget(uploadId: string): void {
    this.uploads.delete(uploadId);
  }

  private report(upload: UploadState, at: number): void {
    if (upload.received <= upload.lastReported) return;
    upload.lastReportAt = at;
    upload.lastReported = upload.received;
    upload.report(upload.received);
  }

  private forgetIdle(now: number): void {
    for (const [id, state] of this.uploads) {
      if (now - state.touchedAt > idleMs) this.uploads.delete(id);
    }
  }
}
