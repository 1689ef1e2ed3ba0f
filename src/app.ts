import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { availableParallelism } from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { Authenticator } from "./access/authenticate.js";
import { ensureBootstrapKey } from "./access/bootstrap.js";
import { GrantCache } from "./access/grant-cache.js";
import { RateLimits } from "./access/limits.js";
import { OidcVerifier } from "./access/oidc.js";
import type { Config } from "./config.js";
import { createDb, type Db, providerOf, sqlitePath } from "./db/client.js";
import { migrate } from "./db/migrate.js";
import { connectRedis } from "./db/redis.js";
import { FileEventBus } from "./events/bus.js";
import { FileEventFeed } from "./events/feed.js";
import type { FileEventSink } from "./events/file-event.js";
import { SharedProgressCounts } from "./events/shared-progress.js";
import { WebhookWorker } from "./events/webhook-worker.js";
import { WebhookService } from "./events/webhooks.js";
import { progressIdleMs } from "./files/progress.js";
import { FileService } from "./files/service.js";
import { Sha256Workers } from "./files/sha256.js";
import { PendingSweeper } from "./files/sweeper.js";
import { logRequest } from "./http/access-log.js";
import { corsHandler } from "./http/cors.js";
import { graphqlMultipart, isMultipart } from "./http/graphql-multipart.js";
import { graphqlWebSockets } from "./http/graphql-ws.js";
import { probes } from "./http/health.js";
import { sendError } from "./http/json.js";
import { localStorageRoutes } from "./http/local-storage.js";
import { Metrics } from "./http/metrics.js";
import { createRouter, createUpgrade } from "./http/router.js";
import { webRoutes } from "./http/web.js";
import { type RequestScope, requestScope } from "./logger.js";
import { startupStep } from "./startup.js";
import type { StorageDriver } from "./storage/driver.js";
import { createStorageDriver, type StorageOptions } from "./storage/index.js";
import { LocalStorage } from "./storage/local.js";
import { inServerSpan } from "./telemetry/server-span.js";
import { tracedStorage } from "./telemetry/storage.js";
import { createGraphQL } from "./yoga.js";

/**
 * Milliseconds a subscriber's access, once checked, holds before a delivery checks it again: a
 * revoked key or a lost membership stops receiving events within about this long.
 */
const SUBSCRIBER_RECHECK_MS = 1000;

/** Files one multipart request may carry (the GraphQL multipart `map` entries). */
const MAX_FILES_PER_REQUEST = 10;

/**
 * Largest JSON request body (and multipart `operations` field): Yoga's default 25 MB, raised when
 * base64 `content` up to MAX_INLINE_BYTES needs more (4 encoded bytes per 3, plus the query).
 */
function jsonBodyLimit(maxInlineBytes: number): number {
  return Math.max(25_000_000, Math.ceil(maxInlineBytes / 3) * 4 + 1024 * 1024);
}

export interface App {
  /** The node:http request listener serving every endpoint. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** The node:http `upgrade` listener: graphql-ws on /graphql. */
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  db: Db;
  storage: StorageDriver;
  files: FileService;
  /** The live file events (in process, or through Redis). */
  events: FileEventBus;
  /**
   * Closes the WebSocket connections (graphql-ws): the HTTP server's close waits for them, and
   * closeAllConnections does not see upgraded sockets. Called when a shutdown starts.
   */
  closeWebSockets(): Promise<void>;
  /** Expires pending uploads and reconciles the store with the rows (every instance runs one). */
  sweeper: PendingSweeper;
  /** Stops background work and closes the database and the storage driver. */
  close(): Promise<void>;
}

