import type { Readable } from "node:stream";
import {
  BlobSASPermissions,
  BlobServiceClient,
  type BlockBlobClient,
  type ContainerClient,
  generateBlobSASQueryParameters,
  newPipeline,
  SASProtocol,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { blockId, isUploadId, newUploadId, partNumberOf, STAGING_PREFIX, stagingKey } from "./azure-blocks.js";
import { converted, isNotFound, reason, sourceChanged } from "./azure-errors.js";
import { CountedBody } from "./counted-body.js";
import {
  type KeyValue,
  type ObjectInfo,
  type PutObjectOptions,
  type SignDownloadOptions,
  type SignedPart,
  type SignedUploadTarget,
  type SignUploadOptions,
  type StagedUpload,
  type StorageCapabilities,
  type StorageDriver,
  StorageError,
  type StoredPart,
} from "./driver.js";

export interface AzureStorageOptions {
  /** Storage account name. */
  accountName: string;
  /** The account's key (base64): it authorizes the driver's calls and signs every SAS it hands out. */
  accountKey: string;
  /**
   * Blob service endpoint, e.g. `https://<account>.blob.core.windows.net`, or Azurite's
   * `http://127.0.0.1:10000/devstoreaccount1`. SAS URLs are `https`-only unless its host is loopback.
   */
  endpoint: string;
  /** Container every blob lives in; it must exist. */
  container: string;
}

/** Block size `putObject` streams with: 8 MiB with 4 in flight holds about 40 MiB per upload. */
const PUT_BLOCK_SIZE = 8 * 1024 * 1024;
const PUT_CONCURRENCY = 4;
/** How often a copy that Azure did not finish at once is polled (the SDK's default is 15 s). */
const COPY_POLL_MS = 1000;
const loopbackHosts = new Set(["127.0.0.1", "localhost", "[::1]"]);
/**
 * Where Put Blob targets write: `.uploads/<key>`. A create-only SAS cannot replace a blob, but it
 * can create one again once the blob is deleted, so it must never name a blob a read SAS serves;
 * completion copies the verified bytes to `<key>` (stagedUpload).
 */
const UPLOAD_PREFIX = ".uploads/";

function uploadKey(key: string): string {
  return `${UPLOAD_PREFIX}${key}`;
}

/** Strips the quotes an HTTP ETag may carry, so that a quoted block id matches too. */
function bare(etag: string): string {
  return etag.replace(/^"|"$/g, "");
}

/**
 * Block blobs in one Azure Storage container. Clients upload and download straight to and from
 * the store with service SAS URLs signed by the account key; this server only signs, and reads
 * what completeUpload verifies. MULTIPART parts are blocks (azure-blocks.ts); Azure has no
 * browser form upload, so no POST targets.
 */
export class AzureStorage implements StorageDriver {
  readonly name = "azure";
  readonly capabilities: StorageCapabilities = {
    uploadMethods: ["PUT", "MULTIPART"],
    // Azure verifies MD5 and CRC64 of a body, never SHA-256: completeUpload hashes the blob.
    checksumBinding: false,
    fullObjectChecksum: false,
  };
  private readonly credential: StorageSharedKeyCredential;
  private readonly container: ContainerClient;
  private readonly protocol: SASProtocol;

  constructor(private readonly options: AzureStorageOptions) {
    this.credential = new StorageSharedKeyCredential(options.accountName, options.accountKey);
    // Few, short retries: an unreachable store fails the start-up check in seconds, not minutes.
    const pipeline = newPipeline(this.credential, {
      retryOptions: { maxTries: 4, retryDelayInMs: 500, maxRetryDelayInMs: 8000 },
    });
    this.container = new BlobServiceClient(options.endpoint, pipeline).getContainerClient(options.container);
    const loopback = loopbackHosts.has(new URL(options.endpoint).hostname);
    this.protocol = loopback ? SASProtocol.HttpsAndHttp : SASProtocol.Https;
  }

  /** Fails with a message naming account, container and endpoint when the container is missing or unreachable. */
  async checkContainer(): Promise<void> {
    try {
      await this.container.getProperties();
    } catch (error) {
      const { accountName, container, endpoint } = this.options;
      throw new Error(
        `Azure container ${container} of account ${accountName} is missing or unreachable at ${endpoint}: ${reason(error)}`,
      );
    }
  }

  /** Nothing to release: the SDK's connections close on their own. */
  async close(): Promise<void> {}

  private blob(key: string): BlockBlobClient {
    return this.container.getBlockBlobClient(key);
  }

  /** A service SAS for one blob: these permissions, until `expiresAt`, with response header overrides. */
  private sas(
    key: string,
    permissions: string,
    expiresAt: Date,
    overrides: { contentType?: string; contentDisposition?: string } = {},
  ): string {
    return generateBlobSASQueryParameters(
      {
        containerName: this.options.container,
        blobName: key,
        permissions: BlobSASPermissions.parse(permissions),
        expiresOn: expiresAt,
        protocol: this.protocol,
        ...overrides,
      },
      this.credential,
    ).toString();
  }

  async putObject(key: string, body: Readable, options: PutObjectOptions): Promise<{ size: number }> {
    const counted = new CountedBody(body);
    try {
      // Stages blocks as the body arrives and commits them at its end: a body that fails leaves
      // only uncommitted blocks, which Azure discards, and any previous blob as it was.
      await this.blob(key).uploadStream(counted.stream, PUT_BLOCK_SIZE, PUT_CONCURRENCY, {
        blobHTTPHeaders: { blobContentType: options.contentType },
      });
    } catch (error) {
      throw counted.error ?? converted(error, `putObject ${key}`);
    }
    return { size: counted.size };
  }

  async headObject(key: string): Promise<ObjectInfo | null> {
    try {
      const properties = await this.blob(key).getProperties();
      return { size: properties.contentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw converted(error, `headObject ${key}`);
    }
  }

  async getObject(key: string, range?: { start: number; end: number }): Promise<Readable> {
    if (
      range &&
      !(
        Number.isSafeInteger(range.start) &&
        Number.isSafeInteger(range.end) &&
        0 <= range.start &&
        range.start <= range.end
      )
    ) {
      throw new RangeError(`invalid byte range ${range.start}-${range.end}`);
    }
    try {
      const downloaded = await this.blob(key).download(
        range?.start ?? 0,
        range ? range.end - range.start + 1 : undefined,
      );
      // In Node the body is a Readable (the SDK's retrying stream).
      return downloaded.readableStreamBody as Readable;
    } catch (error) {
      throw converted(error, `no object at ${key}`);
    }
  }

  async deleteObject(key: string): Promise<void> {
    const keys = key.startsWith(UPLOAD_PREFIX) ? [key] : [key, uploadKey(key)];
    try {
      await Promise.all(keys.map((each) => this.blob(each).deleteIfExists({ deleteSnapshots: "include" })));
    } catch (error) {
      throw converted(error, `deleteObject ${key}`);
    }
  }

  /**
   * The staged blob pinned by its ETag: reads carry `If-Match`, and the commit is a Copy Blob
   * with `x-ms-source-if-match` and `If-None-Match: *` on the destination, so that only the bytes
   * verified, and only once, become the object.
   */
  async stagedUpload(key: string): Promise<StagedUpload | null> {
    const staged = this.blob(uploadKey(key));
    let etag: string;
    let size: number;
    try {
      const properties = await staged.getProperties();
      if (properties.etag === undefined) throw new Error(`the store reported no ETag for ${staged.name}`);
      etag = properties.etag;
      size = properties.contentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw converted(error, `stagedUpload ${key}`);
    }
    const failed = (error: unknown, what: string) =>
      sourceChanged(error)
        ? new StorageError(`the bytes staged for ${key} changed since they were pinned`, "CHANGED", { cause: error })
        : converted(error, what);
    return {
      info: { size },
      read: async (range) => {
        try {
          const downloaded = await staged.download(range?.start ?? 0, range ? range.end - range.start + 1 : undefined, {
            conditions: { ifMatch: etag },
          });
          // In Node the body is a Readable (the SDK's retrying stream).
          return downloaded.readableStreamBody as Readable;
        } catch (error) {
          throw failed(error, `reading the upload of ${key}`);
        }
      },
      commit: async () => {
        try {
          const copy = await this.blob(key).beginCopyFromURL(staged.url, {
            intervalInMs: COPY_POLL_MS,
            sourceConditions: { ifMatch: etag },
            conditions: { ifNoneMatch: "*" },
          });
          const copied = await copy.pollUntilDone();
          if (copied.copyStatus !== "success") {
            throw new StorageError(
              `copying the upload to ${key} ended ${copied.copyStatus ?? "without a status"}`,
              "FAILED",
            );
          }
          await staged.deleteIfExists();
        } catch (error) {
          throw failed(error, `committing the upload of ${key}`);
        }
      },
    };
  }

  /**
   * A Put Blob target for the staging blob `.uploads/<key>`. The SAS grants create only: it writes
   * a blob that does not exist yet and can never replace one (Azure answers 403), whatever headers
   * the client sends. A SAS binds no header: Content-Type, Content-Length and If-None-Match are
   * listed for the client, and completeUpload checks what arrived.
   */
  async signUpload(options: SignUploadOptions): Promise<SignedUploadTarget> {
    if (options.method !== "PUT") throw new RangeError(`Azure Blob storage has no ${options.method} upload`);
    const staged = uploadKey(options.key);
    const url = `${this.blob(staged).url}?${this.sas(staged, "c", options.expiresAt)}`;
    const headers: KeyValue[] = [
      { name: "x-ms-blob-type", value: "BlockBlob" },
      { name: "Content-Type", value: options.contentType },
    ];
    if (options.exactSize !== undefined) headers.push({ name: "Content-Length", value: String(options.exactSize) });
    headers.push({ name: "If-None-Match", value: "*" });
    return { url, headers, fields: [] };
  }

  /** A read SAS whose response carries the Content-Type and Content-Disposition we decided. */
  async signDownload(options: SignDownloadOptions): Promise<string> {
    const { key, contentType, contentDisposition, expiresAt } = options;
    return `${this.blob(key).url}?${this.sas(key, "r", expiresAt, { contentType, contentDisposition })}`;
  }

  /** Starts an upload by creating its empty staging blob (azure-blocks.ts). */
  async createMultipartUpload(key: string, _options: PutObjectOptions): Promise<string> {
    const uploadId = newUploadId();
    try {
      await this.blob(stagingKey(key, uploadId)).commitBlockList([]);
    } catch (error) {
      throw converted(error, `createMultipartUpload ${key}`);
    }
    return uploadId;
  }

  /**
   * A Put Block URL for the part's block on the upload's staging blob. Its write permission also
   * allows replacing that blob, but never the object: completion copies the object out of it.
   * Put Block answers without an ETag, so the part's ETag is its block id, given here.
   */
  async signUploadPart(key: string, uploadId: string, partNumber: number, expiresAt: Date): Promise<SignedPart> {
    if (!isUploadId(uploadId)) throw new StorageError("no such multipart upload", "NOT_FOUND");
    if (!Number.isSafeInteger(partNumber) || partNumber < 1)
      throw new RangeError("partNumber must be a whole number from 1");
    const staging = stagingKey(key, uploadId);
    const id = blockId(partNumber);
    const query = `comp=block&blockid=${encodeURIComponent(id)}&${this.sas(staging, "w", expiresAt)}`;
    return { url: `${this.blob(staging).url}?${query}`, etag: id };
  }

  /** The upload's uncommitted parts; NOT_FOUND once its staging blob is gone (aborted, completed, never started). */
  async listParts(key: string, uploadId: string): Promise<StoredPart[]> {
    if (!isUploadId(uploadId)) throw new StorageError("no such multipart upload", "NOT_FOUND");
    let blocks: { name: string; size: number }[];
    try {
      blocks = (await this.blob(stagingKey(key, uploadId)).getBlockList("uncommitted")).uncommittedBlocks ?? [];
    } catch (error) {
      throw converted(error, `listParts ${key}`);
    }
    const parts: StoredPart[] = [];
    for (const block of blocks) {
      const partNumber = partNumberOf(block.name);
      if (partNumber !== undefined) parts.push({ partNumber, etag: block.name, size: block.size });
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /**
   * Commits the parts' blocks on the staging blob in part order (Put Block List), copies that
   * blob to `key` inside the store, and deletes it. Between the commit and the end of the copy a
   * crash leaves the parts committed on the staging blob: completing again then asks for them anew.
   */
  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void> {
    if (parts.length === 0) throw new StorageError("a multipart upload needs at least one part", "INVALID_PART");
    const received = new Map((await this.listParts(key, uploadId)).map((part) => [part.partNumber, part.etag]));
    let previous = 0;
    for (const part of parts) {
      if (!Number.isInteger(part.partNumber) || part.partNumber <= previous) {
        throw new StorageError("parts must be listed in ascending part-number order", "INVALID_PART");
      }
      previous = part.partNumber;
      if (received.get(part.partNumber) !== bare(part.etag)) {
        throw new StorageError(`part ${part.partNumber} is missing or its ETag is not its block id`, "INVALID_PART");
      }
    }
    const staging = this.blob(stagingKey(key, uploadId));
    try {
      await staging.commitBlockList(parts.map((part) => bare(part.etag)));
      const copy = await this.blob(key).beginCopyFromURL(staging.url, { intervalInMs: COPY_POLL_MS });
      const copied = await copy.pollUntilDone();
      if (copied.copyStatus !== "success") {
        throw new StorageError(
          `copying the joined parts to ${key} ended ${copied.copyStatus ?? "without a status"}`,
          "FAILED",
        );
      }
      await staging.deleteIfExists();
    } catch (error) {
      // A completion that raced this one took the blocks, or the staging blob, first.
      throw converted(error, `completeMultipartUpload ${key}`);
    }
  }

  /** Deletes the upload's staging blob and every block staged on it; a missing upload is not an error. */
  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    if (!isUploadId(uploadId)) return;
    try {
      await this.blob(stagingKey(key, uploadId)).deleteIfExists();
    } catch (error) {
      throw converted(error, `abortMultipartUpload ${key}`);
    }
  }

  /**
   * Deletes staging blobs (of multipart and of single uploads) last written before `before`:
   * uploads whose file is long gone, or a staging blob a part or upload URL re-created after its
   * upload ended (the URL allows that until it expires).
   */
  async removeAbandoned(before: Date): Promise<number> {
    let removed = 0;
    try {
      for (const prefix of [STAGING_PREFIX, UPLOAD_PREFIX]) {
        for await (const blob of this.container.listBlobsFlat({ prefix })) {
          if (blob.properties.lastModified >= before) continue;
          await this.container.getBlockBlobClient(blob.name).deleteIfExists();
          removed += 1;
        }
      }
    } catch (error) {
      throw converted(error, "removeAbandoned");
    }
    return removed;
  }
}
