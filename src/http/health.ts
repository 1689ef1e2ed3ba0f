import type { IncomingMessage, ServerResponse } from "node:http";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** Prometheus metrics of this process: Node's defaults and HTTP requests by route and status. */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP requests by route and status",
    labelNames: ["route", "method", "status"],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Times a request from now until its response finishes. */
  observe(req: IncomingMessage, res: ServerResponse): void {
    const stop = this.requests.startTimer({ route: routeOf(req.url ?? "/"), method: req.method ?? "" });
    res.once("close", () => stop({ status: String(res.statusCode) }));
  }
}

/** The route a URL belongs to, without ids or signatures, to keep metric labels few. */
function routeOf(url: string): string {
  const path = url.split("?")[0] ?? "/";
  const first = path.split("/")[1] ?? "";
  return ["graphql", "uploads", "downloads", "healthz", "readyz", "metrics"].includes(first) ? `/${first}` : "other";
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
