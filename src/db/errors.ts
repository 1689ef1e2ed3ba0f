// Prisma's error codes for the outcomes the services handle (https://www.prisma.io/docs/orm/reference/error-reference).

/** The Prisma error code (`P2002` …) of an error, if it has one. */
export function prismaErrorCode(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

/**
 * A unique constraint failed: P2002 from a model query, or P2010 (a raw statement failed, as the
 * raw writes of src/files/file-writes.ts do) whose driver adapter names the same violation.
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = prismaErrorCode(error);
  if (code === "P2002") return true;
  if (code !== "P2010") return false;
  const meta = (error as { meta?: { driverAdapterError?: { cause?: { kind?: unknown } } } }).meta;
  return meta?.driverAdapterError?.cause?.kind === "UniqueConstraintViolation";
}
