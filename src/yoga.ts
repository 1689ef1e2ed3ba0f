import { useOpenTelemetry } from "@envelop/opentelemetry";
import { usePrometheus } from "@graphql-yoga/plugin-prometheus";
import { SpanKind, trace } from "@opentelemetry/api";
import { PothosValidationError } from "@pothos/core";
import { type ExecutionResult, GraphQLError, getOperationAST } from "graphql";
import { createYoga, type GraphQLParams, type Plugin, type YogaServerInstance } from "graphql-yoga";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Caller } from "./access/caller.js";
import { AuthenticationError, ForbiddenError } from "./access/errors.js";
import type { Context } from "./context.js";
import type { Db } from "./db/client.js";
import type { FileEventFeed } from "./events/feed.js";
import { EventsDroppedError } from "./events/feed.js";
import type { WebhookService } from "./events/webhooks.js";
import { NotFoundError, ValidationError } from "./files/errors.js";
import { FolderService } from "./files/folders.js";
import { fileLoaders } from "./files/loaders.js";
import type { FileService } from "./files/service.js";
import { type DocumentLimits, documentLimitPlugins } from "./graphql-limits.js";
import { subscriptionPlugins } from "./graphql-subscriptions.js";
import { useCsrfPrevention } from "./http/csrf.js";
import { MULTIPART_OPERATIONS } from "./http/graphql-multipart.js";
import { requestScope } from "./logger.js";
import { schema } from "./schema/index.js";
import { StorageError } from "./storage/driver.js";

export interface YogaOptions {
  db: Db;
  files: FileService;
  events: FileEventFeed;
  webhooks: WebhookService;
  logger: Logger;
  /** Largest JSON request body. */
  maxJsonBodyBytes: number;
  limits: DocumentLimits;
  /** Where GraphQL's Prometheus metrics are registered (served at /metrics). */
  registry: Registry;
  /** Spans for parsing, validating and executing each operation (OpenTelemetry, Envelop's plugin). */
  tracing: boolean;
}

/** What the HTTP layer hands Yoga with each request. */
export interface ServerContext {
  /** The request's caller, from the gate (src/access/authenticate.ts), which runs before Yoga. */
  caller: Caller;
  /** Runs the gate again on the request's credentials: subscriptions check them before deliveries. */
  reauthenticate: () => Promise<Caller>;
  /** Names the request's credentials (`credentialKey` in src/access/authenticate.ts). */
  credentialKey: string;
  /** The operations the multipart layer parsed, for multipart requests. */
  [MULTIPART_OPERATIONS]?: GraphQLParams | GraphQLParams[];
}

export type GraphQLServer = YogaServerInstance<ServerContext, Context>;

/** Most operations in one batched request. */
const MAX_BATCH = 10;

/** Runs the operations the multipart layer parsed (src/http/graphql-multipart.ts) instead of reading a body. */
const useMultipartOperations: Plugin<ServerContext> = {
  onRequestParse({ serverContext, setRequestParser }) {
    const operations = (serverContext as Partial<ServerContext> | undefined)?.[MULTIPART_OPERATIONS];
    if (operations !== undefined) setRequestParser(() => operations);
  },
};

/** The error with the request's id added to its extensions. */
function withRequestId(error: GraphQLError, requestId: string): GraphQLError {
  const { nodes, source, positions, path, originalError, extensions } = error;
  return new GraphQLError(error.message, {
    nodes,
    source,
    positions,
    path,
    originalError,
    extensions: { ...extensions, requestId },
  });
}

/**
 * Every error of every answer carries the request's id in `extensions.requestId` (as every other
 * endpoint's errors do, src/http/json.ts), so a client can quote it and an operator find the logs.
 */
const useRequestIdOnErrors: Plugin = {
  onResultProcess({ result, setResult }) {
    const requestId = requestScope.getStore()?.requestId;
    if (requestId === undefined || Symbol.asyncIterator in result) return;
    const tag = (one: ExecutionResult): ExecutionResult =>
      one.errors === undefined ? one : { ...one, errors: one.errors.map((error) => withRequestId(error, requestId)) };
    setResult(Array.isArray(result) ? result.map(tag) : tag(result as ExecutionResult));
  },
};

/** Records each operation a request runs in its scope, for the access log. */
const useOperationScope: Plugin = {
  onExecute({ args }) {
    const scope = requestScope.getStore();
    const operation = getOperationAST(args.document, args.operationName);
    if (scope === undefined || operation == null) return;
    scope.operations ??= [];
    scope.operations.push(`${operation.operation} ${operation.name?.value ?? "(anonymous)"}`);
  },
};

/**
 * The GraphQL error a client sees for a failure of the gate's, or for input Pothos or our checks
 * refused (a malformed global ID, ill-formed text…), or null when it is none of these.
 */
