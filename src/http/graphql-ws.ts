import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { ExecutionArgs } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { type Authenticator, credentialKey } from "../access/authenticate.js";
import type { Caller } from "../access/caller.js";
import { AuthenticationError } from "../access/errors.js";
import type { GraphQLServer } from "../yoga.js";

/** The sub-protocol graphql-ws speaks (The GraphQL over WebSocket Protocol). */
const PROTOCOL = "graphql-transport-ws";

/** What a connection carries once `connection_init` passed the gate. */
type Connection = {
  caller?: Caller;
  authorization?: string;
};

export interface GraphQLWebSockets {
  /** Takes over an upgrade request to /graphql that asks for graphql-transport-ws; false for any other. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Closes every connection. */
  close(): Promise<void>;
}

/**
 * GraphQL over WebSocket (the graphql-ws protocol) on /graphql, executed by the same Yoga
 * instance, plugins included. The credentials come in `connection_init`'s payload as
 * `{ authorization: "Bearer …" }` (browsers cannot set headers on a WebSocket), or else in the
 * upgrade request's Authorization header; the gate (src/access/authenticate.ts) turns them into
 * the connection's Caller, and is asked again before subscription deliveries.
 */
export function graphqlWebSockets(graphql: GraphQLServer, authenticator: Authenticator): GraphQLWebSockets {
  const server = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  useServer<Record<string, unknown> | undefined, Connection>(
    {
      // Execution goes through Yoga's envelop (error masking, limits, metrics) prepared in onSubscribe.
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      async onConnect(ctx) {
        const fromPayload = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const authorization = typeof fromPayload === "string" ? fromPayload : ctx.extra.request.headers.authorization;
        try {
          ctx.extra.caller = await authenticator.authenticate(authorization);
          ctx.extra.authorization = authorization;
          return true;
        } catch (error) {
          if (error instanceof AuthenticationError) return false;
          throw error;
        }
      },
      async onSubscribe(ctx, _id, payload) {
        const { caller, authorization } = ctx.extra;
        if (caller === undefined) return;
        const enveloped = graphql.getEnveloped({
          caller,
          reauthenticate: () => authenticator.authenticate(authorization),
          credentialKey: credentialKey(authorization),
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
        });
        let document: ExecutionArgs["document"];
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          return [error as never];
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        return {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: enveloped,
        };
      },
    },
    server,
  );
  return {
    upgrade(req, socket, head) {
      const protocols = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((item) => item.trim());
      if (!protocols.includes(PROTOCOL)) return false;
      server.handleUpgrade(req, socket, head, (ws) => server.emit("connection", ws, req));
      return true;
    },
    close() {
      for (const client of server.clients) client.close(1001, "the server is shutting down");
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Enveloped = ReturnType<GraphQLServer["getEnveloped"]>;
