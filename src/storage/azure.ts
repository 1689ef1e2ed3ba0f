import type { Readable } from "node:stream";
import {
  BlobSASPermissions,
  BlobServiceClient,
  type BlockBlobClient,
  type ContainerClient,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  newPipeline,
} from "@azure/storage-blob";
import { blockId, isUploadId, newUploadId, parseBlockId } from "./azure-blocks.js";
import { converted, isNotFound, reason } from "./azure-errors.js";
import { CountedBody } from "./counted-body.js";
import {
  StorageError,
  type KeyValue,
  type ObjectInfo,
  type PutObjectOptions,
  type SignDownloadOptions,
  type SignUploadOptions,
  type SignedPart,
  type SignedUploadTarget,
  type StorageCapabilities,
  type StorageDriver,
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
/** Body of the one-byte marker blocks that open and abort an upload (see azure-blocks.ts). */
const MARKER = Buffer.from("\n");
const loopbackHosts = new Set(["127.0.0.1", "localhost", "[::1]"]);

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
    const pipeline = newPipeline(this.credential, { retryOptions: { maxTries: 4, retryDelayInMs: 500, maxRetryDelayInMs: 8000 } });
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
      throw new Error(`Azure container ${container} of account ${accountName} is missing or unreachable at ${endpoint}: ${reason(error)}`);
    }
  }

  /** Nothing to release: the SDK's connections close on their own. */
  async close(): Promise<void> {}

  private blob(key: string): BlockBlobClient {
    return this.container.getBlockBlobClient(key);
  }

  /** A service SAS for one blob: these permissions, until `expiresAt`, with response header overrides. */
  private sas(key: string, permissions: string, expiresAt: Date, overrides: { contentType?: string; contentDisposition?: string } = {}): string {
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
    if (range && !(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end) && 0 <= range.start && range.start <= range.end)) {
      throw new RangeError(`invalid byte range ${range.start}-${range.end}`);
    }
    try {
      const downloaded = await this.blob(key).download(range?.start ?? 0, range ? range.end - range.start + 1 : undefined);
      // In Node the body is a Readable (the SDK's retrying stream).
      return downloaded.readableStreamBody as Readable;
    } catch (error) {
      throw converted(error, `no object at ${key}`);
    }
  }

  async deleteObject(key: string): Promise<void> {
    try {
      await this.blob(key).deleteIfExists({ deleteSnapshots: "include" });
    } catch (error) {
      throw converted(error, `deleteObject ${key}`);
    }
  }

  /**
   * A Put Blob target. The SAS grants create only: it writes a blob that does not exist yet and
   * can never replace one (Azure answers 403), whatever headers the client sends, so verified
   * bytes cannot be replaced through it. A SAS binds no header: Content-Type, Content-Length
   * and If-None-Match are listed for the client, and completeUpload checks what arrived.
   */
  async signUpload(options: SignUploadOptions): Promise<SignedUploadTarget> {
    if (options.method !== "PUT") throw new RangeError(`Azure Blob storage has no ${options.method} upload`);
    const url = `${this.blob(options.key).url}?${this.sas(options.key, "c", options.expiresAt)}`;
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

  async createMultipartUpload(key: string, _options: PutObjectOptions): Promise<string> {
    const uploadId = newUploadId();
    try {
      await this.blob(key).stageBlock(blockId(uploadId, "o", 0), MARKER, MARKER.length);
    } catch (error) {
      throw converted(error, `createMultipartUpload ${key}`);
    }
    return uploadId;
  }

  /**
   * A Put Block URL for the part's block. Put Block needs write permission, which on Azure also
   * allows a Put Blob over the whole blob until the URL expires; the URL lives UPLOAD_URL_TTL.
   * Its answer carries no ETag: the part's ETag is its block id, given here.
   */
  async signUploadPart(key: string, uploadId: string, partNumber: number, expiresAt: Date): Promise<SignedPart> {
    if (!isUploadId(uploadId)) throw new StorageError("no such multipart upload", "NOT_FOUND");
    if (!Number.isSafeInteger(partNumber) || partNumber < 1) throw new RangeError("partNumber must be a whole number from 1");
    const id = blockId(uploadId, "p", partNumber);
    const query = `comp=block&blockid=${encodeURIComponent(id)}&${this.sas(key, "w", expiresAt)}`;
    return { url: `${this.blob(key).url}?${query}`, etag: id };
  }

  /** The upload's uncommitted parts; NOT_FOUND when it was never opened, is aborted, or was committed. */
  async listParts(key: string, uploadId: string): Promise<StoredPart[]> {
    if (!isUploadId(uploadId)) throw new StorageError("no such multipart upload", "NOT_FOUND");
    let blocks: { name: string; size: number }[];
    try {
      blocks = (await this.blob(key).getBlockList("uncommitted")).uncommittedBlocks ?? [];
    } catch (error) {
      throw converted(error, `listParts ${key}`);
    }
    let opened = false;
    const parts: StoredPart[] = [];
    for (const block of blocks) {
      const parsed = parseBlockId(block.name);
      if (parsed?.uploadId !== uploadId) continue;
      if (parsed.kind === "x") throw new StorageError("the multipart upload was aborted", "NOT_FOUND");
      if (parsed.kind === "o") opened = true;
      else parts.push({ partNumber: parsed.n, etag: block.name, size: block.size });
    }
    if (!opened) throw new StorageError("no such multipart upload", "NOT_FOUND");
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** Put Block List with the parts' blocks in part order; every other uncommitted block is discarded. */
  async completeMultipartUpload(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
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
    try {
      await this.blob(key).commitBlockList(parts.map((part) => bare(part.etag)));
    } catch (error) {
      const failure = converted(error, `completeMultipartUpload ${key}`);
      // A completion that raced this one committed the blocks first: the upload is gone, as on S3.
      if (failure.code === "INVALID_PART") await this.listParts(key, uploadId);
      throw failure;
    }
  }

  /**
   * Marks the upload aborted with a block of its own; its blocks lapse (Azure discards uncommitted
   * blocks after a week, or at the blob's next commit or deletion). A missing upload is not an error.
   */
  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.listParts(key, uploadId);
      await this.blob(key).stageBlock(blockId(uploadId, "x", 0), MARKER, MARKER.length);
    } catch (error) {
      const failure = converted(error, `abortMultipartUpload ${key}`);
      if (failure.code !== "NOT_FOUND") throw failure;
    }
  }
}
