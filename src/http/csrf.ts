import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Headers a browser cannot send cross-site without a CORS preflight, which only origins in
 * CORS_ORIGINS pass. Any value will do; `apollo-require-preflight` is the one Apollo's docs use.
 */
const CSRF_HEADERS = ["x-graphql-csrf", "apollo-require-preflight"];

/** Content types an HTML form, or `fetch` without a preflight, can POST cross-site. */
const SIMPLE_CONTENT_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"];

/** The code of every CSRF refusal, on /graphql and its multipart layer alike. */
export const CSRF_CODE = "CSRF_HEADER_REQUIRED";

/**
 * Why a request to /graphql is refused as a possible cross-site request forgery, or undefined.
 *
 * - GET and HEAD pass without a header: they run queries only (Yoga answers a mutation over GET
 *   with 405, code BAD_REQUEST), which change nothing, and a page on another origin cannot read
 *   the answer unless CORS_ORIGINS lets it. Credentials are bearer tokens a cross-site page cannot
 *   attach (no cookies), so a forged GET runs as the anonymous caller. This is what urql and
 *   GraphiQL send by default.
 * - A POST a form could send (form-urlencoded, multipart, text/plain, or no content type) must
 *   carry one of CSRF_HEADERS. A POST of application/json is preflighted by every browser.
 */
export function csrfRefusal(
  method: string,
  contentType: string | null | undefined,
  hasHeader: (name: string) => boolean,
): GraphQLError | undefined {
  if (method === "GET" || method === "HEAD") return undefined;
  const type = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
  if (type !== "" && !SIMPLE_CONTENT_TYPES.includes(type)) return undefined;
  if (CSRF_HEADERS.some(hasHeader)) return undefined;
  return new GraphQLError(
    `a POST of ${type || "no content type"} must send one of the headers ${CSRF_HEADERS.join(", ")} (any value), which a browser cannot send cross-site; or send application/json`,
    { extensions: { code: CSRF_CODE, http: { status: 400 } } },
  );
}

/** Yoga plugin applying csrfRefusal to every request that reaches Yoga's body parsers. */
export const useCsrfPrevention: Plugin<Record<string, unknown>> = {
  onRequestParse({ request }) {
    const refusal = csrfRefusal(request.method, request.headers.get("content-type"), (name) =>
      request.headers.has(name),
    );
    if (refusal !== undefined) throw refusal;
  },
};
