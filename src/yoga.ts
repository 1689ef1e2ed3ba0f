import { GraphQLError } from "graphql";
import { createYoga, type GraphQLParams, type Plugin, type YogaServerInstance } from "graphql-yoga";
import type { Logger } from "pino";
import { bearerToken, callerForApiKey } from "./access/caller.js";
import type { Context } from "./context.js";
import type { Db } from "./db/client.js";
import type { FileService } from "./files/service.js";
import { useCsrfPrevention } from "./http/csrf.js";
import { MULTIPART_OPERATIONS } from "./http/graphql-multipart.js";
import { requestScope } from "./logger.js";
import { schema } from "./schema/index.js";

export interface YogaOptions {
  db: Db;
  files: FileService;
  logger: Logger;
  /** Largest JSON request body. */
  maxJsonBodyBytes: number;
}

/** Most operations in one batched request. */
const MAX_BATCH = 10;

/** Runs the operations the multipart layer parsed (src/http/graphql-multipart.ts) instead of reading a body. */
const useMultipartOperations: Plugin<Record<string, unknown>> = {
  onRequestParse({ serverContext, setRequestParser }) {
    const operations = (serverContext as Record<string, unknown> | undefined)?.[MULTIPART_OPERATIONS];
    if (operations !== undefined) setRequestParser(() => operations as GraphQLParams | GraphQLParams[]);
  },
};

/** The GraphQL endpoint; built apart from the HTTP server so tests and scripts can use it alone. */
export function createGraphQL(options: YogaOptions): YogaServerInstance<Record<string, unknown>, Context> {
  const { db, files, logger } = options;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    // GraphiQL is served from our own build, not Yoga's CDN page (src/http/web.ts).
    graphiql: false,
    // Multipart is parsed in front of Yoga, streaming (src/http/graphql-multipart.ts).
    multipart: false,
    batching: { limit: MAX_BATCH },
    maxRequestBodySize: options.maxJsonBodyBytes,
    plugins: [useCsrfPrevention, useMultipartOperations],
    // CORS is answered in front of Yoga for every endpoint (src/http/cors.ts).
    cors: false,
    logging: {
      debug: (...args) => logger.debug(args),
      info: (...args) => logger.info(args),
      warn: (...args) => logger.warn(args),
      error: (...args) => logger.error(args),
    },
    maskedErrors: {
      maskError(error, message) {
        // Errors raised as GraphQLError (auth, bad input, the parser's) are meant for the client.
        if (error instanceof GraphQLError && (error.originalError == null || error.originalError instanceof GraphQLError)) {
          return error;
        }
        const original = error instanceof GraphQLError ? error.originalError : error;
        const requestId = requestScope.getStore()?.requestId;
        logger.error({ err: original ?? error }, "unexpected error");
        return new GraphQLError(message, { extensions: { code: "INTERNAL_SERVER_ERROR", requestId } });
      },
    },
    context: async ({ request }): Promise<Context> => {
      const requestId = requestScope.getStore()?.requestId ?? "";
      const authorization = request.headers.get("authorization");
      if (authorization === null || authorization.trim() === "") return { db, files, caller: null, requestId };
      const token = bearerToken(authorization);
      const caller = token === undefined ? null : await callerForApiKey(db, token);
      if (caller === null) {
        throw new GraphQLError("The API key is not valid", {
          extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
        });
      }
      return { db, files, caller, requestId };
    },
  });
}
