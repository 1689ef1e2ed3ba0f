import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { FileUpload, Upload } from "graphql-upload-minimal";

/**
 * Makes the order of a GraphQL multipart request's files irrelevant. The parts of a body can only
 * be read one after the other: a part nobody reads holds back every part behind it. When a
 * resolver waits for a part that has not arrived while an earlier part sits unread (files sent
 * in another order than the mutations run, or a part no operation uses), the unread part is
 * spooled to a temporary file, so the body moves on; its resolver later reads the file. Parts
 * read as they arrive (the usual order) stream straight through, never touching the disk. The
 * temporary files are bounded by the part size limit (the parser cuts a part there) and removed
 * when the request ends (`close`).
 */
export class UploadSpool {
  private readonly entries: SpoolEntry[] = [];
  private readonly writes = new Set<WriteStream>();
  private readonly files: string[] = [];

  /** Takes over every Upload placed in `operations` (processRequest's result), before Yoga sees them. */
  watch(operations: unknown): void {
    for (const upload of uploadsIn(operations)) {
      const entry: SpoolEntry = { awaited: false, arrived: undefined, claimed: false, spooled: undefined };
      this.entries.push(entry);
      const arrived = upload.promise.then((file) => {
        entry.arrived = file;
        // Let a resolver already waiting for this part claim it first (its callbacks run now).
        setImmediate(() => this.unblock());
        return this.wrap(entry, file);
      });
      upload.promise = observed(arrived, () => {
        entry.awaited = true;
        this.unblock();
      });
    }
  }

  /** Removes the temporary files (stopping writes still going). */
  async close(): Promise<void> {
    for (const write of this.writes) write.destroy();
    await Promise.all(this.files.map((file) => rm(file, { force: true })));
  }

  /**
   * When some resolver waits for a part that has not arrived, every part that arrived and is not
   * claimed is in the way: spool it.
   */
  private unblock(): void {
    if (!this.entries.some((entry) => entry.awaited && entry.arrived === undefined)) return;
    for (const entry of this.entries) {
      if (entry.arrived !== undefined && !entry.claimed && entry.spooled === undefined)
        this.spool(entry, entry.arrived);
    }
  }

  private spool(entry: SpoolEntry, file: FileUpload): void {
    const source: Readable = file.createReadStream();
    const target = path.join(os.tmpdir(), `graphql-files-spool-${randomUUID()}`);
    this.files.push(target);
    const write = createWriteStream(target);
    this.writes.add(write);
    let cut = false;
    // busboy cut the part at its size limit, and graphql-upload-minimal unpipes it then.
    source.once("limit", () => {
      cut = true;
      write.end();
    });
    entry.spooled = pipeline(source, write)
      .catch((error: unknown) => {
        if (!cut) throw error;
      })
      .then(() => ({ path: target, cut }))
      .finally(() => this.writes.delete(write));
    // Not a hidden failure: a resolver that reads the part gets the error from its replay (below);
    // a part no resolver reads loses nothing. This only keeps the rejection from being unhandled.
    entry.spooled.catch(() => undefined);
  }

  /** The file as resolvers see it: the live part, or a replay of its spooled copy. */
  private wrap(entry: SpoolEntry, file: FileUpload): FileUpload {
    return {
      ...file,
      createReadStream: () => {
        if (entry.spooled === undefined) {
          entry.claimed = true;
          return file.createReadStream();
        }
        const replay = new PassThrough();
        entry.spooled.then(
          ({ path: spooled, cut }) => {
            const copy = createReadStream(spooled);
            // A part cut at its limit reads as the live part would: its bytes, then "limit".
            if (cut) copy.once("end", () => replay.emit("limit"));
            copy.pipe(replay, { end: !cut });
            copy.once("error", (error) => replay.destroy(error));
          },
          (error: unknown) => replay.destroy(error instanceof Error ? error : new Error(String(error))),
        );
        // FileUpload's type names fs.ReadStream; resolvers use it as a Readable only.
        return replay as unknown as ReturnType<FileUpload["createReadStream"]>;
      },
    };
  }
}

interface SpoolEntry {
  /** A resolver has asked for the part (called `then` on its promise). */
  awaited: boolean;
  /** The part, once the parser reached it. */
  arrived: FileUpload | undefined;
  /** A resolver took the live stream. */
  claimed: boolean;
  /** The spooled copy, once spooling began. */
  spooled: Promise<{ path: string; cut: boolean }> | undefined;
}

/**
 * Whether a value is graphql-upload-minimal's Upload. By shape, not `instanceof`: the package is
 * CommonJS, and a loader may hand the ESM import and processRequest's `require` two copies.
 */
function isUpload(value: unknown): value is Upload {
  const candidate = value as Partial<Upload> & { resolve?: unknown };
  return (
    typeof value === "object" &&
    value !== null &&
    candidate.promise instanceof Promise &&
    typeof candidate.resolve === "function"
  );
}

/** The distinct Upload instances in the operations (one map entry may name several paths). */
function uploadsIn(value: unknown, found = new Set<Upload>()): Set<Upload> {
  if (isUpload(value)) found.add(value);
  else if (typeof value === "object" && value !== null) for (const item of Object.values(value)) uploadsIn(item, found);
  return found;
}

/** A promise that calls `onAwait` whenever someone chains on it (`then`, `catch`, `await`). */
function observed<T>(promise: Promise<T>, onAwait: () => void): Promise<T> {
  const then = promise.then.bind(promise);
  // biome-ignore lint/suspicious/noThenProperty: wrapping `then` is how this promise sees who awaits it
  Object.defineProperty(promise, "then", {
    value: (...args: Parameters<Promise<T>["then"]>) => {
      onAwait();
      return then(...args);
    },
  });
  return promise;
}
