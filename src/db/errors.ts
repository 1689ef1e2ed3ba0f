// Prisma's error codes for the outcomes the services handle (https://www.prisma.io/docs/orm/reference/error-reference).

/** A unique constraint failed (P2002). */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002";
}

/** Swallows "the row to change was not found" (P2025); rethrows anything else. */
export function ignoreMissingRow(error: unknown): void {
  if (typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2025") return;
  throw error;
}
