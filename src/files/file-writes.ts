import { type Db, type File, Prisma } from "../db/client.js";
import { rawChanges, rawRows } from "../db/raw.js";

// The two writes every presigned upload makes (its PENDING row at createFile, the row marked
// UPLOADED at completeUpload), as one raw statement each, for the reason src/files/file-reads.ts
// gives: Prisma 6.19 compiles every model query in WebAssembly on every call, and these two were
// most of what was left of Prisma's cost in the flows bench (bench/README.md, "flows"); outside a
// transaction they run on the driver directly (src/db/raw.ts). The
// column names are checked against Prisma's `FileScalarFieldEnum`, so the datamodel stays their
// one source, and the values are formatted as the driver adapter formats Prisma's own writes, by
// their JavaScript type (a Date as the ISO text SQLite's adapter writes, or as
// PostgreSQL's timestamp), so a row written here is the row `tx.file.create` would write
// (test/file-writes.test.ts reads rows written both ways). An enum is a string; PostgreSQL infers
// its parameter's type from the column it is written to.

const fileColumns = new Set<string>(Object.values(Prisma.FileScalarFieldEnum));

/** The columns `RETURNING` gives back: every scalar of the model, as `$queryRaw` types them. */
const returning = Prisma.raw(
  Object.values(Prisma.FileScalarFieldEnum)
    .map((column) => `"${column}"`)
    .join(", "),
);

/** Scalar columns of a File row and their values; the absent ones take the database's defaults. */
type FileColumns = Partial<File>;

/** A new File row: the columns without a database default, and any others. */
export type NewFile = FileColumns &
  Pick<
    File,
    "id" | "workspaceId" | "name" | "nameFolded" | "storageKey" | "uploadMethod" | "status" | "createdAt" | "updatedAt"
  >;

/** The column list and values of `columns`, each name checked against the model's. */
function columnsOf(columns: FileColumns): { names: Prisma.Sql[]; values: unknown[] } {
  const names: Prisma.Sql[] = [];
  const values: unknown[] = [];
  for (const [name, value] of Object.entries(columns)) {
    if (value === undefined) continue;
    if (!fileColumns.has(name)) throw new Error(`File has no column ${name}`);
    names.push(Prisma.raw(`"${name}"`));
    values.push(value);
  }
  return { names, values };
}

/** Inserts a File row (no child rows) in one statement; returns it as the database holds it. */
export async function insertFile(db: Pick<Db, "$queryRaw">, row: NewFile): Promise<File> {
  const { names, values } = columnsOf(row);
  const [written] = await rawRows<File>(
    db,
    Prisma.sql`INSERT INTO "File" (${Prisma.join(names)}) VALUES (${Prisma.join(values)}) RETURNING ${returning}`,
  );
  if (written === undefined) throw new Error(`the INSERT of file ${row.id} returned no row`);
  return written;
}

/**
 * Inserts a new File row and its child rows (labels, ancestors, metadata entries…: Prisma's nested
 * creates of `newFileChildren`), and returns the row. Without children it is one raw statement
 * (`insertFile`), atomic by itself; with them (`hasChildren`), the INSERT and then Prisma's nested
 * creates, which must run in one transaction.
 */
export async function insertNewFile(
  tx: Prisma.TransactionClient,
  row: NewFile,
  children: Prisma.FileUpdateInput,
): Promise<File> {
  const inserted = await insertFile(tx, row);
  if (hasChildren(children)) await tx.file.update({ where: { id: inserted.id }, data: children, select: { id: true } });
  return inserted;
}

/** Whether `newFileChildren` gave any child rows to create. */
export function hasChildren(children: Prisma.FileUpdateInput): boolean {
  return Object.keys(children).length > 0;
}

/**
 * Sets `columns` of the file with this id when it is in status `from`, in one statement; returns
 * whether it was (false when another change moved it on first, or it is gone).
 */
export async function updateFileFrom(
  db: Pick<Db, "$executeRaw">,
  id: string,
  from: File["status"],
  columns: FileColumns,
): Promise<boolean> {
  const { names, values } = columnsOf(columns);
  const assignments = Prisma.join(names.map((name, index) => Prisma.sql`${name} = ${values[index]}`));
  const changed = await rawChanges(
    db,
    Prisma.sql`UPDATE "File" SET ${assignments} WHERE "id" = ${id} AND "status" = ${from}`,
  );
  return changed === 1;
}
