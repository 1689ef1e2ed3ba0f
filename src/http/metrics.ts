import type { IncomingMessage, ServerResponse } from "node:http";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Budget } from "../access/limits.js";
import type { DbObserver, PoolSample } from "../db/client.js";

/**
 * Prometheus metrics of this process (prom-client): Node's defaults, HTTP requests by route and
 * status, rate-limit refusals, SQL statements and the PostgreSQL pool; the GraphQL plugin
 * (src/yoga.ts) registers its own here too.
 */
export class Metrics implements DbObserver {
  readonly registry = new Registry();
  private readonly requests = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP requests by route and status",
    labelNames: ["route", "method", "status"],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });
  private readonly refusals = new Counter({
    name: "rate_limit_refusals_total",
    help: "Requests refused with 429, by budget (principal, anonymous, signed)",
    labelNames: ["budget"],
    registers: [this.registry],
  });

  private readonly missing = new Counter({
    name: "files_missing_objects_total",
    help: "UPLOADED files the sweeper found without their object in the store (marked FAILED)",
    registers: [this.registry],
  });
  private readonly statements = new Histogram({
    name: "db_statement_duration_seconds",
    help: "SQL statements by kind (SELECT, INSERT, UPDATE, DELETE, WITH, BEGIN, COMMIT, ROLLBACK, OTHER), as Prisma timed them",
    labelNames: ["kind"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  statement(kind: string, seconds: number): void {
    this.statements.observe({ kind }, seconds);
  }

  pool(sample: () => PoolSample): void {
    new Gauge({
      name: "db_pool_connections",
      help: "PostgreSQL pool connections: total open, idle, and queries waiting for one",
      labelNames: ["state"],
      registers: [this.registry],
      collect() {
        const { total, idle, waiting } = sample();
        this.set({ state: "total" }, total);
        this.set({ state: "idle" }, idle);
        this.set({ state: "waiting" }, waiting);
      },
    });
  }

  /** Times a request from now until its response finishes. */
  observe(req: IncomingMessage, res: ServerResponse): void {
    const stop = this.requests.startTimer({ route: routeOf(req.url ?? "/"), method: req.method ?? "" });
    res.once("close", () => stop({ status: String(res.statusCode) }));
  }

  missingObjects(count: number): void {
    this.missing.inc(count);
  }

  rateLimited(budget: Budget): void {
    this.refusals.inc({ budget });
  }
}

/** The route a URL belongs to, without ids or signatures, to keep metric labels few. */
function routeOf(url: string): string {
  const path = url.split("?")[0] ?? "/";
  const first = path.split("/")[1] ?? "";
  return ["graphql", "uploads", "downloads", "healthz", "readyz", "metrics"].includes(first) ? `/${first}` : "other";
}
