import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import { sendJson } from "./json.js";

/** What an instance needs to serve requests: each check resolves when that part answers. */
export type ReadinessChecks = Record<string, () => Promise<unknown>>;

/**
 * `/healthz` (the process answers) and `/readyz` (every check resolves: the database and the
 * storage answer). Resolves false for any other path. A failed readiness check is logged with
 * its reason, and named in the 503's `failing`.
 */
export function probes(
  checks: ReadinessChecks,
  logger: Logger,
): (res: ServerResponse, path: string) => Promise<boolean> {
  return async (res, path) => {
    if (path === "/healthz") {
      sendJson(res, 200, { status: "ok" });
      return true;
    }
    if (path !== "/readyz") return false;
    const entries = Object.entries(checks);
    const outcomes = await Promise.allSettled(entries.map(([, check]) => check()));
    const failing: string[] = [];
    for (const [index, [name]] of entries.entries()) {
      const outcome = outcomes[index];
      if (outcome?.status !== "rejected") continue;
      logger.warn({ err: outcome.reason, check: name }, `not ready: the ${name} does not answer`);
      failing.push(name);
    }
    if (failing.length === 0) sendJson(res, 200, { status: "ready" });
    else sendJson(res, 503, { status: "not ready", failing });
    return true;
  };
}
