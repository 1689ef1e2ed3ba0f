/**
 * One subscriber's queue: the values the feed offers wait here until the subscriber reads them,
 * in order. An async iterator without a promise per value offered, and with one only per value
 * read (settled at once when the value is already there). `start` runs at the first read (the
 * subscription is being read) and gives what to call once the stream ends.
 *
 * A reader may also take values as they come, without a promise at all (`watch`, `peek`,
 * `take`): server-sent events do (src/graphql-subscriptions.ts), and read through `next` only
 * what they hand to the per-subscriber hooks.
 */
export class Delivery<T> implements AsyncIterableIterator<T> {
  private readonly values: T[] = [];
  /** Reads waiting for a value (no values are queued while there are any). */
  private readonly reads: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void }[] = [];
  private stopping: (() => void) | undefined;
  private started = false;
  private done = false;
  /** The error that ends the stream, thrown to the read after the last value; undefined once thrown. */
  private error: { reason: unknown } | undefined;
  /** Called when a value is queued with no read waiting for it, and when the stream ends. */
  private watcher: (() => void) | undefined;

  constructor(private readonly start: () => () => void) {}

  /** Values offered and not read yet. */
  get unread(): number {
    return this.values.length;
  }

  get ended(): boolean {
    return this.done;
  }

  /** Queues a value, or hands it to a waiting read; ignored once the stream has ended. */
  push(value: T): void {
    if (this.done) return;
    const read = this.reads.shift();
    if (read !== undefined) {
      read.resolve({ value, done: false });
      return;
    }
    this.values.push(value);
    this.watcher?.();
  }

  /** Ends the stream: the values queued are still read, then `error` if given, then the end. */
  end(error?: unknown): void {
    if (this.done) return;
    this.done = true;
    if (error !== undefined) this.error = { reason: error };
    this.stopping?.();
    for (const read of this.reads.splice(0)) this.settle(read);
    this.watcher?.();
  }

  /**
   * Starts the stream if it has not started, and calls `watcher` (synchronously, as the feed
   * offers) each time a value is queued that no read waits for, and when the stream ends.
   */
  watch(watcher: () => void): void {
    this.watcher = watcher;
    this.open();
  }

  /** The first value queued, left in place; undefined when none is. */
  peek(): T | undefined {
    return this.values[0];
  }

  /** Removes the first value queued (the one `peek` gave). */
  take(): void {
    this.values.shift();
  }

  next(): Promise<IteratorResult<T>> {
    this.open();
    if (this.values.length > 0) return Promise.resolve({ value: this.values.shift() as T, done: false });
    if (this.done) return new Promise((resolve, reject) => this.settle({ resolve, reject }));
    return new Promise((resolve, reject) => this.reads.push({ resolve, reject }));
  }

  /** The subscriber leaves: what is queued is dropped. */
  return(): Promise<IteratorResult<T>> {
    this.values.length = 0;
    this.error = undefined;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private open(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = this.start();
    if (this.done) this.stopping();
  }

  /** Answers a read once the stream has ended and nothing is queued: the error once, then done. */
  private settle(read: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void }): void {
    const { error } = this;
    this.error = undefined;
    if (error === undefined) read.resolve({ value: undefined, done: true });
    else read.reject(error.reason);
  }
}
