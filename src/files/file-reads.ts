import { type Db, type File, Prisma } from "../db/client.js";
import { rawRows } from "../db/raw.js";
import type { FileRecord } from "./types.js";

// The hottest reads of a file (by id for `file(id)` and every mutation, by the file it replaces
// for an overwrite's pending upload), as one raw statement each. Prisma 6.19 compiles every
// model query on the main thread, in WebAssembly, on every call (its plan cache arrived in 7.4):
// a `findFirst` with the read filter and its labels cost 2 statements and about 3 ms of CPU here,
// this one statement about 0.5 ms (bench/README.md, "flows"). The columns are Prisma's
// (`FileScalarFieldEnum`, generated from the datamodel), so the model stays their one source,
// and they come back with the model's types on both providers (Date, bigint, boolean); they run
// on the driver directly (src/db/raw.ts).
// Access is decided by the caller of these functions, with `canReadFile` (src/access/readable.ts).

const fileColumns = Prisma.raw(
  Object.values(Prisma.FileScalarFieldEnum)
    .map((column) => `f."${column}"`)
    .join(", "),
);

/** A file with its labels, and whether its workspace is public (what reading it allows). */
export interface FileInWorkspace {
  file: FileRecord;
  workspacePublic: boolean;
}

type JoinedRow = File & { workspacePublic: boolean; label: string | null };

/**
 * The file `where` finds (a condition on `f`, the File row, that at most one file meets), its
 * labels and its workspace's public flag: one row per label, one with a null label when it has none.
 */
async function readOneFile(db: Pick<Db, "$queryRaw">, where: Prisma.Sql): Promise<FileInWorkspace | null> {
  const rows = await rawRows<JoinedRow>(
    db,
    Prisma.sql`
      SELECT ${fileColumns}, w."public" AS "workspacePublic", l."label" AS "label"
      FROM "File" f
      JOIN "Workspace" w ON w."id" = f."workspaceId"
      LEFT JOIN "FileLabel" l ON l."fileId" = f."id"
      WHERE ${where}`,
  );
  const first = rows[0];
  if (first === undefined) return null;
  const { label: _label, workspacePublic, ...file } = first;
  return {
    file: { ...file, labels: rows.flatMap(({ label }) => (label === null ? [] : [{ label }])) },
    workspacePublic,
  };
}

/** The file with this id (a pending upload's row too), with its labels; null when there is none. */
export function readFileById(db: Pick<Db, "$queryRaw">, id: string): Promise<FileInWorkspace | null> {
  return readOneFile(db, Prisma.sql`f."id" = ${id}`);
}

/**
 * The pending upload of a file (an overwrite's new content), if there is one. Only an overwrite
 * by externalId makes one (src/files/create.ts), and nothing sets a file's externalId after it
 * is created: a file without one has none, known without a read.
 */
export async function pendingUploadOf(
  db: Pick<Db, "$queryRaw">,
  file: Pick<FileRecord, "id" | "externalId">,
): Promise<FileRecord | null> {
  if (file.externalId === null) return null;
  return (await readOneFile(db, Prisma.sql`f."pendingForId" = ${file.id}`))?.file ?? null;
}
