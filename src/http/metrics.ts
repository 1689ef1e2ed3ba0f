import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Budget } from "../access/limits.js";
import type { DbObserver, PoolSample } from "../db/client.js";
import type { FileEvent, FileEventType } from "../events/file-event.js";
import type { Reconciliation, SweepObserver } from "../files/sweeper.js";

/**
 * Prometheus metrics of this process (prom-client): Node's defaults, HTTP requests by route and
 * status, bytes served, rate-limit refusals, uploads from the file events, the sweeper's and
 * reconciliation's results, SQL statements and the PostgreSQL pool; the GraphQL plugin
 * (src/yoga.ts) registers its own here too. Each instance counts what it handled.
 */
export class Metrics implements DbObserver, SweepObserver {
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

  private readonly served = new Counter({
    name: "download_bytes_total",
    help: "Bytes this server wrote in answer to signed download URLs (the local driver; other stores serve their own)",
    registers: [this.registry],
  });
  private readonly uploads = new Counter({
    name: "uploads_total",
    help: "Uploads by outcome (started, completed, failed, aborted), method, storage driver and error code",
    labelNames: ["outcome", "method", "driver", "code"],
    registers: [this.registry],
  });
  private readonly uploadBytes = new Counter({
    name: "upload_bytes_total",
    help: "Bytes of completed uploads, by method and storage driver",
    labelNames: ["method", "driver"],
    registers: [this.registry],
  });
  private readonly uploadSeconds = new Histogram({
    name: "upload_duration_seconds",
    help: "From an upload's start (its file's creation, or the first byte in the request) to its completion or failure",
    labelNames: ["outcome", "method", "driver"],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
    registers: [this.registry],
  });
  private readonly expiredRemoved = new Counter({
    name: "sweeper_expired_uploads_removed_total",
    help: "Expired unfinished uploads the sweeper removed, with their bytes",
    registers: [this.registry],
  });
  private readonly reconciliations = new Counter({
    name: "reconciliations_total",
    help: "Reconciliations of the store with the files: ran, or skipped because another instance held the lock",
    labelNames: ["result"],
    registers: [this.registry],
  });
  private readonly reconciledItems = new Counter({
    name: "reconciliation_items_total",
    help: "What reconciliations found: orphan_object (deleted), orphan_multipart_upload (aborted), missing_object (file marked FAILED)",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  private readonly statements = new Histogram({
    name: "db_statement_duration_seconds",
    help: "SQL statements by kind (SELECT, INSERT, UPDATE, DELETE, WITH, BEGIN, COMMIT, ROLLBACK, OTHER), and how long each took (Prisma's and those run on the driver directly)",
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

  /** Times a request from now until its response finishes; counts the bytes of downloads. */
  observe(req: IncomingMessage, res: ServerResponse): void {
    const route = routeOf(req.url ?? "/");
    const stop = this.requests.startTimer({ route, method: req.method ?? "" });
    const writtenBefore = req.socket.bytesWritten;
    res.once("close", () => {
      stop({ status: String(res.statusCode) });
      if (route === "/downloads") this.served.inc(req.socket.bytesWritten - writtenBefore);
    });
  }

  /** Counts uploads from the file events this instance emitted (the bus carries them to every subscriber). */
  fileEvent(event: FileEvent): void {
    const { upload } = event;
    if (upload === undefined) return;
    const outcome = uploadOutcomes[event.type];
    if (outcome === undefined) return;
    const { method, driver } = upload;
    this.uploads.inc({ outcome, method, driver, code: upload.errorCode ?? "" });
    if (event.type === "UPLOADED")
      this.uploadBytes.inc({ method, driver }, upload.receivedBytes ?? upload.totalBytes ?? event.file.size ?? 0);
    if (upload.durationMs !== undefined && (event.type === "UPLOADED" || event.type === "FAILED")) {
      this.uploadSeconds.observe({ outcome, method, driver }, upload.durationMs / 1000);
    }
  }

  swept(removed: number): void {
    this.expiredRemoved.inc(removed);
  }

  reconciled(result: Reconciliation): void {
    this.reconciliations.inc({ result: result.ran ? "ran" : "skipped" });
    this.reconciledItems.inc({ kind: "orphan_object" }, result.orphansDeleted);
    this.reconciledItems.inc({ kind: "orphan_multipart_upload" }, result.uploadsAborted);
    this.reconciledItems.inc({ kind: "missing_object" }, result.missingObjects);
  }

  rateLimited(budget: Budget): void {
    this.refusals.inc({ budget });
  }
}

/** The upload outcome each file event counts as; other events count none. */
const uploadOutcomes: Partial<Record<FileEventType, string>> = {
  CREATED: "started",
  UPLOADED: "completed",
  FAILED: "failed",
  UPLOAD_ABORTED: "aborted",
};

/** The route a URL belongs to, without ids or signatures, to keep metric labels few. */
function routeOf(url: string): string {
  const path = url.split("?")[0] ?? "/";
  const first = path.split("/")[1] ?? "";
  return ["graphql", "uploads", "downloads", "healthz", "readyz", "metrics"].includes(first) ? `/${first}` : "other";
}
