import { createHash, timingSafeEqual } from "node:crypto";
import type { Db } from "../db/client.js";
import { Caller } from "./caller.js";
import { AuthenticationError } from "./errors.js";
import type { GrantCache } from "./grant-cache.js";
import { apiKeyGrants, hashApiKey, oidcGrants } from "./grants.js";
import { looksLikeJwt, type OidcVerifier } from "./oidc.js";

/** Longest bearer token looked at; anything longer is refused unread. */
const maxTokenLength = 16_384;

export interface AuthenticatorOptions {
  db: Db;
  /** API keys' grants read recently (src/access/grant-cache.ts). */
  grantCache: GrantCache;
  /** Set when OIDC_ISSUER is: JWT bearer tokens are verified by it. */
  oidc: OidcVerifier | undefined;
}

/**
 * The gate: turns a request's `Authorization` header into its Caller. No header is the
 * anonymous caller; a bearer token is an API key or, when OIDC is configured and the token is a
 * JWT, an OIDC access token. Anything else throws AuthenticationError saying what failed. This is
 * the only code that reads `Authorization`.
 */
export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions) {}

  async authenticate(authorization: string | null | undefined): Promise<Caller> {
    if (authorization == null || authorization.trim() === "") return Caller.anonymous;
    const token = bearerToken(authorization);
    const { db, oidc } = this.options;
    if (oidc !== undefined && looksLikeJwt(token)) {
      const identity = await oidc.verify(token);
      const grants = await oidcGrants(db, identity.issuer, identity.subject, identity.groups);
      return new Caller({ kind: "OIDC", ...identity }, grants);
    }
    const key = await this.options.grantCache.get(hashApiKey(token), () => apiKeyGrants(db, token));
    if (key === null) throw new AuthenticationError("the API key is not valid (unknown or revoked)");
    return new Caller({ kind: "API_KEY", id: key.principalId }, key.grants);
  }
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750). */
function bearerToken(authorization: string): string {
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  if (match?.[1] === undefined) {
    throw new AuthenticationError("the Authorization header must be: Bearer <API key or token>");
  }
  if (match[1].length > maxTokenLength)
    throw new AuthenticationError(`the bearer token is longer than ${maxTokenLength} characters`);
  return match[1];
}

/**
 * Whether an `Authorization` header carries exactly `secret` as its bearer token (compared in
 * constant time): the guard of endpoints that take a configured token rather than a caller,
 * such as `/metrics` with METRICS_TOKEN.
 */
export function carriesBearer(authorization: string | undefined, secret: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? "");
  const sent = Buffer.from(match?.[1] ?? "");
  const expected = Buffer.from(secret);
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}

/**
 * A stable name for the credentials a request carries (a hash of its Authorization header), so
 * that checks of the same credentials can be shared without keeping them.
 */
export function credentialKey(authorization: string | null | undefined): string {
  return createHash("sha256")
    .update(authorization ?? "")
    .digest("base64url");
}
