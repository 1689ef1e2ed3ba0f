import { Readable } from "node:stream";
import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
  getOperationAST,
} from "graphql";
import { isAsyncIterable, mapAsyncIterator, type Plugin } from "graphql-yoga";
import type { Context } from "./context.js";

// What a subscription costs per event, when a hundred subscribers hear each one: one GraphQL
// execution per group of subscribers that would compute the same result, and one write per
// subscriber.

/**
 * The results computed for one event (a source stream's payload), by sharing key. Kept as long
 * as the event is: the bus hands the same object to every subscriber of a workspace on this
 * instance (in process, and once per Redis message), so the first subscriber to get the event
 * computes the result and the others of its group reuse it.
 */
const executions = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();

/** A number per parsed document: Yoga's parser cache gives one query text one DocumentNode. */
const documentIds = new WeakMap<DocumentNode, number>();
let lastDocumentId = 0;

/**
 * What a subscription's results depend on besides the event: the document, the operation, the
 * variables and the caller's access (`Caller.accessKey`: the same principal with the same grants).
 * Nothing else in the context changes a result (src/context.ts: services, and the caller's
 * loaders). Subscriptions with different keys never share a result.
 */
function sharingKey(args: ExecutionArgs): string {
  let documentId = documentIds.get(args.document);
  if (documentId === undefined) {
    lastDocumentId += 1;
    documentId = lastDocumentId;
    documentIds.set(args.document, documentId);
  }
  const { caller } = args.contextValue as Context;
  return JSON.stringify([documentId, args.operationName ?? null, args.variableValues ?? null, caller.accessKey]);
}

/** The result of the event for the subscription with `key`: computed once per key and event. */
function executeEvent(args: ExecutionArgs, key: string, payload: unknown): ExecutionResult | Promise<ExecutionResult> {
  if (typeof payload !== "object" || payload === null) return execute({ ...args, rootValue: payload });
  let byKey = executions.get(payload);
  if (byKey === undefined) {
    byKey = new Map();
    executions.set(payload, byKey);
  }
  let result = byKey.get(key);
  if (result === undefined) {
    // The shared result goes to each subscriber through Yoga's hooks, which copy a result they
    // change (error masking) and never write into it.
    result = execute({ ...args, rootValue: payload });
    byKey.set(key, result);
  }
  return result;
}

/**
 * Subscriptions as graphql-js runs them (the source stream, then `execute` per event with the
 * event as root value), with each event's execution shared by the subscriptions that have the
 * same sharing key. Access is still checked per subscriber before each delivery
 * (src/events/feed.ts decides which events reach the stream); sharing only saves computing the
 * same answer twice.
 */
const useSharedSubscriptionExecution: Plugin = {
  onSubscribe({ subscribeFn, setSubscribeFn }) {
    setSubscribeFn(async (args) => {
      const stream = await createSourceEventStream(args);
      // A refusal (bad variables, a workspace that cannot be read…): answered by Yoga's own
      // subscribe, so that its errors keep their form and HTTP status. It runs the field's
      // subscribe again, which only reads.
      if (!isAsyncIterable(stream)) return subscribeFn(args);
      const key = sharingKey(args);
      const operation = getOperationAST(args.document, args.operationName);
      return mapAsyncIterator(
        stream,
        (payload: unknown) => executeEvent(args, key, payload),
        // The error that ends a stream (access lost, events dropped), located as Yoga's own
        // subscribe does, for the error masking to find the original.
        (error: unknown) => {
          const original = error instanceof Error ? error : new Error(String(error));
          throw new GraphQLError(original.message, { originalError: original, nodes: operation ?? undefined });
        },
      );
    });
  },
};

/** The bytes of one SSE `next` event, per result: a result shared by subscribers is encoded once. */
const encoded = new WeakMap<ExecutionResult, Uint8Array>();
const textEncoder = new TextEncoder();

