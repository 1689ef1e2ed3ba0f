import { setFlagsFromString } from "node:v8";
import type { App } from "./app.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { createHttpServer, serveApp } from "./http/node-server.js";
import { createLogger } from "./logger.js";
import { failureReason, StartupError } from "./startup.js";

// The only module that listens: configuration → tracing → app → HTTP server → orderly shutdown.

// Room above the live heap before V8 starts a major GC: twice the live size instead of V8's own
// factor, which it takes down to 1.1 while an upload promotes little. With that factor a heap of
// ~45 MB got a limit 24 MB above it, and V8 then started marking after every young GC (one per
// ~32 MB of a large upload's dead socket buffers): 15-19 mark-compacts per 512 MiB, twice the
// CPU, and it stayed so (bench/README.md, uploads). V8 reads this flag at each limit it computes,
// so setting it here covers every way the server is started (--initial-old-space-size, read once
// when the heap is made, would have to be on node's command line); a value given there wins.
if (!process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) {
  setFlagsFromString("--heap-growing-percent=100");
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`Configuration error: ${error.message}`);
  process.exit(1);
}
const logger = createLogger(
  config.logLevel,
  config.logFormat === "auto" ? (process.stdout.isTTY ? "pretty" : "json") : config.logFormat,
);
if (process.env.SIGNING_SECRET === undefined) {
  logger.warn(
    "SIGNING_SECRET is not set: signed URLs stop working when this process restarts and differ between instances",
  );
}
// Tracing starts before the app's modules load, so its instrumentations can patch them.
const stopTracing = config.tracing
  ? (await import("./telemetry/tracing.js")).startTracing(config.tracing)
  : async () => undefined;
const { createApp } = await import("./app.js");
let app: App;
try {
  app = await createApp(config, logger);
} catch (error) {
  // One line naming the variable to fix (src/startup.ts); the cause in full at debug level.
  logger.debug({ err: error }, "start-up failed");
  console.error(`Start-up failed: ${error instanceof StartupError ? error.message : failureReason(error)}`);
  await stopTracing();
  process.exit(1);
}
const server = createHttpServer();
serveApp(server, app, config);
server.listen(config.port, config.host, () => {
  const address = server.address();
  if (typeof address !== "object" || address === null) return;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  logger.info(
    { address: address.address, port: address.port, publicUrl: config.publicUrl },
    `listening on http://${host}:${address.port}/graphql (clients use ${config.publicUrl}/graphql)`,
  );
});

// On SIGINT/SIGTERM: stop accepting connections, let requests in flight finish for up to
// SHUTDOWN_TIMEOUT seconds, then cut what is left, close the app and flush the spans.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    logger.info({ signal, drainSeconds: config.shutdownTimeout }, "shutting down: draining requests in flight");
    const deadline = setTimeout(() => {
      logger.warn("drain deadline passed: closing the connections still open");
      server.closeAllConnections();
    }, config.shutdownTimeout * 1000);
    deadline.unref();
    // A connection whose request finishes during the drain stays open as keep-alive (65 s,
    // src/http/node-server.ts) and would hold close() until the deadline: idle ones are closed as
    // they come.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearTimeout(deadline);
      clearInterval(idle);
      app
        .close()
        .then(stopTracing)
        .then(
          () => process.exit(0),
          () => process.exit(1),
        );
    });
    server.closeIdleConnections();
    // Subscriptions never end by themselves: WebSocket clients are told to reconnect elsewhere
    // (1001, going away); server-sent event streams last until the drain deadline.
    void app.closeWebSockets();
  });
}
