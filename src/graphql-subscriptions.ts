import { ServerResponse } from "node:http";
import type { Socket } from "node:net";
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
import { Delivery } from "./events/delivery.js";

// What a subscription costs per event, when a hundred subscribers hear each one: one GraphQL
// execution (errors masked) per group of subscribers that would compute the same result, and
// one write per subscriber, without a promise between the feed and the socket.

/** Masks the errors of a result as Yoga's error masking does (src/yoga.ts gives its maskError). */
export type MaskError = (error: GraphQLError) => Error;

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

/**
 * The result of the event for the subscription with `key`, its errors masked: computed and masked
 * once per key and event (an unexpected error is logged once, not once per subscriber). Once a
 * result computed asynchronously has settled, later calls get it at once.
 */
function executeEvent(
  args: ExecutionArgs,
  key: string,
  payload: unknown,
  maskError: MaskError,
): ExecutionResult | Promise<ExecutionResult> {
  if (typeof payload !== "object" || payload === null) return maskedExecution(args, payload, maskError);
  let byKey = executions.get(payload);
  if (byKey === undefined) {
    byKey = new Map();
    executions.set(payload, byKey);
  }
  const known = byKey.get(key);
  if (known !== undefined) return known;
  // Every subscriber of the group gets this object: no hook writes into a result (the masking
  // hook copies one it changes).
  const result = maskedExecution(args, payload, maskError);
  byKey.set(key, result);
  if (result instanceof Promise) {
    const settled = byKey;
    result.then((value) => settled.set(key, value));
  }
  return result;
}

/** `execute` with the event as root value, the result's errors masked. */
function maskedExecution(
  args: ExecutionArgs,
  payload: unknown,
  maskError: MaskError,
): ExecutionResult | Promise<ExecutionResult> {
  const masked = (result: ExecutionResult): ExecutionResult =>
    result.errors === undefined ? result : { ...result, errors: result.errors.map(maskError) as GraphQLError[] };
  const result = execute({ ...args, rootValue: payload });
  return result instanceof Promise ? result.then(masked) : masked(result);
}

/**
 * An SSE subscription's events as the feed queues them (src/events/feed.ts) and their shared
 * results, for serverSentEvents to write those without errors as they come: the per-subscriber
 * hooks of Yoga's plugins (error masking, Prometheus' error counter, OpenTelemetry's span status)
 * act only on results with errors, and masking is applied to the shared result already.
 */
interface DirectEvents {
  source: Delivery<unknown>;
  result(payload: unknown): ExecutionResult | Promise<ExecutionResult>;
}

/** By request: the SSE response of a subscription finds its events there (see DirectEvents). */
const directEvents = new WeakMap<object, DirectEvents>();

/**
 * Subscriptions as graphql-js runs them (the source stream, then `execute` per event with the
 * event as root value), with each event's execution shared by the subscriptions that have the
 * same sharing key. Access is still checked per subscriber before each delivery
 * (src/events/feed.ts decides which events reach the stream); sharing only saves computing the
 * same answer twice.
 */
const useSharedSubscriptionExecution = (maskError: MaskError): Plugin => ({
  onSubscribe({ subscribeFn, setSubscribeFn }) {
    setSubscribeFn(async (args) => {
      const stream = await createSourceEventStream(args);
      // A refusal (bad variables, a workspace that cannot be read…): answered by Yoga's own
      // subscribe, so that its errors keep their form and HTTP status. It runs the field's
      // subscribe again, which only reads.
      if (!isAsyncIterable(stream)) return subscribeFn(args);
      const key = sharingKey(args);
      const result = (payload: unknown) => executeEvent(args, key, payload, maskError);
      // An HTTP request (graphql-ws has none): its response may be server-sent events.
      const { request } = args.contextValue as Partial<{ request: Request }>;
      if (stream instanceof Delivery && request !== undefined) directEvents.set(request, { source: stream, result });
      const operation = getOperationAST(args.document, args.operationName);
      return mapAsyncIterator(
        stream,
        result,
        // The error that ends a stream (access lost, events dropped), located as Yoga's own
        // subscribe does, for the error masking to find the original.
        (error: unknown) => {
          const original = error instanceof Error ? error : new Error(String(error));
          throw new GraphQLError(original.message, { originalError: original, nodes: operation ?? undefined });
        },
      );
    });
  },
});

/**
 * The bytes of one SSE `next` event, per result (a result shared by subscribers is encoded once):
 * `event` alone, and `chunk`, the same framed as a chunk of a chunked HTTP/1.1 body (size in hex,
 * CRLF, the bytes, CRLF: what Node.js' ServerResponse writes around them), so that one buffer can
 * be written to every subscriber's socket as it is.
 */
const encoded = new WeakMap<ExecutionResult, { event: Buffer; chunk: Buffer }>();
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

function nextEvent(result: ExecutionResult): { event: Buffer; chunk: Buffer } {
  let bytes = encoded.get(result);
  if (bytes === undefined) {
    const event = Buffer.from(`event: next\ndata: ${resultJson(result)}\n\n`);
    const size = `${event.length.toString(16)}\r\n`;
    const chunk = Buffer.concat([Buffer.from(size, "latin1"), event, Buffer.from("\r\n", "latin1")]);
    bytes = { event: chunk.subarray(size.length, size.length + event.length), chunk };
    encoded.set(result, bytes);
  }
  return bytes;
}

