/**
 * SHA-256 of the bytes of an upload, on the thread that reads them or on a worker thread.
 *
 * Hashing is the largest per-byte cost of an upload (about 0.5 s of CPU per GiB here, OpenSSL
 * with SHA-NI), and the thread that computes it inline also parses the multipart body and feeds
 * the storage driver. On a worker it runs beside that work instead of after it. Bytes are copied
 * into slabs whose ArrayBuffers are transferred to the worker and back, so each byte is copied
 * once (about 0.05 s per GiB); a stream has at most `SLABS_PER_STREAM` slabs, so memory stays
 * bounded and a hash that falls behind holds the upload back rather than queueing bytes.
 */
import { createHash } from "node:crypto";
import { Worker } from "node:worker_threads";

/** A running SHA-256 of one stream of bytes. */
export interface Sha256 {
  /**
   * Adds `chunk`. `done` is called once the next chunk may be given: at once, or later when the
   * worker is behind; with an error when the hash can no longer be computed. The chunk itself is
   * not kept.
   */
  update(chunk: Buffer, done: (error?: Error) => void): void;
  /** The hash of everything added, lowercase hex. Call once, after the last update completed. */
  digest(): Promise<string>;
  /** Drops the state of a stream that will not be finished. */
  abort(): void;
}

/** Where ByteInspectors get their running hashes from. */
export interface Sha256Source {
  /** A new running hash; `expectedBytes`, when known, is how many bytes the stream should have. */
  stream(expectedBytes?: number): Sha256;
}

class InlineSha256 implements Sha256 {
  private readonly hash = createHash("sha256");

  update(chunk: Buffer, done: (error?: Error) => void): void {
    this.hash.update(chunk);
    done();
  }

  digest(): Promise<string> {
    return Promise.resolve(this.hash.digest("hex"));
  }

  abort(): void {}
}

/** Hashes on the calling thread. */
export const inlineSha256: Sha256Source = { stream: () => new InlineSha256() };

const SLAB_BYTES = 1024 * 1024;
const SLABS_PER_STREAM = 4;
/**
 * The first slab starts this small and doubles up to SLAB_BYTES as bytes come, so a small file
 * does not take a megabyte while it uploads (a thousand small uploads at once would otherwise
 * hold a gigabyte); the copies this costs are bounded by one slab per stream.
 */
const FIRST_SLAB_BYTES = 64 * 1024;

type ToWorker =
  | { type: "update"; job: number; buffer: ArrayBuffer; length: number }
  | { type: "digest"; job: number }
  | { type: "abort"; job: number };
type FromWorker = { type: "returned"; job: number; buffer: ArrayBuffer } | { type: "digest"; job: number; hex: string };

/**
 * The worker's code, evaluated as a CommonJS script rather than loaded from a file, so it runs
 * the same whether this module is plain JavaScript, run by tsx or transformed by vitest.
 */
const workerSource = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hashes = new Map();
parentPort.on("message", (message) => {
  if (message.type === "update") {
    let hash = hashes.get(message.job);
    if (hash === undefined) hashes.set(message.job, (hash = createHash("sha256")));
    hash.update(new Uint8Array(message.buffer, 0, message.length));
    parentPort.postMessage({ type: "returned", job: message.job, buffer: message.buffer }, [message.buffer]);
  } else if (message.type === "digest") {
    const hash = hashes.get(message.job) ?? createHash("sha256");
    hashes.delete(message.job);
    parentPort.postMessage({ type: "digest", job: message.job, hex: hash.digest("hex") });
  } else {
    hashes.delete(message.job);
  }
});
`;

/**
 * The worker only keeps a hash state per stream (the bytes it hashes are transferred slabs, held
 * outside its heap), so it needs far less heap than V8's defaults size it for. With these limits a
 * worker started alone and hashing 512 MiB through one 1 MiB slab adds 11.3–11.7 MiB to the
 * process's RSS instead of 12.2 (bench/README.md, "uploads"); its bootstrap alone keeps about
 * 4 MiB of old space live.
 */
const workerLimits = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 1 };

interface Job {
  returned(buffer: ArrayBuffer): void;
  digest(hex: string): void;
  fail(error: Error): void;
}

/** One worker thread and the streams it is hashing. */
class HashThread {
  readonly jobs = new Map<number, Job>();
  private worker: Worker | undefined;

  post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.started().postMessage(message, transfer);
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(workerSource, { eval: true, resourceLimits: workerLimits });
    // Idle hashing threads must not keep the process alive; close() ends them.
    worker.unref();
    worker.on("message", (message: FromWorker) => {
      const job = this.jobs.get(message.job);
      if (message.type === "returned") job?.returned(message.buffer);
      else job?.digest(message.hex);
    });
    const lost = (error: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const job of this.jobs.values()) job.fail(error);
      this.jobs.clear();
    };
    worker.on("error", lost);
    worker.on("exit", (code) => lost(new Error(`the SHA-256 worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
    for (const job of this.jobs.values()) job.fail(new Error("the SHA-256 workers were closed"));
    this.jobs.clear();
  }
}

