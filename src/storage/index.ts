import { AzureStorage, type AzureStorageOptions } from "./azure.js";
import type { StorageDriver } from "./driver.js";
import { LocalStorage, type LocalStorageOptions } from "./local.js";
import { S3Storage, type S3StorageOptions } from "./s3.js";

/** Which driver to build, with its options. */
export type StorageOptions =
  | ({ driver: "local" } & LocalStorageOptions)
  | ({ driver: "s3" } & S3StorageOptions)
  | ({ driver: "azure" } & AzureStorageOptions);

/**
 * The storage driver the options name. The store is checked first, so that a missing bucket or
 * container, or a directory that cannot be written, stops the server at start with a message
 * naming it rather than failing the first upload. The local driver's signed URLs are served by `http/local-storage.ts`, which the app mounts.
 */
export async function createStorageDriver(options: StorageOptions): Promise<StorageDriver> {
  if (options.driver === "local") return checked(new LocalStorage(options), (driver) => driver.checkDir());
  if (options.driver === "s3") return checked(new S3Storage(options), (driver) => driver.checkBucket());
  return checked(new AzureStorage(options), (driver) => driver.checkContainer());
}

async function checked<T extends StorageDriver>(driver: T, check: (driver: T) => Promise<void>): Promise<T> {
  try {
    await check(driver);
  } catch (error) {
    await driver.close();
    throw error;
  }
  return driver;
}