/**
 * An SSE body that knows the response it is piped to (Yoga's Node.js server adapter pipes a
 * Node.js stream body to its ServerResponse), so that events can skip the stream (`directSocket`).
 */
class EventStream extends Readable {
  response: ServerResponse | undefined;

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    if (destination instanceof ServerResponse) this.response = destination;
    return super.pipe(destination, options);
  }
}

/**
 * The socket an event's framed chunk may be written to, as the response's own write would put it
 * there: the response is Node.js' with a chunked body, it holds the socket (its head and every
 * earlier chunk are on it: nothing waits in this stream, which flows, nor in the response, which
 * is not corked), it has not ended, and the socket takes more. Undefined otherwise: the event
 * goes through the stream and the response, and their back-pressure.
 */
function directSocket(body: EventStream): Socket | undefined {
  const { response } = body;
  if (response === undefined || body.readableLength > 0 || body.readableFlowing !== true) return undefined;
  const { socket } = response;
  if (socket === null || !response.chunkedEncoding || response.writableCorked > 0 || response.writableEnded)
    return undefined;
  return socket.writable && !socket.writableNeedDrain ? socket : undefined;
}

/** Milliseconds between two keep-alive comments on an idle stream (as Yoga's processor). */
const PING_MS = 12_000;
const comment = textEncoder.encode(":\n\n");
const complete = textEncoder.encode("event: complete\ndata:\n\n");

/**
 * A subscription's results as server-sent events in Yoga's format (a `:` comment first, `event:
 * next` per result, `event: complete` at the end, a comment every 12 s when idle), in a Node.js
 * stream that Yoga's server adapter pipes to the response: each event is one chunk, the cached
 * bytes of its result. With `direct`, a result without errors is written as the feed queues its
 * event, while the socket takes more (no promise per event), and when `directSocket` allows, to
 * the socket itself, framed once for every subscriber (one write, where the response's would
 * cork the socket, queue the chunk's size, bytes and CRLF, and write them on the next tick); a
 * result with errors, and the stream's end, are read through `results`, the stream with the
 * per-subscriber hooks, in order.
 */
function serverSentEvents(results: AsyncIterable<ExecutionResult>, direct: DirectEvents | undefined): Readable {
  const iterator = results[Symbol.asyncIterator]();
  /** The socket takes more (the last push was below the stream's high-water mark). */
  let wanted = false;
  /** A read through `results`, or a shared result being computed, is under way. */
  let busy = false;
  /** `results` is done: `complete` is written. */
  let finished = false;
  const failed = (error: unknown): void => {
    body.destroy(error instanceof Error ? error : new Error(String(error)));
  };
  /** The shared result being computed is there (and cached: the next look finds it at once). */
  const resume = (): void => {
    busy = false;
    flow();
  };
  const readThroughHooks = (): void => {
    busy = true;
    iterator.next().then((next) => {
      busy = false;
      if (next.done === true) {
        finished = true;
        clearInterval(ping);
        body.push(complete);
        body.push(null);
        return;
      }
      if (next.value != null) wanted = body.push(nextEvent(next.value).event);
      flow();
    }, failed);
  };
  const flow = (): void => {
    while (wanted && !busy && !finished && !body.destroyed) {
      if (direct === undefined || (direct.source.unread === 0 && direct.source.ended)) {
        readThroughHooks();
        return;
      }
      if (direct.source.unread === 0) return;
      const result = direct.result(direct.source.peek());
      if (result instanceof Promise) {
        busy = true;
        result.then(resume, failed);
        return;
      }
      if (result.errors !== undefined) {
        readThroughHooks();
        return;
      }
      direct.source.take();
      const bytes = nextEvent(result);
      const socket = directSocket(body);
      if (socket === undefined) wanted = body.push(bytes.event);
      else socket.write(bytes.chunk);
    }
  };
  const body = new EventStream({
    read() {
      wanted = true;
      flow();
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
  direct?.source.watch(flow);
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
  onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
    if (resultProcessor === undefined || !isAsyncIterable(result)) return;
    const direct = directEvents.get(request);
    setResultProcessor(
      (stream, fetchAPI) =>
        // The server adapter's Response takes a Node.js stream as its body (and pipes it), which
        // the fetch types do not know.
        new fetchAPI.Response(
          serverSentEvents(stream as AsyncIterable<ExecutionResult>, direct) as unknown as BodyInit,
          {
            status: 200,
            headers: {
              "Content-Type": "text/event-stream",
              Connection: "keep-alive",
              "Cache-Control": "no-cache",
              "Content-Encoding": "none",
            },
          },
        ),
      "text/event-stream",
    );
  },
};

/**
 * The subscriptions' plugins: shared executions of an event, masked once with `maskError` (the
 * one Yoga's error masking uses), and one write per server-sent event.
 */
export function subscriptionPlugins(maskError: MaskError): Plugin[] {
  return [useSharedSubscriptionExecution(maskError), useServerSentEvents];
}
