/**
 * Start-up failures reported in one line that names the variable to fix and the reason:
 * `DATABASE_URL: cannot open SQLite file /srv/app.db (read-only file system)`.
 */

/** A failure to start that the operator fixes in the named variable. */
export class StartupError extends Error {
  override name = "StartupError";
  constructor(
    readonly variable: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${variable}: ${message}`, options);
  }
}

/** Words for the error codes a start-up step meets: system calls, SQLite, PostgreSQL. */
const reasons: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  ENOENT: "no such file or directory",
  ENOTDIR: "a path component is not a directory",
  SQLITE_CANTOPEN: "the file cannot be opened",
  SQLITE_READONLY: "read-only database",
  SQLITE_NOTADB: "not a SQLite database",
  SQLITE_CORRUPT: "the database file is corrupt",
  "28P01": "password authentication failed",
  "28000": "authentication refused",
  "3D000": "the database does not exist",
  "57P03": "the server is starting up or shutting down",
};

/** The codes on an error, its causes and (for connection attempts to several addresses) its parts. */
function codesOf(error: unknown, seen = new Set<unknown>()): string[] {
  if (typeof error !== "object" || error === null || seen.has(error)) return [];
  seen.add(error);
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  return [
    ...(typeof code === "string" ? [code] : []),
    ...codesOf(cause, seen),
    ...(Array.isArray(errors) ? errors.flatMap((inner) => codesOf(inner, seen)) : []),
  ];
}

/** Why a step failed, in a few words: a known code's meaning, else the first line of the message. */
export function failureReason(error: unknown): string {
  for (const code of codesOf(error)) {
    const reason = reasons[code];
    if (reason !== undefined) return reason;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.trim().split("\n", 1)[0]?.slice(0, 300) || "unknown error";
}

/** Runs a start-up step; its failure becomes a StartupError naming `variable`, saying `what` failed and why. */
export async function startupStep<T>(variable: string, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StartupError) throw error;
    throw new StartupError(variable, `${what} (${failureReason(error)})`, { cause: error });
  }
}
