import { createServer, type Server } from "node:http";
import type { App } from "../app.js";
import type { Config } from "../config.js";

/**
 * The Node HTTP server the app's handler is attached to, configured as the app needs it wherever
 * it listens (src/main.ts, and the tests' servers):
 * - Sockets and request bodies buffer up to 1 MiB (Node's default is 16 KiB), so an upload's
 *   socket is not paused and resumed for nearly every chunk while the body is parsed, hashed and
 *   written.
 * - Uploads may take long; only a connection idle for 5 minutes is cut (Node's default is never),
 *   so a client that stalls mid-body does not hold its socket and temporary file forever. Every
 *   other request must arrive within REQUEST_TIMEOUT (the app's own timer, as Node's
 *   requestTimeout cannot spare uploads), and the headers of any request within that too
 *   (`serveApp`).
 * - An idle keep-alive connection is kept 65 seconds (Node's default is 5): longer than the idle
 *   timeout of the load balancers in front (60 seconds on AWS's and nginx's defaults), so the
 *   server never closes a connection the balancer or a client is about to send a request on
 *   (that request would fail with a reset).
 */
export function createHttpServer(): Server {
  const server = createServer({ highWaterMark: 1024 * 1024 });
  server.requestTimeout = 0;
  server.timeout = 5 * 60 * 1000;
  server.keepAliveTimeout = 65 * 1000;
  return server;
}

/** Serves `app` on `server` (from `createHttpServer`): its requests, its WebSocket upgrades, REQUEST_TIMEOUT for headers. */
export function serveApp(server: Server, app: App, config: Config): void {
  server.headersTimeout = config.requestTimeout * 1000;
  server.on("request", app.handler);
  server.on("upgrade", app.upgrade);
}
