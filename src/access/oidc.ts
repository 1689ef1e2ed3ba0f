import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import { AuthenticationError } from "./errors.js";

export interface OidcOptions {
  /** The issuer exactly as tokens name it in `iss`; its discovery document must say the same. */
  issuer: string;
  /** The `aud` tokens must carry. */
  audience: string;
  /** Seconds of clock skew allowed on `exp` and `nbf`. */
  clockToleranceSeconds: number;
  /** Claim holding the subject's identity-provider groups; a dotted path reaches into objects. */
  groupsClaim: string;
  /** Least time between two fetches of the key set when a token names an unknown `kid`. */
  jwksCooldownMs: number;
}

/** A verified token's principal: the pair (iss, sub), and its groups. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  groups: string[];
}

/** The identity provider's discovery document or keys could not be fetched (HTTP 503). */
export class IdentityProviderUnavailableError extends Error {
  override name = "IdentityProviderUnavailableError";
}

/** Algorithms accepted: asymmetric only, so a token signed with the public key as an HMAC secret fails. */
const algorithms = ["RS256", "ES256"];
const maxGroups = 1000;
const maxSubjectLength = 255;
const fetchTimeoutMs = 5000;

/**
 * Whether a bearer token is shaped like a JWS in compact form (three base64url segments), as
 * opposed to an API key.
 */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
}

/**
 * Verifies OIDC access tokens against the issuer's key set, found through its discovery
 * document (`/.well-known/openid-configuration`). jose caches the keys and fetches them again
 * when a token names a `kid` it does not know (at most once per cooldown), so a rotation at the
 * identity provider needs no restart.
 */
export class OidcVerifier {
  private keys: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(private readonly options: OidcOptions) {}

  async verify(token: string): Promise<OidcIdentity> {
    const keys = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSeconds,
        algorithms,
        requiredClaims: ["exp", "sub"],
      }));
    } catch (error) {
      throw tokenError(error, this.options);
    }
    const subject = payload.sub;
    if (typeof subject !== "string" || subject === "" || subject.length > maxSubjectLength) {
      throw new AuthenticationError(`the token's sub must be a string of 1 to ${maxSubjectLength} characters`);
    }
    return { issuer: this.options.issuer, subject, groups: groupsOf(payload, this.options.groupsClaim) };
  }

  /** The remote key set, once the discovery document has named it. */
  private async keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.keys !== undefined) return this.keys;
    const { issuer } = this.options;
    const discovery = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const response = await fetch(discovery, { signal: AbortSignal.timeout(fetchTimeoutMs), redirect: "error" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = (await response.json()) as typeof document;
    } catch (error) {
      throw new IdentityProviderUnavailableError(
        `the discovery document ${discovery} could not be read: ${(error as Error).message}`,
      );
    }
    if (document.issuer !== issuer || typeof document.jwks_uri !== "string" || !URL.canParse(document.jwks_uri)) {
      throw new IdentityProviderUnavailableError(
        `the discovery document ${discovery} must name issuer "${issuer}" and a jwks_uri URL`,
      );
    }
    this.keys = createRemoteJWKSet(new URL(document.jwks_uri), {
      cooldownDuration: this.options.jwksCooldownMs,
      cacheMaxAge: 10 * 60 * 1000,
      timeoutDuration: fetchTimeoutMs,
    });
    return this.keys;
  }
}

/** A verification failure as the client should hear it: which check failed, nothing of the token echoed. */
function tokenError(error: unknown, options: OidcOptions): Error {
  if (error instanceof errors.JWTExpired) return new AuthenticationError("the token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return new AuthenticationError(`the token's audience (aud) is not ${options.audience}`);
    if (error.claim === "iss") return new AuthenticationError(`the token's issuer (iss) is not ${options.issuer}`);
    if (error.claim === "nbf") return new AuthenticationError("the token is not valid yet (nbf)");
    return new AuthenticationError(`the token's ${error.claim} claim is missing or not valid`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new AuthenticationError(`the token must be signed with ${algorithms.join(" or ")}`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new AuthenticationError("the token is signed with a key the issuer does not publish (unknown kid)");
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthenticationError("the token names no kid and the issuer publishes several keys");
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new AuthenticationError("the token's signature is not valid");
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new IdentityProviderUnavailableError(`the issuer's key set could not be read: ${error.message}`);
  }
  if (error instanceof errors.JOSEError) return new AuthenticationError("the token is not a well-formed signed JWT");
  // jose reports an unreachable or failing JWKS endpoint with the fetch's own error.
  return new IdentityProviderUnavailableError(`the issuer's key set could not be read: ${(error as Error).message}`);
}

/** The groups the token names: a string array (or one string) at the claim's dotted path. */
function groupsOf(payload: JWTPayload, claim: string): string[] {
  let value: unknown = payload;
  for (const key of claim.split(".")) {
    value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  const groups =
    typeof value === "string" ? [value] : Array.isArray(value) ? value.filter((item) => typeof item === "string") : [];
  if (groups.length > maxGroups)
    throw new AuthenticationError(`the token's ${claim} claim names more than ${maxGroups} groups`);
  return groups;
}
