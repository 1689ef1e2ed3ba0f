// s3rver ships no types; this declares the part of its API the tests use.
declare module "s3rver" {
  import type { AddressInfo } from "node:net";

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory: string;
    resetOnClose?: boolean;
    configureBuckets?: { name: string; configs?: string[] }[];
  }

  /** A Koa application; `middleware` is Koa's array, composed when the server starts. */
  export default class S3rver {
    constructor(options: S3rverOptions);
    middleware: unknown[];
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