/** Migrates the database, bootstraps access, and builds the HTTP handler for a configuration. */
export async function createApp(config: Config, logger: Logger): Promise<App> {
  const metrics = new Metrics();
  const db = await startupStep("DATABASE_URL", describeDatabase(config.databaseUrl), async () => {
    const applied = await migrate(config.databaseUrl);
    if (applied.length > 0) logger.info({ migrations: applied }, "database migrated");
    const opened = createDb(config.databaseUrl, metrics);
    if (config.bootstrapApiKey !== undefined) await ensureBootstrapKey(opened, config.bootstrapApiKey);
    return opened;
  });
  const storage = await startupStep(...describeStorage(config), () => createStorageDriver(storageOptions(config)));
  const { redisUrl } = config;
  const redis =
    redisUrl === undefined
      ? undefined
      : await startupStep("REDIS_URL", "cannot connect to Redis", () => connectRedis(redisUrl, logger));
  const events = new FileEventBus({ redis: redis && { client: redis, keyPrefix: config.redisKeyPrefix, logger } });
  // What the file service and the sweeper emit is counted here (this instance's uploads), then published.
  const emitted: FileEventSink = {
    publish(event) {
      metrics.fileEvent(event);
      events.publish(event);
    },
  };
  // One core is left to the thread that parses bodies and writes files.
  const sha256 = new Sha256Workers({ threads: Math.min(4, availableParallelism() - 1) });
  const webhookWorker = new WebhookWorker({ db, provider: providerOf(config.databaseUrl), logger, ...config.webhooks });
  const files = new FileService({
    db,
    provider: providerOf(config.databaseUrl),
    storage: config.tracing === undefined ? storage : tracedStorage(storage),
    limits: config,
    uploadUrlTtl: config.uploadUrlTtl,
    pendingUploadTtl: config.pendingUploadTtl,
    sourceUrl: { allowedHosts: config.sourceUrlAllowedHosts, timeoutMs: config.sourceUrlTimeout * 1000 },
    sha256,
    versionsKept: config.fileVersionsKept,
    events: emitted,
    progressIntervalMs: config.uploadProgressIntervalMs,
    sharedProgress:
      redis &&
      new SharedProgressCounts({
        redis,
        keyPrefix: config.redisKeyPrefix,
        channel: (workspaceId) => events.topicOf(workspaceId),
        ttlMs: progressIdleMs,
        logger,
      }),
    seesUploadBytes: storage instanceof LocalStorage,
    outboxWritten: () => webhookWorker.nudge(),
  });
  // The local driver's signed URLs point at this server, which serves them while their upload is open.
  const storageRoutes =
    storage instanceof LocalStorage
      ? localStorageRoutes(storage, {
          openUpload: (key, part) => files.openUpload(key, part),
          objectWanted: (key) => files.objectWanted(key),
          onError: (error) => logger.error({ err: error }, "storage request failed"),
        })
      : null;
  const graphql = createGraphQL({
    db,
    files,
    events: new FileEventFeed({ db, bus: events, recheckMs: SUBSCRIBER_RECHECK_MS }),
    webhooks: new WebhookService({
      db,
      allowedHosts: config.webhooks.allowedHosts,
      deliveryDue: () => webhookWorker.nudge(),
    }),
    logger,
    maxJsonBodyBytes: jsonBodyLimit(config.maxInlineBytes),
    limits: config.graphqlLimits,
    registry: metrics.registry,
    tracing: config.tracing !== undefined,
  });
  const multipart = graphqlMultipart(graphql, {
    maxFileBytes: config.maxSingleUploadBytes,
    maxFiles: MAX_FILES_PER_REQUEST,
    maxOperationsBytes: jsonBodyLimit(config.maxInlineBytes),
  });
  const sweeper = new PendingSweeper({
    db,
    provider: providerOf(config.databaseUrl),
    storage,
    logger,
    pendingUploadTtlMs: config.pendingUploadTtl * 1000,
    events: emitted,
    outboxWritten: () => webhookWorker.nudge(),
    observer: metrics,
  });
  sweeper.start();
  webhookWorker.start();
  const grantCache = new GrantCache({ ttlMs: config.grantCacheMs });
  if (redis !== undefined) grantCache.subscribe(redis, config.redisKeyPrefix, logger);
  const gate = {
    authenticator: new Authenticator({
      db,
      grantCache,
      oidc: config.oidc === undefined ? undefined : new OidcVerifier(config.oidc),
    }),
    limits: new RateLimits({ ...config.rateLimits, redis, keyPrefix: config.redisKeyPrefix }),
    trustProxy: config.trustProxy,
  };
  const webSockets = graphqlWebSockets(graphql, gate.authenticator);
  const route = createRouter({
    gate,
    graphql,
    multipart,
    isMultipart,
    storageRoutes,
    cors: corsHandler(config.corsOrigins),
    web: await webRoutes(),
    probes: probes(
      {
        database: () => db.$queryRawUnsafe("SELECT 1"),
        // A key no file has: the store answers "not there" when it is reachable and readable.
        storage: () => storage.headObject("readyz-probe"),
      },
      logger,
    ),
    metrics: {
      async serve(res) {
        res.writeHead(200, { "content-type": metrics.registry.contentType });
        res.end(await metrics.registry.metrics());
      },
      token: config.metricsToken,
      rateLimited: (budget) => metrics.rateLimited(budget),
    },
  });

  return {
    handler(req, res) {
      metrics.observe(req, res);
      const requestId = headerValue(req.headers["x-request-id"]) ?? randomUUID();
      res.setHeader("x-request-id", requestId);
      const scope: RequestScope = { requestId };
      logRequest(logger, req, res, scope);
      if (!isUpload(req)) requestScope.run(scope, () => limitRequestTime(req, res, config.requestTimeout * 1000));
      const serve = () =>
        requestScope.run(scope, () => {
          route(req, res).catch((error: unknown) => {
            logger.error({ err: error }, "request failed");
            if (!res.headersSent) sendError(res, 500, "INTERNAL_SERVER_ERROR", "the request failed on the server");
            else res.destroy();
          });
        });
      if (config.tracing !== undefined) inServerSpan(req, res, serve);
      else serve();
    },
    upgrade: createUpgrade(gate, webSockets, (budget) => metrics.rateLimited(budget)),
    db,
    storage,
    files,
    events,
    closeWebSockets: () => webSockets.close(),
    sweeper,
    async close() {
      await webSockets.close();
      sweeper.stop();
      await webhookWorker.stop();
      events.close();
      await grantCache.close();
      redis?.disconnect();
      await db.$disconnect();
      await storage.close();
      await sha256.close();
    },
  };
}

