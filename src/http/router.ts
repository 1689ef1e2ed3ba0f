import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import proxyAddr from "proxy-addr";
import { type Authenticator, carriesBearer, credentialKey } from "../access/authenticate.js";
import type { Caller } from "../access/caller.js";
import { AuthenticationError, RateLimitedError } from "../access/errors.js";
import type { Budget, RateLimits } from "../access/limits.js";
import { IdentityProviderUnavailableError } from "../access/oidc.js";
import { requestScope } from "../logger.js";
import type { GraphQLServer, ServerContext } from "../yoga.js";
import type { MULTIPART_OPERATIONS } from "./graphql-multipart.js";
import type { GraphQLWebSockets } from "./graphql-ws.js";
import { sendError, sendGraphQLError } from "./json.js";
import type { WebRoutes } from "./web.js";

/** What the router hands the GraphQL layer with each request (the multipart layer adds its operations). */
type GraphQLContext = Omit<ServerContext, typeof MULTIPART_OPERATIONS>;

export type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface GateOptions {
  authenticator: Authenticator;
  limits: RateLimits;
  /**
   * Proxies whose `X-Forwarded-For` is believed (addresses, CIDR ranges, or proxy-addr's names
   * such as `loopback`); empty: the TCP peer is the client.
   */
  trustProxy: string[];
}

export interface RouterOptions {
  gate: GateOptions;
  graphql: GraphQLServer;
  /** GraphQL multipart POSTs (src/http/graphql-multipart.ts). */
  multipart: (req: IncomingMessage, res: ServerResponse, context: GraphQLContext) => Promise<void>;
  isMultipart: (req: IncomingMessage) => boolean;
  /** The local driver's signed URLs; resolves false for a request that is not theirs. */
  storageRoutes: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | null;
  /** Answers a CORS preflight; resolves true when it did. */
  cors: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** `/healthz` and `/readyz`; resolves false for other paths. */
  probes: (res: ServerResponse, path: string) => Promise<boolean>;
  metrics: {
    /** Answers `/metrics` (Prometheus). */
    serve(res: ServerResponse): Promise<void>;
    /** METRICS_TOKEN: when set, `/metrics` needs `Authorization: Bearer <it>`. */
    token: string | undefined;
    /** Counts a 429. */
    rateLimited(budget: Budget): void;
  };
  /** The page at `/`, GraphiQL and their assets (src/http/web.ts). */
  web: WebRoutes;
}

/**
 * Every request passes the gate here: the signed URLs spend their address's budget, GraphQL
 * requests are authenticated (src/access/authenticate.ts) and spend their principal's budget,
 * or their address's when anonymous or when authentication failed. Probes are never limited: a
 * refused probe would take a healthy instance out of rotation.
 */
export function createRouter(options: RouterOptions): Route {
  const { gate } = options;
  const trusted = proxyAddr.compile(gate.trustProxy);
  const clientAddress = (req: IncomingMessage): string => proxyAddr(req, trusted);

  /** Spends one request of a budget; answers 429 itself and returns false when it is spent. */
  async function admit(res: ServerResponse, budget: Budget, key: string, graphql: boolean): Promise<boolean> {
    const retryAfter = await gate.limits.spend(budget, key);
    if (retryAfter === undefined) return true;
    options.metrics.rateLimited(budget);
    const refusal = new RateLimitedError(retryAfter);
    res.setHeader("retry-after", String(retryAfter));
    (graphql ? sendGraphQLError : sendError)(res, 429, "RATE_LIMITED", refusal.message, { retryAfter });
    return false;
  }

  async function authenticated(req: IncomingMessage, res: ServerResponse): Promise<Caller | undefined> {
    const address = clientAddress(req);
    try {
      return await gate.authenticator.authenticate(req.headers.authorization);
    } catch (error) {
      if (error instanceof AuthenticationError) {
        // Failed credentials spend the address's budget, so guessing keys is throttled.
        if (!(await admit(res, "anonymous", address, true))) return undefined;
        res.setHeader("www-authenticate", 'Bearer error="invalid_token"');
        sendGraphQLError(res, 401, "UNAUTHENTICATED", error.message);
        return undefined;
      }
      if (error instanceof IdentityProviderUnavailableError) {
        sendGraphQLError(
          res,
          503,
          "IDENTITY_PROVIDER_UNAVAILABLE",
          `The token could not be verified now: ${error.message}`,
        );
        return undefined;
      }
      throw error;
    }
  }

  return async (req, res) => {
    if (await options.cors(req, res)) return;
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (await options.probes(res, path)) return;
    if (options.storageRoutes !== null && /^\/(uploads|downloads)\//.test(path)) {
      if (!(await admit(res, "signed", clientAddress(req), false))) return;
      if (await options.storageRoutes(req, res)) return;
    }
    if (path === "/metrics") {
      // A scraper holding METRICS_TOKEN is not limited; anyone else spends the address's budget.
      const { token } = options.metrics;
      if (token !== undefined && carriesBearer(req.headers.authorization, token)) return options.metrics.serve(res);
      if (!(await admit(res, "anonymous", clientAddress(req), false))) return;
      if (token === undefined) return options.metrics.serve(res);
      res.setHeader("www-authenticate", "Bearer");
      return sendError(res, 401, "UNAUTHENTICATED", "/metrics needs Authorization: Bearer <METRICS_TOKEN>");
    }
    // Static files anyone may load: each spends its address's anonymous budget.
    if (options.web.matches(req)) {
      if (await admit(res, "anonymous", clientAddress(req), false)) await options.web.serve(req, res);
      return;
    }
    const caller = await authenticated(req, res);
    if (caller === undefined) return;
    const key = caller.principalKey;
    const scope = requestScope.getStore();
    if (scope !== undefined && key !== null) scope.principal = key;
    const spent = key === null ? admit(res, "anonymous", clientAddress(req), true) : admit(res, "principal", key, true);
    if (!(await spent)) return;
    const subscriber = {
      caller,
      reauthenticate: () => gate.authenticator.authenticate(req.headers.authorization),
      credentialKey: credentialKey(req.headers.authorization),
    };
    if (path === "/graphql" && options.isMultipart(req)) return options.multipart(req, res, subscriber);
    await options.graphql.handle(req, res, subscriber);
  };
}

/**
 * WebSocket upgrades: graphql-ws on /graphql, which authenticates in its `connection_init`. An
 * upgrade spends its address's anonymous budget (429 when spent); any other upgrade is refused.
 */
export function createUpgrade(
  gate: GateOptions,
  webSockets: GraphQLWebSockets,
  rateLimited: (budget: Budget) => void,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const trusted = proxyAddr.compile(gate.trustProxy);
  const refuse = (socket: Duplex, status: string, headers: string[] = []) => {
    socket.end([`HTTP/1.1 ${status}`, "Connection: close", "Content-Length: 0", ...headers, "", ""].join("\r\n"));
  };
  return (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/graphql") return refuse(socket, "404 Not Found");
    gate.limits.spend("anonymous", proxyAddr(req, trusted)).then(
      (retryAfter) => {
        if (retryAfter !== undefined) {
          rateLimited("anonymous");
          return refuse(socket, "429 Too Many Requests", [`Retry-After: ${retryAfter}`]);
        }
        if (!webSockets.upgrade(req, socket, head))
          refuse(socket, "426 Upgrade Required", ["Sec-WebSocket-Protocol: graphql-transport-ws"]);
      },
      () => socket.destroy(),
    );
  };
}
