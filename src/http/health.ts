import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import { sendJson } from "./json.js";

/**
 * `/healthz` (the process answers) and `/readyz` (its database answers: `check` resolves).
 * Resolves false for any other path. A failed readiness check is logged with its reason.
 */
export function probes(check: () => Promise<unknown>, logger: Logger): (res: ServerResponse, path: string) => Promise<boolean> {
  return async (res, path) => {
    if (path === "/healthz") {
      sendJson(res, 200, { status: "ok" });
      return true;
    }
    if (path !== "/readyz") return false;
    try {
      await check();
      sendJson(res, 200, { status: "ready" });
    } catch (error) {
      logger.warn({ err: error }, "not ready: the database does not answer");
      sendJson(res, 503, { status: "database unreachable" });
    }
    return true;
  };
}