/** What opening the database means, for a start-up failure: the file or the server, never the password. */
function describeDatabase(url: string): string {
  if (providerOf(url) === "sqlite") return `cannot open SQLite file ${sqlitePath(url)}`;
  try {
    const { hostname, port, pathname } = new URL(url);
    return `cannot use PostgreSQL at ${hostname}:${port || "5432"}${pathname}`;
  } catch {
    return "cannot use PostgreSQL";
  }
}

/** The variable that names the store, and what failed, for a start-up failure of the storage driver. */
function describeStorage(config: Config): [string, string] {
  const { storage } = config;
  if (storage.driver === "local") return ["STORAGE_LOCAL_DIR", `cannot write to ${path.resolve(storage.dir)}`];
  if (storage.driver === "s3") return ["S3_BUCKET", `cannot use S3 bucket ${storage.bucket}`];
  return ["AZURE_CONTAINER", `cannot use Azure container ${storage.container}`];
}

/** Whether a request carries an upload's bytes: a signed PUT/POST, or a GraphQL multipart POST. */
function isUpload(req: IncomingMessage): boolean {
  const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
  return (
    ((req.method === "PUT" || req.method === "POST") && path.startsWith("/uploads/")) ||
    (path === "/graphql" && isMultipart(req))
  );
}

/**
 * Answers 408 and closes the connection when a request has not fully arrived within `ms` (Node's
 * own requestTimeout is per server, and uploads must not have it): a client trickling a body
 * cannot hold a socket and a parser without bound.
 */
function limitRequestTime(req: IncomingMessage, res: ServerResponse, ms: number): void {
  if (req.complete) return;
  const timer = setTimeout(() => {
    if (req.complete) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.once("finish", () => req.socket.destroy());
    res.setHeader("connection", "close");
    sendError(res, 408, "REQUEST_TIMEOUT", `the request did not arrive within ${ms / 1000} seconds`);
  }, ms);
  timer.unref();
  const stop = (): void => clearTimeout(timer);
  req.once("end", stop);
  req.once("close", stop);
  res.once("close", stop);
}

/** The storage driver's options: the configured store, and for the local driver where its signed URLs live. */
function storageOptions(config: Config): StorageOptions {
  const { storage } = config;
  if (storage.driver !== "local") return storage;
  return { driver: "local", dir: storage.dir, publicUrl: config.publicUrl, signingSecret: config.signingSecret };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first !== undefined && /^[\w.-]{1,128}$/.test(first) ? first : undefined;
}
