import { AsyncLocalStorage } from "node:async_hooks";
import { type Logger, pino } from "pino";

/** What the access log and error reports know of the request being served. */
export interface RequestScope {
  requestId: string;
  /** The caller's principal key (src/access/caller.ts), once the gate has authenticated it. */
  principal?: string;
  /** The GraphQL operations the request ran, as `<type> <name>`. */
  operations?: string[];
}

/** Per-request values reachable from anywhere the request's work runs (error masking, logs). */
export const requestScope = new AsyncLocalStorage<RequestScope>();

export type LogFormat = "json" | "pretty";

/**
 * The process's logger: JSON lines, or pino-pretty's human output (on a worker thread) for
 * `pretty`. Lines logged while a request is served carry its `requestId`.
 */
export function createLogger(level: string, format: LogFormat): Logger {
  return pino({
    level,
    mixin: () => {
      const scope = requestScope.getStore();
      return scope === undefined ? {} : { requestId: scope.requestId };
    },
    ...(format === "pretty"
      ? { transport: { target: "pino-pretty", options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" } } }
      : {}),
  });
}
