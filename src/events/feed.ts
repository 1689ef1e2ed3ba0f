import { Repeater } from "graphql-yoga";
import type { Caller } from "../access/caller.js";
import { canReadFileInHand, findReadableWorkspace, readableFiles } from "../access/readable.js";
import { type Db, FileStatus } from "../db/client.js";
import { NotFoundError } from "../files/errors.js";
import type { FileEventBus } from "./bus.js";
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
    return this.deliver(workspace.id, async (event, push) => {
      if (!matches(filter, event)) return;
      const caller = await guard();
      if (canReadFileInHand(caller, event.file)) await push(event);
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
      async (event, push, stop) => {
        if (event.file.id !== file.id) return;
        const final = uploadEnds[event.type] === true || (event.type === "FAILED" && event.file.status === "FAILED");
        if (event.type !== "PROGRESS" && !final && event.type !== "FAILED") return;
        if (!canReadFileInHand(await guard(), event.file)) return;
        const upload = event.upload;
        await push({
          fileId: file.id,
          receivedBytes: upload?.receivedBytes ?? (event.type === "UPLOADED" ? (event.file.size ?? 0) : 0),
          totalBytes: upload?.totalBytes ?? event.file.size,
          status: event.file.status,
          final,
        });
        if (final) stop();
      },
      // A file no longer PENDING (read after the subscription started, so no event is missed) is reported once.
      async (push, stop) => {
        const now = await db.file.findUnique({ where: { id: file.id }, select: { status: true, size: true } });
        if (now !== null && now.status === FileStatus.PENDING) return;
        const measured = now?.size == null ? size : Number(now.size);
        const status = now?.status ?? FileStatus.FAILED;
        await push({
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
   * Reads the workspace's events and hands each to `step`, which pushes what the subscriber
   * gets. `first` runs once the bus is listening. The stream ends when the subscriber leaves,
   * when `stop` is called, or with the error a step throws (access lost).
   */
  private deliver<T>(
    workspaceId: string,
    step: (event: FileEvent, push: (value: T) => Promise<unknown>, stop: () => void) => Promise<void>,
    first?: (push: (value: T) => Promise<unknown>, stop: () => void) => Promise<void>,
  ): AsyncIterable<T> {
    const { bus } = this.options;
    return new Repeater<T>(async (push, stop) => {
      const source = bus.subscribe(workspaceId);
      void stop.then(() => source.return?.());
      // The bus listens from the first read on: start it before anything else can be missed.
      let next = source.next();
      if (first !== undefined) await first(push, stop);
      for (;;) {
        const result = await Promise.race([next, stop.then(() => undefined)]);
        if (result === undefined || result.done === true) break;
        await step(result.value, push, stop);
        next = source.next();
      }
      stop();
    });
  }

  /**
   * The check before a delivery: the subscriber's credentials still hold and it can still read
   * the workspace. Checked at most once per `recheckMs`; resolves with the caller as last checked
   * (for the file's own rule, `canReadFileInHand`), or throws the gate's error, or NotFoundError.
   */
  private guard(subscriber: Subscriber, workspaceId: string): () => Promise<Caller> {
    let checkedAt = Date.now();
    let latest = subscriber.caller;
    return async () => {
      if (Date.now() - checkedAt < this.options.recheckMs) return latest;
      const caller = await this.current(subscriber);
      const workspace = await findReadableWorkspace(this.options.db, caller, workspaceId);
      if (workspace === null) throw new NotFoundError("the workspace can no longer be read");
      checkedAt = Date.now();
      latest = caller;
      return caller;
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
