import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../config.js";
import { localStorageRoutes } from "../http/local-storage.js";
import type { StorageDriver } from "./driver.js";
import { LocalStorage } from "./local.js";

export type Route = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** The configured storage driver, and the HTTP routes it serves itself (local signed URLs). */
export async function createStorage(
  config: Config,
  onError: (error: unknown, req: IncomingMessage) => void,
): Promise<{ driver: StorageDriver; routes: Route | null }> {
  const { storage } = config;
  if (storage.driver === "local") {
    const driver = new LocalStorage({ dir: storage.dir, publicUrl: config.publicUrl, signingSecret: config.signingSecret });
    return { driver, routes: localStorageRoutes(driver, { onError }) };
  }
  throw new Error(`storage driver ${storage.driver} is not available yet`);
}