/**
 * A result as JSON, without what is only for the server: errors' `http` and `unexpected`
 * extensions and the result's `http` extension (as Yoga's own processors write it).
 */
function resultJson(result: ExecutionResult): string {
  if (result.errors === undefined && result.extensions?.http === undefined) return JSON.stringify(result);
  const { http: _http, ...extensions } = result.extensions ?? {};
  return JSON.stringify({
    ...result,
    errors: result.errors?.map((error) => {
      const { http: _status, unexpected: _unexpected, ...rest } = error.extensions ?? {};
      // A GraphQLError serializes through toJSON; anything else in `errors` is written as it is.
      const json = typeof error.toJSON === "function" ? error.toJSON() : error;
      return { ...json, extensions: Object.keys(rest).length > 0 ? rest : undefined };
    }),
    extensions: Object.keys(extensions).length > 0 ? extensions : undefined,
  });
}

function nextEvent(result: ExecutionResult): Uint8Array {
  let bytes = encoded.get(result);
  if (bytes === undefined) {
    bytes = textEncoder.encode(`event: next\ndata: ${resultJson(result)}\n\n`);
    encoded.set(result, bytes);
  }
  return bytes;
}

/** Milliseconds between two keep-alive comments on an idle stream (as Yoga's processor). */
const PING_MS = 12_000;
const comment = textEncoder.encode(":\n\n");
const complete = textEncoder.encode("event: complete\ndata:\n\n");

/**
 * A subscription's results as server-sent events in Yoga's format (a `:` comment first, `event:
 * next` per result, `event: complete` at the end, a comment every 12 s when idle), in a Node.js
 * stream that Yoga's server adapter pipes to the response: each event is one chunk, the cached
 * bytes of its result, with no web-stream controller or promise helpers per event between the
 * subscription and the socket.
 */
function serverSentEvents(results: AsyncIterable<ExecutionResult>): Readable {
  const iterator = results[Symbol.asyncIterator]();
  let reading = false;
  const pump = (): void => {
    iterator.next().then(
      (next) => {
        if (next.done === true) {
          clearInterval(ping);
          body.push(complete);
          body.push(null);
          return;
        }
        if (next.value == null) return pump();
        reading = false;
        body.push(nextEvent(next.value));
      },
      (error: unknown) => body.destroy(error instanceof Error ? error : new Error(String(error))),
    );
  };
  const body = new Readable({
    read() {
      if (reading) return;
      reading = true;
      pump();
    },
    destroy(error, callback) {
      clearInterval(ping);
      Promise.resolve(iterator.return?.()).then(
        () => callback(error),
        () => callback(error),
      );
    },
  });
  // Some browsers wait for a first byte before they report the response.
  body.push(comment);
  const ping = setInterval(() => {
    if (body.readableLength === 0) body.push(comment);
  }, PING_MS);
  return body;
}

/**
 * Server-sent events for subscriptions (serverSentEvents) in place of Yoga's processor, which
 * runs each event through a web stream's controller. Single results (a refused subscription)
 * keep Yoga's processor.
 */
const useServerSentEvents: Plugin = {
  onResultProcess({ result, resultProcessor, setResultProcessor }) {
    if (resultProcessor === undefined || !isAsyncIterable(result)) return;
    setResultProcessor(
      (stream, fetchAPI) =>
        // The server adapter's Response takes a Node.js stream as its body (and pipes it), which
        // the fetch types do not know.
        new fetchAPI.Response(serverSentEvents(stream as AsyncIterable<ExecutionResult>) as unknown as BodyInit, {
          status: 200,
          headers: {
            "Content-Type": "text/event-stream",
            Connection: "keep-alive",
            "Cache-Control": "no-cache",
            "Content-Encoding": "none",
          },
        }),
      "text/event-stream",
    );
  },
};

/** The subscriptions' plugins: shared executions of an event, and one write per server-sent event. */
export const subscriptionPlugins: Plugin[] = [useSharedSubscriptionExecution, useServerSentEvents];
