// Prisma's error codes for the outcomes the services handle (https://www.prisma.io/docs/orm/reference/error-reference).

/** The Prisma error code (`P2002` …) of an error, if it has one. */
export function prismaErrorCode(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** A unique constraint failed (P2002). */
export function isUniqueViolation(error: unknown): boolean {
  return prismaErrorCode(error) === "P2002";
}
