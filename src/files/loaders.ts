import DataLoader from "dataloader";
import type { Caller } from "../access/caller.js";
import { readableFiles } from "../access/readable.js";
import type { Db, FileVersion } from "../db/client.js";
import { withLabels } from "./records.js";
import type { FileRecord } from "./types.js";

/**
 * What a request reads for many files at once: a page of files selecting `pendingUpload` or
 * `versions` costs one statement per field, not one per file. Each batch reads through the
 * caller's read filter (src/access/readable.ts) on the files it names, as a single read would.
 * One set per request's context; nothing is cached (`cache: false`), since a subscription keeps
 * its context for every event it delivers: loads in the same tick are batched, nothing more.
 */
export interface FileLoaders {
  /** An overwrite's pending upload of each file (by file id), or null. */
  pendingUpload: DataLoader<string, FileRecord | null>;
  /** The contents overwrites replaced of each file (by file id), newest first. */
  versions: DataLoader<string, FileVersion[]>;
}

const noCache = { cache: false } as const;

export function fileLoaders(db: Db, caller: Caller): FileLoaders {
  return {
    pendingUpload: new DataLoader(async (ids) => {
      const rows = await db.file.findMany({
        where: { pendingForId: { in: [...ids] }, pendingFor: { is: readableFiles(caller) } },
        include: withLabels,
      });
      const byFile = new Map(rows.map((row) => [row.pendingForId, row]));
      return ids.map((id) => byFile.get(id) ?? null);
    }, noCache),
    versions: new DataLoader(async (ids) => {
      const rows = await db.fileVersion.findMany({
        where: { fileId: { in: [...ids] }, file: { is: readableFiles(caller) } },
        orderBy: [{ replacedAt: "desc" }, { id: "desc" }],
      });
      const byFile = new Map<string, FileVersion[]>(ids.map((id) => [id, []]));
      for (const row of rows) byFile.get(row.fileId)?.push(row);
      return ids.map((id) => byFile.get(id) ?? []);
    }, noCache),
  };
}
