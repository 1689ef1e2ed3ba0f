import type { Caller } from "../access/caller.js";
import { canReadFileInHand, findReadableWorkspace, readableFiles } from "../access/readable.js";
import { type Db, FileStatus } from "../db/client.js";
import { NotFoundError } from "../files/errors.js";
import type { FileEventBus } from "./bus.js";
import { Delivery } from "./delivery.js";
import type { FileEvent, FileEventType } from "./file-event.js";

/** Who subscribes: the caller at subscribe time, and how to learn who it is now (the gate, again). */
export interface Subscriber {
  caller: Caller;
  /** Names the credentials (src/access/authenticate.ts `credentialKey`): subscriptions with the same ones share checks. */
  credentialKey: string;
  /** Authenticates the subscription's credentials again; throws AuthenticationError once they are revoked or expired. */
  reauthenticate(): Promise<Caller>;
}

/** Which events of a workspace a subscriber wants. */
export interface FileEventFilter {
  types?: readonly FileEventType[] | null;
  /** Internal file ids. */
  fileIds?: readonly string[] | null;
  /** "/a/b" matches files in "/a/b" and below. */
  directoryPrefix?: string | null;
}

/** An upload's progress as `uploadProgress` reports it. */
export interface UploadState {
  fileId: string;
  receivedBytes: number;
  totalBytes: number | null;
  status: FileStatus;
  /** Set once the upload is over (uploaded, refused for good, aborted or deleted). */
  final: boolean;
}

export interface FileEventFeedOptions {
  db: Db;
  bus: FileEventBus;
  /**
   * Milliseconds a subscriber's access, once checked, is trusted before the next delivery checks
   * it again (credentials and read access to the workspace).
   */
  recheckMs: number;
}

/**
 * Values a subscriber may leave unread before its stream ends with EventsDroppedError. Yoga's
 * pub/sub queues at most 1024 events per subscription and throws past that (in an event
 * listener: an uncaught error, the process ends), so the feed reads the bus without waiting for
 * the subscriber and holds up to this many for it instead.
 */
const MAX_UNREAD = 1000;

/** A subscriber stopped reading (a stalled connection) while MAX_UNREAD values waited for it. */
export class EventsDroppedError extends Error {
  override name = "EventsDroppedError";
  constructor() {
    super(
      `the subscriber left ${MAX_UNREAD} events unread and missed the next ones: subscribe again and read the current state`,
    );
  }
}

/** Events that end an upload, with the file status they leave. */
const uploadEnds: Partial<Record<FileEventType, true>> = { UPLOADED: true, DELETED: true, UPLOAD_ABORTED: true };

/**
 * The subscriptions' side of the bus: each subscriber gets the events of what it may read, and
 * its access is checked again before deliveries (a revoked key or a lost membership ends the
 * stream with the gate's error).
 */
export class FileEventFeed {
  /** The latest check of each credential, shared by the subscriptions that use it. */
  private readonly recent = new Map<string, { at: number; caller: Promise<Caller> }>();

  constructor(private readonly options: FileEventFeedOptions) {}

  /** The events of a workspace the subscriber can read; NotFoundError for any other workspace. */
  async workspaceEvents(
    subscriber: Subscriber,
    workspaceRef: string,
    filter: FileEventFilter | null | undefined,
  ): Promise<AsyncIterable<FileEvent>> {
    const workspace = await findReadableWorkspace(this.options.db, subscriber.caller, workspaceRef);
    if (workspace === null) throw new NotFoundError(`workspace ${workspaceRef} was not found`);
    const guard = this.guard(subscriber, workspace.id);
    return this.deliver(workspace.id, (event, offer) => {
      if (!matches(filter, event)) return;
      // Checked recently (the caller at once): no closure nor promise per delivery.
      const caller = guard();
      if (caller instanceof Promise)
        return caller.then((current) => {
          if (canReadFileInHand(current, event.file)) offer(event);
        });
      if (canReadFileInHand(caller, event.file)) offer(event);
    });
  }

  /** The progress of one file's upload until it ends; NotFoundError when the subscriber cannot read the file. */
  async uploadProgress(subscriber: Subscriber, fileId: string): Promise<AsyncIterable<UploadState>> {
    const { db } = this.options;
    const file = await db.file.findFirst({
      where: { AND: [{ id: fileId }, readableFiles(subscriber.caller)] },
      select: { id: true, workspaceId: true, status: true, size: true },
    });
    if (file === null) throw new NotFoundError(`file ${fileId} was not found`);
    const guard = this.guard(subscriber, file.workspaceId);
    const size = file.size === null ? null : Number(file.size);
    return this.deliver(
      file.workspaceId,
      (event, offer, stop) => {
        if (event.file.id !== file.id) return;
        const state = uploadState(event);
        if (state === undefined) return;
        return withCaller(guard(), (caller) => {
          if (!canReadFileInHand(caller, event.file)) return;
          offer(state);
          if (state.final) stop();
        });
      },
      // A file no longer PENDING (read after the subscription started, so no event is missed) is reported once.
      async (offer, stop) => {
        const now = await db.file.findUnique({ where: { id: file.id }, select: { status: true, size: true } });
        if (now !== null && now.status === FileStatus.PENDING) return;
        const measured = now?.size == null ? size : Number(now.size);
        const status = now?.status ?? FileStatus.FAILED;
        offer({
          fileId: file.id,
          receivedBytes: status === FileStatus.UPLOADED ? (measured ?? 0) : 0,
          totalBytes: measured,
          status,
          final: true,
        });
        stop();
      },
    );
  }

