// Prisma's error codes for the outcomes the services handle (https://www.prisma.io/docs/orm/reference/error-reference).

/** The Prisma error code (`P2002` …) of an error, if it has one. */
export function prismaErrorCode(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** The drivers' own codes of a unique violation (better-sqlite3's, PostgreSQL's SQLSTATE). */
const driverUniqueViolations = new Set(["SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY", "23505"]);

/**
 * A unique constraint failed: P2002 from a model query; P2010 (a raw statement failed, as the
 * raw writes of src/files/file-writes.ts do in a transaction) whose driver adapter names the same
 * violation; or the driver's own error, from a raw statement run on it directly (src/db/raw.ts).
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = prismaErrorCode(error);
  if (code === "P2002" || (typeof code === "string" && driverUniqueViolations.has(code))) return true;
  if (code !== "P2010") return false;
  const meta = (error as { meta?: { driverAdapterError?: { cause?: { kind?: unknown } } } }).meta;
  return meta?.driverAdapterError?.cause?.kind === "UniqueConstraintViolation";
}
