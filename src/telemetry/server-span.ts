import type { IncomingMessage, ServerResponse } from "node:http";
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";

const tracer = trace.getTracer("graphql-files");

/**
 * Serves a request inside a server span named by its method and route (the path: never the
 * query string, which holds signatures), continuing a trace the client started (W3C
 * `traceparent`). The span ends when the response does.
 */
export function inServerSpan(req: IncomingMessage, res: ServerResponse, serve: () => void): void {
  const route = (req.url ?? "/").split("?")[0] ?? "/";
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = tracer.startSpan(
    `${req.method ?? "GET"} ${route}`,
    { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method ?? "", "url.path": route } },
    parent,
  );
  res.once("close", () => {
    span.setAttribute("http.response.status_code", res.statusCode);
    if (res.statusCode >= 500 || !res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  context.with(trace.setSpan(parent, span), serve);
}
