import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { RequestScope } from "../logger.js";

/**
 * Logs one line at `info` when a response is done: method, route (the path: never the query
 * string, which holds signatures), status, duration, the body's size and the bytes written
 * back, the request id, the principal (never a key or token) and the
 * GraphQL operations it ran.
 */
export function logRequest(logger: Logger, req: IncomingMessage, res: ServerResponse, scope: RequestScope): void {
  const started = process.hrtime.bigint();
  const socket = req.socket;
  const readBefore = socket.bytesRead;
  const declared = req.headers["content-length"];
  const writtenBefore = socket.bytesWritten;
  res.once("close", () => {
    logger.info(
      {
        // Logged after the request's own async context has ended: its id is set here.
        requestId: scope.requestId,
        method: req.method,
        route: (req.url ?? "/").split("?")[0],
        status: res.statusCode,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        // The declared body size; without one (chunked), what the connection read meanwhile, which
        // misses what arrived with the headers.
        bytesIn: declared === undefined ? socket.bytesRead - readBefore : Number(declared),
        bytesOut: socket.bytesWritten - writtenBefore,
        principal: scope.principal,
        operations: scope.operations,
        completed: res.writableFinished,
      },
      "request",
    );
  });
}