function clientError(error: unknown): GraphQLError | null {
  if (error instanceof PothosValidationError) {
    // The message may quote the input: keep it short.
    const message = error.message.length > 200 ? `${error.message.slice(0, 200)}…` : error.message;
    return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });
  }
  // A field with no error union to carry it (src/schema/well-formed.ts checks every argument).
  if (error instanceof ValidationError)
    return new GraphQLError(error.message, { extensions: { code: "BAD_USER_INPUT" } });
  if (error instanceof AuthenticationError) {
    return new GraphQLError(error.message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
  }
  // A subscription's workspace or file that cannot be read (at subscribe time, or any more).
  if (error instanceof NotFoundError) return new GraphQLError(error.message, { extensions: { code: "NOT_FOUND" } });
  // A subscriber that stopped reading: its stream ends rather than the server's memory.
  if (error instanceof EventsDroppedError)
    return new GraphQLError(error.message, { extensions: { code: "EVENTS_DROPPED" } });
  if (error instanceof ForbiddenError) {
    return new GraphQLError(error.message, {
      extensions: { code: "FORBIDDEN", requiredRole: error.requiredRole, http: { status: 403 } },
    });
  }
  return null;
}

/** What a client is told of an error it is not meant to see. */
const UNEXPECTED_ERROR = "Unexpected error.";

/** The GraphQL endpoint; built apart from the HTTP server so tests and scripts can use it alone. */
export function createGraphQL(options: YogaOptions): GraphQLServer {
  const { db, files, events, webhooks, logger } = options;
  const folders = new FolderService(db);
  // Errors maskError has dealt with (logged with the request id when unexpected): Yoga logs every
  // error whose masked form differs from it again, client mistakes included, which it skips.
  const masked = new WeakSet<object>();
  /**
   * What a client sees of an error: the gate's and input errors as client errors, GraphQL errors
   * as they are, anything else logged and masked. Masking a masked error gives it back unchanged.
   */
  const maskError = (error: unknown, message: string): Error => {
    if (typeof error === "object" && error !== null) masked.add(error);
    const original = error instanceof GraphQLError ? error.originalError : error;
    const located = error instanceof GraphQLError ? error : undefined;
    const refused = clientError(original);
    if (refused !== null) {
      return new GraphQLError(refused.message, {
        nodes: located?.nodes,
        path: located?.path,
        extensions: refused.extensions,
      });
    }
    // Errors raised as GraphQLError (auth, bad input, the parser's) are meant for the client.
    if (error instanceof GraphQLError && (original == null || original instanceof GraphQLError)) return error;
    logger.error({ err: original ?? error }, "unexpected error");
    // A fault the client cannot fix but should know of: say what it is, still as an internal error.
    const full = original instanceof StorageError && original.code === "FULL";
    return new GraphQLError(full ? "The storage is full: the file could not be stored. Try again later." : message, {
      nodes: located?.nodes,
      path: located?.path,
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    });
  };
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    // GraphiQL is served from our own build, not Yoga's CDN page (src/http/web.ts).
    graphiql: false,
    // Multipart is parsed in front of Yoga, streaming (src/http/graphql-multipart.ts).
    multipart: false,
    batching: { limit: MAX_BATCH },
    maxRequestBodySize: options.maxJsonBodyBytes,
    plugins: [
      useCsrfPrevention as Plugin<ServerContext>,
      useMultipartOperations,
      useOperationScope as Plugin<ServerContext>,
      useRequestIdOnErrors as Plugin<ServerContext>,
      ...(documentLimitPlugins(options.limits) as Plugin<ServerContext>[]),
      // A subscription event's result is masked once, for every subscriber it is shared with.
      ...(subscriptionPlugins((error) => maskError(error, UNEXPECTED_ERROR)) as Plugin<ServerContext>[]),
      // Operations by name and type, with their outcome and the time of each phase. HTTP timing
      // is the router's (http_request_duration_seconds); summaries and per-field work are off.
      usePrometheus({
        registry: options.registry,
        endpoint: false,
        metrics: {
          graphql_envelop_request: true,
          graphql_envelop_request_duration: true,
          graphql_envelop_phase_parse: true,
          graphql_envelop_phase_validate: true,
          graphql_envelop_phase_context: true,
          graphql_envelop_phase_execute: true,
          graphql_envelop_phase_subscribe: true,
          graphql_envelop_error_result: true,
          graphql_envelop_request_time_summary: false,
          graphql_envelop_deprecated_field: false,
          graphql_envelop_schema_change: false,
          graphql_yoga_http_duration: false,
        },
      }) as Plugin<ServerContext>,
      // No variables or results on the spans: they may hold file contents and personal data.
      ...(options.tracing
        ? [
            useOpenTelemetry(
              { resolvers: false, variables: false, result: false },
              trace.getTracerProvider(),
              SpanKind.INTERNAL,
            ) as Plugin<ServerContext>,
          ]
        : []),
    ],
    // CORS is answered in front of Yoga for every endpoint (src/http/cors.ts).
    cors: false,
    logging: {
      debug: (...args) => logger.debug(args),
      info: (...args) => logger.info(args),
      warn: (...args) => logger.warn(args),
      error: (...args) => {
        if (args.length === 1 && typeof args[0] === "object" && args[0] !== null && masked.has(args[0])) return;
        logger.error(args);
      },
    },
    maskedErrors: { errorMessage: UNEXPECTED_ERROR, maskError },
    context: ({ caller, reauthenticate, credentialKey }): Context => ({
      db,
      files,
      folders,
      loaders: fileLoaders(db, caller),
      caller,
      subscriber: { caller, reauthenticate, credentialKey },
      events,
      webhooks,
      requestId: requestScope.getStore()?.requestId ?? "",
    }),
  });
}
