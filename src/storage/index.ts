import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../config.js";
import { localStorageRoutes } from "../http/local-storage.js";
import type { StorageDriver } from "./driver.js";
import { LocalStorage } from "./local.js";
import { S3Storage } from "./s3.js";

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
  const driver = new S3Storage({
    bucket: storage.bucket,
    region: storage.region,
    endpoint: storage.endpoint,
    forcePathStyle: storage.forcePathStyle,
  });
  // Fail at start, naming bucket and endpoint, rather than on the first upload.
  try {
    await driver.checkBucket();
  } catch (error) {
    await driver.close();
    throw error;
  }
  return { driver, routes: null };
}
