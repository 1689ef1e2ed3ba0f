import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * HMAC-signed URLs for the local driver. Each signature covers a canonical JSON array whose first
 * element names what it allows ("PUT", "POST", "PUT part", "GET"), so a signature issued for one
 * purpose never verifies for another, and every value the server enforces (key, sizes, content
 * type, expiry, upload id, part number) is inside it.
 */

/** Why a signed URL or POST policy was refused. */
export class SignedUrlError extends Error {
  constructor(
    message: string,
    readonly code: "SIGNATURE_INVALID" | "URL_EXPIRED",
  ) {
    super(message);
    this.name = "SignedUrlError";
  }
}

/** What a verified PUT URL or POST policy allows. */
export interface UploadGrant {
  key: string;
  contentType: string;
  maxSize: number;
  exactSize?: number;
  expiresAt: Date;
}

/** What a verified multipart part URL allows. */
export interface PartGrant {
  key: string;
  uploadId: string;
  partNumber: number;
  maxSize: number;
  exactSize?: number;
  expiresAt: Date;
}

/** What a verified download URL serves. */
export interface DownloadGrant {
  key: string;
  contentType: string;
  contentDisposition: string;
  expiresAt: Date;
}

/** The POST policy, as carried base64url-encoded in the `policy` form field. */
interface PostPolicy {
  key: string;
  max: number;
  size?: number;
  contentType: string;
  expires: number;
}

// Node refuses these in header values; refusing them at signing time keeps a bad value from
// turning into a signed URL that can only ever fail with a 500.
const invalidHeaderChar = /[^\t\x20-\x7e\x80-\xff]/;

export function assertHeaderValue(name: string, value: string): void {
  if (value === "" || invalidHeaderChar.test(value)) {
    throw new RangeError(`${name} is not a valid header value`);
  }
}

/** Seconds since the epoch, the unit the URLs carry. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function parseCount(value: string | null | undefined): number | undefined {
  if (value == null || !/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

function invalid(message = "the URL signature is missing or does not match"): SignedUrlError {
  return new SignedUrlError(message, "SIGNATURE_INVALID");
}

/** Signs and verifies the local driver's URLs with HMAC-SHA256 under one shared secret. */
export class UrlSigner {
  constructor(private readonly secret: string) {
    if (secret === "") throw new RangeError("signingSecret must not be empty");
  }

  /** base64url HMAC of the canonical form of `parts`. */
  sign(parts: (string | number | undefined)[]): string {
    const canonical = JSON.stringify(["v1", ...parts.map((part) => part ?? null)]);
    return createHmac("sha256", this.secret).update(canonical).digest("base64url");
  }

  private check(parts: (string | number | undefined)[], given: string | null | undefined, expires: number): void {
    if (!given) throw invalid();
    const expected = Buffer.from(this.sign(parts));
    const actual = Buffer.from(given);
    // Compare the encoded strings: Node's base64url decoder skips stray characters, so comparing
    // decoded bytes would accept more than one spelling of a signature.
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw invalid();
    // Checked after the signature so that an altered `expires` reads as tampering, not expiry.
    if (Date.now() > expires * 1000) throw new SignedUrlError("the URL has expired", "URL_EXPIRED");
  }

  /** Query parameters for a PUT URL: expires, max, size?, ct, sig. */
  putQuery(o: {
    key: string;
    contentType: string;
    maxSize: number;
    exactSize?: number;
    expires: number;
  }): URLSearchParams {
    const sig = this.sign(["PUT", o.key, o.maxSize, o.exactSize, o.contentType, o.expires]);
    const query = new URLSearchParams({ expires: String(o.expires), max: String(o.maxSize) });
    if (o.exactSize !== undefined) query.set("size", String(o.exactSize));
    query.set("ct", o.contentType);
    query.set("sig", sig);
    return query;
  }

  verifyPut(key: string, query: URLSearchParams): UploadGrant {
    const expires = parseCount(query.get("expires"));
    const maxSize = parseCount(query.get("max"));
    const rawSize = query.get("size");
    const exactSize = rawSize === null ? undefined : parseCount(rawSize);
    const contentType = query.get("ct");
    if (expires === undefined || maxSize === undefined || contentType === null) throw invalid();
    if (rawSize !== null && exactSize === undefined) throw invalid();
    this.check(["PUT", key, maxSize, exactSize, contentType, expires], query.get("sig"), expires);
    return { key, contentType, maxSize, exactSize, expiresAt: new Date(expires * 1000) };
  }

