import type { IncomingMessage, ServerResponse } from "node:http";
import { processRequest } from "graphql-upload-minimal";
import type { GraphQLParams } from "graphql-yoga";
import type { GraphQLServer, ServerContext } from "../yoga.js";
import { CSRF_CODE, csrfRefusal } from "./csrf.js";
import { refuseUnread } from "./drain.js";
import { sendGraphQLError } from "./json.js";
import { UploadSpool } from "./upload-spool.js";

/**
 * GraphQL multipart requests (https://github.com/jaydenseric/graphql-multipart-request-spec) in
 * front of Yoga. `processRequest` from graphql-upload-minimal reads the `operations` and `map`
 * fields and hands each file to its resolver as a stream while the body is still arriving, so a
 * file goes to storage without being held in memory. Yoga then runs the operations it produced
 * (see `multipartOperations` in yoga.ts) on a bodiless copy of the request: its own multipart
 * parser and its body-size limit, which would refuse any large upload, never see the body.
 */
export interface GraphQLMultipartOptions {
  /** Largest file part; the resolver's own limits (declared size, maxSingleUploadBytes) apply too. */
  maxFileBytes: number;
  /** Most files in one request. */
  maxFiles: number;
  /** Largest `operations` or `map` field. */
  maxOperationsBytes: number;
}

/** The server-context key under which the parsed operations reach Yoga. */
export const MULTIPART_OPERATIONS = "multipartOperations";

/** Whether a request is a multipart/form-data POST. */
export function isMultipart(req: IncomingMessage): boolean {
  const type = (req.headers["content-type"] ?? "").split(";", 1)[0]?.trim().toLowerCase();
  return req.method === "POST" && type === "multipart/form-data";
}

function graphqlError(res: ServerResponse, status: number, code: string, message: string): void {
  // The body was not (fully) read: the connection cannot carry another request.
  res.setHeader("connection", "close");
  sendGraphQLError(res, status, code, message);
}

/** A handler for multipart POSTs to the GraphQL endpoint. */
export function graphqlMultipart(
  graphql: GraphQLServer,
  options: GraphQLMultipartOptions,
): (
  req: IncomingMessage,
  res: ServerResponse,
  context: Omit<ServerContext, typeof MULTIPART_OPERATIONS>,
) => Promise<void> {
  return async (req, res, context) => {
    // The CSRF rule Yoga applies (src/http/csrf.ts), here before a byte of the body is parsed.
    const refusal = csrfRefusal("POST", req.headers["content-type"], (name) => req.headers[name] !== undefined);
    if (refusal !== undefined) {
      return refuseUnread(req, res, () => sendGraphQLError(res, 400, CSRF_CODE, refusal.message));
    }
    let operations: GraphQLParams | GraphQLParams[];
    try {
      // graphql-upload-minimal's operation type is the spec's shape, which is Yoga's GraphQLParams.
      operations = (await processRequest(req, res, {
        // One byte over our limit, so that our own cap (which errors) is what stops a large part:
        // busboy's limit merely truncates it and ends the stream as if it were complete.
        maxFileSize: options.maxFileBytes + 1,
        maxFiles: options.maxFiles,
        maxFieldSize: options.maxOperationsBytes,
      })) as GraphQLParams | GraphQLParams[];
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      const code = status === 413 ? "REQUEST_ENTITY_TOO_LARGE" : "BAD_REQUEST";
      return graphqlError(
        res,
        typeof status === "number" && status < 500 ? status : 400,
        code,
        (error as Error).message,
      );
    }
    // Parts that arrive before the resolver wanting them are spooled (src/http/upload-spool.ts).
    const spool = new UploadSpool();
    spool.watch(operations);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === "content-length" || name === "transfer-encoding") continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    const request = new Request(new URL(req.url ?? "/graphql", "http://localhost"), { method: "POST", headers });
    let response: Response;
    let body: Buffer;
    try {
      response = await graphql.fetch(request, { ...context, [MULTIPART_OPERATIONS]: operations });
      body = Buffer.from(await response.arrayBuffer());
    } finally {
      // The operations are done with the parts: spooled copies go before the client hears back.
      await spool.close();
    }
    if (!req.readableEnded) {
      // Parts no operation read (a refused request, an unused file): drop the rest of the body.
      req.unpipe();
      req.resume();
      res.setHeader("connection", "close");
    }
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(body);
  };
}
