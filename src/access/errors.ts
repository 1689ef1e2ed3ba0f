// Failures of the gate. The transports turn them into their own shapes: GraphQL errors with
// `extensions.code` (src/yoga.ts), JSON bodies with a status on the other routes (src/http/).

import type { Role } from "../db/client.js";

/** Credentials were sent and failed a check: HTTP 401, `UNAUTHENTICATED`. The message says which check. */
export class AuthenticationError extends Error {
  override name = "AuthenticationError";
}

/** The caller can read the workspace but lacks the role an action needs: `FORBIDDEN` (HTTP 403). */
export class ForbiddenError extends Error {
  override name = "ForbiddenError";
  constructor(readonly requiredRole: Role) {
    super(`this needs the ${requiredRole} role in the workspace`);
  }
}

/** Too many requests from one principal or address: HTTP 429 with `Retry-After`. */
export class RateLimitedError extends Error {
  override name = "RateLimitedError";
  constructor(
    /** Whole seconds until the budget allows another request. */
    readonly retryAfter: number,
  ) {
    super(`too many requests; retry after ${retryAfter} s`);
  }
}