/**
 * A stream's hash on a HashThread. Until a first slab is full nothing goes to the worker: a
 * stream of at most one slab is hashed inline at `digest()`, sparing small files the round trip.
 */
class WorkerSha256 implements Sha256 {
  private readonly free: ArrayBuffer[] = [];
  private slab: Buffer = Buffer.from(new ArrayBuffer(FIRST_SLAB_BYTES));
  private slabs = 1;
  private fill = 0;
  private started = false;
  private waiting: (() => void) | undefined;
  /** The `done` of an update held back until a slab comes back from the worker. */
  private blocked: ((error?: Error) => void) | undefined;
  private failure: Error | undefined;
  private settle: { resolve(hex: string): void; reject(error: Error): void } | undefined;

  constructor(
    private readonly thread: HashThread,
    private readonly job: number,
  ) {}

  update(chunk: Buffer, done: (error?: Error) => void): void {
    let offset = 0;
    const copy = (): void => {
      this.blocked = undefined;
      if (this.failure !== undefined) {
        done(this.failure);
        return;
      }
      while (offset < chunk.length) {
        // A full slab is sent only when more bytes follow, so one of exactly a slab stays inline.
        if (this.fill === this.slab.length && this.slab.length < SLAB_BYTES) {
          this.grow();
        } else if (this.fill === this.slab.length) {
          this.send();
          if (!this.nextSlab(copy)) {
            this.blocked = done;
            return;
          }
        }
        const copied = chunk.copy(this.slab, this.fill, offset);
        this.fill += copied;
        offset += copied;
      }
      done();
    };
    copy();
  }

  digest(): Promise<string> {
    if (!this.started)
      return Promise.resolve(createHash("sha256").update(this.slab.subarray(0, this.fill)).digest("hex"));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<string>((resolve, reject) => {
      this.settle = { resolve, reject };
      if (this.fill > 0) this.send();
      this.thread.post({ type: "digest", job: this.job });
    });
  }

  abort(): void {
    if (!this.started || !this.thread.jobs.has(this.job)) return;
    this.thread.jobs.delete(this.job);
    this.thread.post({ type: "abort", job: this.job });
  }

  private send(): void {
    if (!this.started) {
      this.started = true;
      this.thread.jobs.set(this.job, {
        returned: (buffer) => {
          this.free.push(buffer);
          const waiting = this.waiting;
          this.waiting = undefined;
          waiting?.();
        },
        digest: (hex) => {
          this.thread.jobs.delete(this.job);
          this.settle?.resolve(hex);
        },
        fail: (error) => {
          this.failure = error;
          this.settle?.reject(error);
          this.blocked?.(error);
          this.blocked = undefined;
        },
      });
    }
    const buffer = this.slab.buffer as ArrayBuffer;
    this.thread.post({ type: "update", job: this.job, buffer, length: this.fill }, [buffer]);
    this.fill = 0;
  }

  /** Moves the first slab's bytes into one twice its size. */
  private grow(): void {
    const larger = Buffer.from(new ArrayBuffer(Math.min(SLAB_BYTES, this.slab.length * 2)));
    this.slab.copy(larger, 0, 0, this.fill);
    this.slab = larger;
  }

  /** Makes a free slab current and returns true, or arranges for `resume` once one comes back. */
  private nextSlab(resume: () => void): boolean {
    let buffer = this.free.pop();
    if (buffer === undefined && this.slabs < SLABS_PER_STREAM) {
      buffer = new ArrayBuffer(SLAB_BYTES);
      this.slabs += 1;
    }
    if (buffer === undefined) {
      this.waiting = () => {
        if (this.nextSlab(resume)) resume();
      };
      return false;
    }
    this.slab = Buffer.from(buffer);
    return true;
  }
}

export interface Sha256WorkersOptions {
  /** Worker threads to spread streams over; each is started when first needed. */
  threads: number;
}

/** Hashes streams larger than one slab on worker threads; see the module comment. */
export class Sha256Workers implements Sha256Source {
  private readonly threads: HashThread[];
  private nextJob = 0;

  constructor(options: Sha256WorkersOptions) {
    this.threads = Array.from({ length: Math.max(1, options.threads) }, () => new HashThread());
  }

  /**
   * A stream known to fit one slab is hashed inline from the start: it would be, at `digest()`,
   * after being copied into a slab (64 KiB allocated and zeroed for a 4 KiB file).
   */
  stream(expectedBytes?: number): Sha256 {
    if (expectedBytes !== undefined && expectedBytes <= SLAB_BYTES) return new InlineSha256();
    const job = this.nextJob++;
    const thread = this.threads[job % this.threads.length] as HashThread;
    return new WorkerSha256(thread, job);
  }

  /** Ends the worker threads; streams still being hashed fail. */
  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.close()));
  }
}
