import { setTimeout as sleep } from "node:timers/promises";
import { Repeater } from "graphql-yoga";
import type { FileEventBus } from "../../src/events/bus.js";
import type { FileEvent } from "../../src/events/file-event.js";
import type { UploadTargetResult } from "./files.js";

/** The events of a workspace as the bus carries them, from now on, until the iterator is returned. */
export function busEvents(bus: FileEventBus, workspaceId: string): AsyncIterator<FileEvent> {
  return new Repeater<FileEvent>(async (push, stop) => {
    const unlisten = bus.listen(workspaceId, (event) => void push(event));
    await stop;
    unlisten();
  });
}

/** The internal id in a File global ID. */
export function internalFileId(globalId: string): string {
  return Buffer.from(globalId, "base64")
    .toString("utf8")
    .replace(/^File:/, "");
}

/**
 * PUTs `body` to a signed target in `chunks` pieces with a pause between them, so the upload
 * lasts long enough for several PROGRESS events.
 */
export async function slowPut(
  target: UploadTargetResult,
  body: Buffer,
  chunks: number,
  pauseMs: number,
): Promise<Response> {
  const required = Object.fromEntries(target.headers.map((header) => [header.name, header.value]));
  const piece = Math.ceil(body.length / chunks);
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (let offset = 0; offset < body.length; offset += piece) {
        controller.enqueue(Uint8Array.from(body.subarray(offset, offset + piece)));
        await sleep(pauseMs);
      }
      controller.close();
    },
  });
  return fetch(target.url ?? "", {
    method: "PUT",
    headers: { ...required, "content-length": String(body.length) },
    body: stream,
    duplex: "half",
  } as RequestInit);
}

/**
 * Reads an async iterator from now on (a Yoga pub/sub subscription only listens once it is read)
 * and collects what it yields. `until` resolves with everything so far once an item satisfies
 * `done`, or after `timeoutMs` without one; `stop` ends the iterator.
 */
export function record<T>(iterator: AsyncIterator<T>): {
  items: T[];
  until(done: (item: T) => boolean, timeoutMs?: number): Promise<T[]>;
  stop(): Promise<void>;
} {
  const items: T[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  void (async () => {
    for (;;) {
      const next = await iterator.next().catch(() => ({ done: true as const, value: undefined }));
      if (next.done === true) break;
      items.push(next.value);
      for (const wake of waiters) wake();
    }
    ended = true;
    for (const wake of waiters) wake();
  })();
  return {
    items,
    async until(done, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!items.some(done) && !ended && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, deadline - Date.now());
          waiters.add(wake);
        });
      }
      return [...items];
    },
    async stop() {
      await iterator.return?.();
    },
  };
}

/** What a subscription delivered: a result's data, or its errors. */
export interface SubscriptionResult<T> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/**
 * A subscription over server-sent events, as Yoga serves them (POST /graphql with Accept:
 * text/event-stream): yields each `next` event's payload until `complete` or the end of the
 * stream; `return()` closes the connection.
 */
export function sseSubscription<T>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
): AsyncIterableIterator<SubscriptionResult<T>> {
  const controller = new AbortController();
  const results = sseResults<T>(url, query, variables, headers, controller.signal);
  return {
    next: () => results.next().catch(() => ({ done: true, value: undefined })),
    async return() {
      controller.abort();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* sseResults<T>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
  signal: AbortSignal,
): AsyncGenerator<SubscriptionResult<T>> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  if (response.body === null) throw new Error(`no event stream: ${response.status}`);
  const contentType = response.headers.get("content-type") ?? "";
  if (!contentType.startsWith("text/event-stream")) {
    yield (await response.json()) as SubscriptionResult<T>;
    return;
  }
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let end = buffered.indexOf("\n\n"); end !== -1; end = buffered.indexOf("\n\n")) {
      const message = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const event = /^event: (.*)$/m.exec(message)?.[1];
      const data = message
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (event === "complete") return;
      if (event === "next" && data !== "") yield JSON.parse(data) as SubscriptionResult<T>;
    }
  }
}
