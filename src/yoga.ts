import { GraphQLError } from "graphql";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import type { Logger } from "pino";
import { bearerToken, callerForApiKey } from "./access/caller.js";
import type { Context } from "./context.js";
import type { Db } from "./db/client.js";
import type { FileService } from "./files/service.js";
import { requestScope } from "./logger.js";
import { schema } from "./schema/index.js";

export interface YogaOptions {
  db: Db;
  files: FileService;
  logger: Logger;
}

/** The GraphQL endpoint; built apart from the HTTP server so tests and scripts can use it alone. */
export function createGraphQL(options: YogaOptions): YogaServerInstance<Record<string, unknown>, Context> {
  const { db, files, logger } = options;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    multipart: false,
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
        if (isGraphQLError(error) && (error.originalError == null || isGraphQLError(error.originalError))) return error;
        const original = isGraphQLError(error) ? error.originalError : error;
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

/**
 * By name rather than instanceof: graphql ships CommonJS and ESM builds, and a test runner may
 * load both, giving two GraphQLError classes.
 */
function isGraphQLError(value: unknown): value is GraphQLError {
  return value instanceof Error && value.name === "GraphQLError";
}