  /** The `policy` and `signature` form fields of a POST target (S3 presigned POST style). */
  postFields(o: { key: string; contentType: string; maxSize: number; exactSize?: number; expires: number }): {
    policy: string;
    signature: string;
  } {
    const policy: PostPolicy = { key: o.key, max: o.maxSize, contentType: o.contentType, expires: o.expires };
    if (o.exactSize !== undefined) policy.size = o.exactSize;
    return {
      policy: Buffer.from(JSON.stringify(policy)).toString("base64url"),
      signature: this.sign(["POST", o.key, o.maxSize, o.exactSize, o.contentType, o.expires]),
    };
  }

  /** Verifies a POST policy for the object at `key` (the key in the URL path). */
  verifyPost(key: string, policyField: string, signature: string): UploadGrant {
    let policy: unknown;
    try {
      policy = JSON.parse(Buffer.from(policyField, "base64url").toString("utf8"));
    } catch {
      throw invalid("the policy is not valid base64url JSON");
    }
    if (typeof policy !== "object" || policy === null) throw invalid("the policy is malformed");
    const p = policy as Partial<Record<keyof PostPolicy, unknown>>;
    const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
    if (typeof p.key !== "string" || typeof p.contentType !== "string" || !isCount(p.max) || !isCount(p.expires)) {
      throw invalid("the policy is malformed");
    }
    if (p.size !== undefined && !isCount(p.size)) throw invalid("the policy is malformed");
    if (p.key !== key) throw invalid("the policy was issued for another key");
    const exactSize = p.size;
    this.check(["POST", p.key, p.max, exactSize, p.contentType, p.expires], signature, p.expires);
    return { key, contentType: p.contentType, maxSize: p.max, exactSize, expiresAt: new Date(p.expires * 1000) };
  }

  /** Query parameters for a part URL: uploadId, partNumber, max, size?, expires, sig. */
  partQuery(o: {
    key: string;
    uploadId: string;
    partNumber: number;
    maxSize: number;
    exactSize?: number;
    expires: number;
  }): URLSearchParams {
    const sig = this.sign(["PUT part", o.key, o.uploadId, o.partNumber, o.maxSize, o.exactSize, o.expires]);
    const query = new URLSearchParams({
      uploadId: o.uploadId,
      partNumber: String(o.partNumber),
      max: String(o.maxSize),
    });
    if (o.exactSize !== undefined) query.set("size", String(o.exactSize));
    query.set("expires", String(o.expires));
    query.set("sig", sig);
    return query;
  }

  verifyPart(key: string, query: URLSearchParams): PartGrant {
    const uploadId = query.get("uploadId");
    const partNumber = parseCount(query.get("partNumber"));
    const maxSize = parseCount(query.get("max"));
    const expires = parseCount(query.get("expires"));
    const rawSize = query.get("size");
    const exactSize = rawSize === null ? undefined : parseCount(rawSize);
    if (uploadId === null || partNumber === undefined || maxSize === undefined || expires === undefined) {
      throw invalid();
    }
    if (rawSize !== null && exactSize === undefined) throw invalid();
    this.check(["PUT part", key, uploadId, partNumber, maxSize, exactSize, expires], query.get("sig"), expires);
    return { key, uploadId, partNumber, maxSize, exactSize, expiresAt: new Date(expires * 1000) };
  }

  /** Query parameters for a download URL: expires, ct, cd, sig. */
  downloadQuery(o: { key: string; contentType: string; contentDisposition: string; expires: number }): URLSearchParams {
    const sig = this.sign(["GET", o.key, o.contentType, o.contentDisposition, o.expires]);
    return new URLSearchParams({ expires: String(o.expires), ct: o.contentType, cd: o.contentDisposition, sig });
  }

  verifyDownload(key: string, query: URLSearchParams): DownloadGrant {
    const expires = parseCount(query.get("expires"));
    const contentType = query.get("ct");
    const contentDisposition = query.get("cd");
    if (expires === undefined || contentType === null || contentDisposition === null) throw invalid();
    this.check(["GET", key, contentType, contentDisposition, expires], query.get("sig"), expires);
    return { key, contentType, contentDisposition, expiresAt: new Date(expires * 1000) };
  }
}
