import type { ServerResponse } from "node:http";
import { requestScope } from "../logger.js";

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** The id of the request being served (also in the `x-request-id` header and every log line). */
function requestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

/**
 * The error shape of every endpoint but /graphql: `{ "error": { "code", "message", "requestId" } }`,
 * with `extra` fields (e.g. `retryAfter`) beside them.
 */
export function errorBody(
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
): { error: Record<string, unknown> } {
  return { error: { code, message, ...extra, requestId: requestId() } };
}

/** The same for /graphql, in GraphQL's shape: `{ "errors": [{ "message", "extensions": { "code", "requestId" } }] }`. */
function graphqlErrorBody(code: string, message: string, extra: Record<string, unknown> = {}): { errors: unknown[] } {
  return { errors: [{ message, extensions: { code, ...extra, requestId: requestId() } }] };
}

export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra?: Record<string, unknown>,
): void {
  sendJson(res, status, errorBody(code, message, extra));
}

export function sendGraphQLError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra?: Record<string, unknown>,
): void {
  sendJson(res, status, graphqlErrorBody(code, message, extra));
}