  /**
   * Hands each of the workspace's events, in order, to `step`, which offers what the subscriber
   * gets. `first` runs once the bus is listening, before any event is stepped. The stream ends
   * when the subscriber leaves, when `stop` is called, with the error a step throws (access
   * lost), or with EventsDroppedError once MAX_UNREAD values wait for the subscriber (offered
   * and not read, or heard and not stepped yet): the bus is heard at its own pace, never the
   * subscriber's. One queue per subscriber (Delivery); the bus calls in synchronously.
   */
  private deliver<T>(
    workspaceId: string,
    step: (event: FileEvent, offer: (value: T) => void, stop: () => void) => void | Promise<void>,
    first?: (offer: (value: T) => void, stop: () => void) => Promise<void>,
  ): AsyncIterable<T> {
    const { bus } = this.options;
    const queue: Delivery<T> = new Delivery<T>(() => {
      // Events heard and not stepped yet (waiting for an earlier step's access check).
      let heard = 0;
      const end = (error?: unknown): void => queue.end(error);
      const halt = (): void => end();
      const full = (): boolean => heard + queue.unread >= MAX_UNREAD;
      const offer = (value: T): void => {
        if (queue.ended) return;
        if (full()) end(new EventsDroppedError());
        else queue.push(value);
      };
      // Steps run one after another, in the order the bus gave the events, after `first`. A step
      // that finishes at once (access checked recently) runs as the bus calls, with no promise;
      // `steps` is the last step still waiting (for an access check), if any.
      let steps: Promise<void> | undefined;
      const run = (event: FileEvent): void | Promise<void> => {
        try {
          return step(event, offer, halt);
        } catch (error) {
          end(error);
        }
      };
      const wait = (pending: Promise<void>): void => {
        const tail: Promise<void> = pending.catch(end).then(() => {
          if (steps === tail) steps = undefined;
        });
        steps = tail;
      };
      const unlisten = bus.listen(workspaceId, (event) => {
        if (queue.ended) return;
        if (steps === undefined) {
          const pending = run(event);
          if (pending !== undefined) wait(pending);
          return;
        }
        if (full()) {
          end(new EventsDroppedError());
          return;
        }
        heard += 1;
        wait(
          steps.then(() => {
            heard -= 1;
            return queue.ended ? undefined : run(event);
          }),
        );
      });
      // The bus is listening: nothing that happens from now on is missed while `first` reads.
      if (first !== undefined) wait(first(offer, halt));
      return unlisten;
    });
    return queue;
  }

  /**
   * The check before a delivery: the subscriber's credentials still hold and it can still read
   * the workspace. Checked at most once per `recheckMs`; resolves with the caller as last checked
   * (for the file's own rule, `canReadFileInHand`), or throws the gate's error, or NotFoundError.
   */
  private guard(subscriber: Subscriber, workspaceId: string): () => Caller | Promise<Caller> {
    let checkedAt = Date.now();
    let latest = subscriber.caller;
    return () => {
      if (Date.now() - checkedAt < this.options.recheckMs) return latest;
      return this.current(subscriber).then(async (caller) => {
        const workspace = await findReadableWorkspace(this.options.db, caller, workspaceId);
        if (workspace === null) throw new NotFoundError("the workspace can no longer be read");
        checkedAt = Date.now();
        latest = caller;
        return caller;
      });
    };
  }

  /**
   * The subscriber's caller as the gate sees it now. One check of the same credentials serves all
   * their subscriptions for `recheckMs`: a hundred tabs of one user cost one query a second, not a hundred.
   */
  private current(subscriber: Subscriber): Promise<Caller> {
    const key = subscriber.credentialKey;
    const now = Date.now();
    const cached = this.recent.get(key);
    if (cached !== undefined && now - cached.at < this.options.recheckMs) return cached.caller;
    const caller = subscriber.reauthenticate();
    this.recent.set(key, { at: now, caller });
    // A failed check is not kept: the next delivery asks again.
    caller.catch(() => this.recent.delete(key));
    for (const [other, entry] of this.recent) if (now - entry.at >= this.options.recheckMs) this.recent.delete(other);
    return caller;
  }
}

const uploadStates = new WeakMap<FileEvent, UploadState | undefined>();

/**
 * What `uploadProgress` reports for an event of its file, or undefined for an event it skips. One
 * object per event, shared by every subscriber of the file on this instance, so that they share
 * the event's GraphQL execution too (src/graphql-subscriptions.ts keys it by this object).
 */
function uploadState(event: FileEvent): UploadState | undefined {
  if (uploadStates.has(event)) return uploadStates.get(event);
  const final = uploadEnds[event.type] === true || (event.type === "FAILED" && event.file.status === "FAILED");
  const { upload, file } = event;
  const state =
    event.type !== "PROGRESS" && event.type !== "FAILED" && !final
      ? undefined
      : {
          fileId: file.id,
          receivedBytes: upload?.receivedBytes ?? (event.type === "UPLOADED" ? (file.size ?? 0) : 0),
          totalBytes: upload?.totalBytes ?? file.size,
          status: file.status,
          final,
        };
  uploadStates.set(event, state);
  return state;
}

function matches(filter: FileEventFilter | null | undefined, event: FileEvent): boolean {
  if (filter == null) return true;
  if (filter.types != null && !filter.types.includes(event.type)) return false;
  if (filter.fileIds != null && !filter.fileIds.includes(event.file.id)) return false;
  if (filter.directoryPrefix != null) {
    const prefix = filter.directoryPrefix.replace(/\/+$/, "");
    const directory = event.file.directory ?? "";
    if (directory !== prefix && !directory.startsWith(`${prefix}/`)) return false;
  }
  return true;
}

/** Calls `next` with the value, at once when it is there, or once the promise gives it. */
function withCaller(caller: Caller | Promise<Caller>, next: (caller: Caller) => void): void | Promise<void> {
  return caller instanceof Promise ? caller.then(next) : next(caller);
}
