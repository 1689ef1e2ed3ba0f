import type { TypedDocumentString } from "./generated/graphql.js";

/** Where the API is and how to call it. */
export interface Api {
  /** The GraphQL endpoint, e.g. "https://files.example.com/graphql". */
  url: string;
  /** Headers sent with every GraphQL request (not to upload URLs), e.g. `{ authorization: "Bearer …" }`. */
  headers?: Record<string, string>;
}

/** A GraphQL error as the server sends it. */
export interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; retryAfter?: number; requestId?: string } & Record<string, unknown>;
}

/** A request the API refused or could not answer: HTTP status, and `code` from the first error. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    message: string,
    /** `extensions.code` of the first GraphQL error (UNAUTHENTICATED, RATE_LIMITED, …), or NETWORK_ERROR / HTTP_ERROR. */
    readonly code: string,
    /** The HTTP status, 0 when no answer came. */
    readonly status: number,
    readonly errors: GraphQLErrorBody[] = [],
  ) {
    super(message);
  }
}

/** The error a request gets when its AbortSignal fires. */
export function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException("The operation was aborted", "AbortError");
}

/**
 * The HTTP answer's GraphQL body, or an ApiError. `fetch` rejects only when no answer came.
 */
export async function readGraphQLResponse<T>(status: number, text: string): Promise<T> {
  let body: { data?: T | null; errors?: GraphQLErrorBody[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new ApiError(`HTTP ${status}: the answer is not JSON`, "HTTP_ERROR", status);
  }
  const first = body.errors?.[0];
  if (first !== undefined)
    throw new ApiError(first.message, first.extensions?.code ?? "GRAPHQL_ERROR", status, body.errors);
  if (body.data == null) throw new ApiError(`HTTP ${status} without data`, "HTTP_ERROR", status);
  return body.data;
}

/** Runs one operation as a JSON POST and resolves to its `data`; GraphQL errors reject with ApiError. */
export async function graphqlRequest<TResult, TVariables>(
  api: Api,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  options: { signal?: AbortSignal } = {},
): Promise<TResult> {
  let response: Response;
  try {
    response = await fetch(api.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        ...api.headers,
      },
      body: JSON.stringify({ query: document.toString(), variables }),
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw abortError(options.signal);
    throw new ApiError(`cannot reach ${api.url}: ${(error as Error).message}`, "NETWORK_ERROR", 0);
  }
  return readGraphQLResponse<TResult>(response.status, await response.text());
}
