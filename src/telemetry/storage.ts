import type { StorageDriver } from "../storage/driver.js";
import { inSpan } from "./spans.js";

/**
 * The calls that reach the store, each traced. Signing is left out: it is local work, and a
 * MULTIPART target signs up to 10,000 part URLs at once.
 */
const traced = new Set<string>([
  "putObject",
  "headObject",
  "stagedUpload",
  "getObject",
  "deleteObject",
  "createMultipartUpload",
  "listParts",
  "completeMultipartUpload",
  "abortMultipartUpload",
] satisfies (keyof StorageDriver)[]);

/** The driver with a span around each call that reaches the store (`storage.putObject`…). */
export function tracedStorage(driver: StorageDriver): StorageDriver {
  return new Proxy(driver, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string" || !traced.has(property)) return value;
      return (...args: unknown[]) =>
        inSpan(`storage.${property}`, { "storage.driver": target.name }, async () =>
          (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
        );
    },
  });
}
