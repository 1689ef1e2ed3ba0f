import type { Prisma } from "../db/client.js";
import { ValidationError } from "./errors.js";
import type { FileRecord } from "./types.js";
import { textProblem } from "./validation.js";

// A listing's order and its cursors: a cursor holds the sort value and id of a page's row, and
// the rows after it are a condition on both (keyset pagination, src/files/listing.ts).

export type FileOrderField = "CREATED_AT" | "UPLOADED_AT" | "NAME" | "SIZE";

export const column = {
  CREATED_AT: "createdAt",
  UPLOADED_AT: "uploadedAt",
  NAME: "nameFolded",
  SIZE: "size",
} as const satisfies Record<FileOrderField, keyof FileRecord>;

type SortValue = string | number | null;

/** A cursor holds the row's sort value and id, so pages stay stable while rows are inserted. */
export function encodeCursor(field: FileOrderField, file: FileRecord): string {
  const raw = file[column[field]];
  const value: SortValue = raw instanceof Date ? raw.toISOString() : typeof raw === "bigint" ? Number(raw) : raw;
  return Buffer.from(JSON.stringify([field, value, file.id])).toString("base64url");
}

/** Whether `value` is a sort value `field` can hold: what encodeCursor writes for it. */
function sortValueOf(field: FileOrderField, value: unknown): value is SortValue {
  switch (field) {
    case "CREATED_AT":
      return typeof value === "string" && !Number.isNaN(Date.parse(value));
    case "UPLOADED_AT":
      return value === null || (typeof value === "string" && !Number.isNaN(Date.parse(value)));
    case "SIZE":
      return value === null || (Number.isSafeInteger(value) && (value as number) >= 0);
    case "NAME":
      return typeof value === "string" && textProblem(value) === undefined;
  }
}

/** Longest cursor accepted: one holds a name of 255 characters (up to 4 bytes each), an id and a field, base64. */
const maxCursorLength = 2048;

export function decodeCursor(
  field: FileOrderField,
  cursor: string,
  argument: string,
): { value: SortValue; id: string } {
  if (cursor.length <= maxCursorLength) {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
      if (Array.isArray(parsed) && parsed.length === 3 && parsed[0] === field && sortValueOf(field, parsed[1])) {
        const id: unknown = parsed[2];
        if (typeof id === "string" && id.length <= maxCursorLength && textProblem(id) === undefined)
          return { value: parsed[1], id };
      }
    } catch {
      // fall through to the error below
    }
  }
  throw ValidationError.field([argument], "is not a cursor of this listing (was the order changed?)");
}

export function nullable(field: FileOrderField): boolean {
  return field === "UPLOADED_AT" || field === "SIZE";
}

function columnValue(field: FileOrderField, value: SortValue): Date | bigint | string | null {
  if (value === null) return null;
  if (field === "CREATED_AT" || field === "UPLOADED_AT") return new Date(value);
  if (field === "SIZE") return BigInt(value);
  return String(value);
}

/**
 * Rows strictly after the cursor in the reading order. Listings sort nulls last; reading
 * backward reverses that order, nulls first, so the two directions mirror each other.
 */
export function afterCursor(
  field: FileOrderField,
  ascending: boolean,
  nullsLast: boolean,
  cursor: { value: SortValue; id: string },
  idColumn: "id" | "fileId" = "id",
): Prisma.FileWhereInput {
  const name = column[field];
  const idAfter = { [idColumn]: ascending ? { gt: cursor.id } : { lt: cursor.id } };
  if (cursor.value === null) {
    const nullsAfter = { AND: [{ [name]: null }, idAfter] };
    return nullsLast ? nullsAfter : { OR: [nullsAfter, { [name]: { not: null } }] };
  }
  const value = columnValue(field, cursor.value);
  const beyond: Prisma.FileWhereInput[] = [
    { [name]: ascending ? { gt: value } : { lt: value } },
    { AND: [{ [name]: value }, idAfter] },
  ];
  // Only nullable columns have nulls to page into; Prisma rejects `null` for a required one.
  return { OR: nullsLast && nullable(field) ? [...beyond, { [name]: null }] : beyond };
}
