import { AsyncLocalStorage } from "node:async_hooks";
import { pino, type Logger } from "pino";

/** Per-request values reachable from anywhere the request's work runs (error masking, logs). */
export const requestScope = new AsyncLocalStorage<{ requestId: string }>();

export function createLogger(level: string): Logger {
  return pino({
    level,
    mixin: () => {
      const scope = requestScope.getStore();
      return scope === undefined ? {} : { requestId: scope.requestId };
    },
  });
}
