import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListPartsCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { CountedBody } from "./counted-body.js";
import {
  type KeyValue,
  type ListedObject,
  type ListedUpload,
  MAX_SIGNED_URL_SECONDS,
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
import { converted, isNotFound, preconditionFailed, s3Code } from "./s3-errors.js";

export interface S3StorageOptions {
  /** Bucket every object lives in. */
  bucket: string;
  /** Region the bucket is in (any value for most S3-compatible stores). */
  region: string;
  /** Endpoint of an S3-compatible store (MinIO, R2, Ceph); undefined for AWS S3. */
  endpoint?: string;
  /** Address buckets as `<endpoint>/<bucket>` instead of `<bucket>.<endpoint>` (MinIO, s3rver). */
  forcePathStyle?: boolean;
  /** Static credentials (tests); when absent the AWS SDK's default provider chain supplies them. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Part size `putObject` streams with: 8 MiB keeps 4 in flight at 32 MiB of memory. */
const PUT_PART_SIZE = 8 * 1024 * 1024;

/** Signs locally, but resolving the credentials may fail: converted like every SDK call. */
async function signing<T>(what: string, sign: () => Promise<T>): Promise<T> {
  try {
    return await sign();
  } catch (error) {
    throw converted(error, what);
  }
}

/**
 * Where signed PUT and POST targets write: `.uploads/<key>`. A presigned URL cannot be revoked, so
 * it must never write where a download URL reads; completion copies verified bytes to `<key>`
 * (stagedUpload). Object keys (`<workspace>/<file id>`) never start with a dot.
 */
const UPLOAD_PREFIX = ".uploads/";

function uploadKey(key: string): string {
  return `${UPLOAD_PREFIX}${key}`;
}

/** A bucket and key as CopyObject's `x-amz-copy-source` names them (URL-encoded, slashes kept). */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

function expiresIn(expiresAt: Date): number {
  const seconds = Math.ceil((expiresAt.getTime() - Date.now()) / 1000);
  return Math.min(MAX_SIGNED_URL_SECONDS, Math.max(1, seconds));
}

/** A base64 SHA-256 (as S3 reports checksums) as hex; undefined for composite (multipart) checksums. */
function hexChecksum(base64: string | undefined, type: string | undefined): string | undefined {
  if (base64 === undefined || base64.includes("-") || type === "COMPOSITE") return undefined;
  const bytes = Buffer.from(base64, "base64");
  return bytes.length === 32 ? bytes.toString("hex") : undefined;
}

/**
 * Objects in an S3-compatible bucket. Clients upload and download straight to and from the store
 * through presigned URLs; this server only signs, and reads at most what completeUpload verifies.
 */
export class S3Storage implements StorageDriver {
  readonly name = "s3";
  readonly capabilities: StorageCapabilities = {
    uploadMethods: ["PUT", "POST", "MULTIPART"],
    checksumBinding: true,
    fullObjectChecksum: true,
  };
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly endpoint: string;

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.endpoint = options.endpoint ?? `AWS S3 (${options.region})`;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? false,
      credentials: options.credentials,
      // Checksums only when we ask for them: a default CRC32 would end up in presigned URLs and
      // bind the parts to bytes we do not know when signing.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  /** Fails with a message naming the bucket and endpoint when the bucket is missing or unreachable. */
  async checkBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const reason = s3Code(error) ?? (error instanceof Error ? error.message : String(error));
      throw new Error(`S3 bucket ${this.bucket} is missing or unreachable at ${this.endpoint}: ${reason}`);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  async putObject(key: string, body: Readable, options: PutObjectOptions): Promise<{ size: number }> {
    const counted = new CountedBody(body);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: counted.stream, ContentType: options.contentType },
      partSize: PUT_PART_SIZE,
      queueSize: 4,
      // A failed body aborts the multipart upload lib-storage may have started: nothing is kept.
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      // Best effort, and never in place of the failure thrown next: an abort that fails leaves an
      // incomplete multipart upload, which the sweeper's reconciliation aborts later.
      await upload.abort().catch(() => undefined);
      throw counted.error ?? converted(error, `putObject ${key}`);
    }
    return { size: counted.size };
  }

  async headObject(key: string): Promise<ObjectInfo | null> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key, ChecksumMode: "ENABLED" }),
      );
      const checksumSha256 = hexChecksum(head.ChecksumSHA256, head.ChecksumType);
      return { size: head.ContentLength ?? 0, ...(checksumSha256 === undefined ? {} : { checksumSha256 }) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw converted(error, `headObject ${key}`);
    }
  }

  /** With `ifMatch`, only while the object still has that ETag (S3 answers 412 otherwise). */
  async getObject(key: string, range?: { start: number; end: number }, ifMatch?: string): Promise<Readable> {
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
      const got = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
          IfMatch: ifMatch,
        }),
      );
      // In Node the SDK's body is an IncomingMessage, a Readable.
      return got.Body as Readable;
    } catch (error) {
      throw converted(error, `no object at ${key}`);
    }
  }

  async *listObjects(): AsyncIterable<ListedObject[]> {
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket })[Symbol.asyncIterator]();
    for (;;) {
      let page: Awaited<ReturnType<typeof pages.next>>;
      try {
        page = await pages.next();
      } catch (error) {
        throw converted(error, "listObjects");
      }
      if (page.done === true) return;
      yield (page.value.Contents ?? []).flatMap((object): ListedObject[] => {
        if (object.Key === undefined) return [];
        const listed: ListedObject = { key: object.Key, lastModified: object.LastModified ?? new Date(0) };
        if (object.Key.startsWith(UPLOAD_PREFIX)) listed.uploadFor = object.Key.slice(UPLOAD_PREFIX.length);
        return [listed];
      });
    }
  }

  async *listMultipartUploads(): AsyncIterable<ListedUpload[]> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      let page: ListMultipartUploadsCommandOutput;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
      } catch (error) {
        throw converted(error, "listMultipartUploads");
      }
      yield (page.Uploads ?? []).flatMap((upload) =>
        upload.Key === undefined || upload.UploadId === undefined
          ? []
          : [{ key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated ?? new Date(0) }],
      );
      if (page.IsTruncated !== true) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  async deleteObject(key: string): Promise<void> {
    const keys = key.startsWith(UPLOAD_PREFIX) ? [key] : [key, uploadKey(key)];
    try {
      await Promise.all(keys.map((Key) => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }))));
    } catch (error) {
      throw converted(error, `deleteObject ${key}`);
    }
  }

  /**
   * The staged object pinned by its ETag: reads are GETs with `If-Match`, and the commit is a
   * CopyObject with `x-amz-copy-source-if-match` (single PUTs and POSTs are at most 5 GiB, which
   * is CopyObject's limit) and `If-None-Match: *` on the destination, so that only the bytes
   * verified, and only once, become the object.
   */
  async stagedUpload(key: string): Promise<StagedUpload | null> {
    const staged = uploadKey(key);
    let etag: string;
    let info: ObjectInfo;
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: staged, ChecksumMode: "ENABLED" }),
      );
      if (head.ETag === undefined) throw new Error(`the store reported no ETag for ${staged}`);
      etag = head.ETag;
      const checksumSha256 = hexChecksum(head.ChecksumSHA256, head.ChecksumType);
      info = { size: head.ContentLength ?? 0, ...(checksumSha256 === undefined ? {} : { checksumSha256 }) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw converted(error, `stagedUpload ${key}`);
    }
    const changed = () => new StorageError(`the bytes staged for ${key} changed since they were pinned`, "CHANGED");
    return {
      info,
      read: async (range) => {
        try {
          return await this.getObject(staged, range, etag);
        } catch (error) {
          throw error instanceof StorageError && error.code === "CHANGED" ? changed() : error;
        }
      },
      commit: async () => {
        try {
          await this.client.send(
            new CopyObjectCommand({
              Bucket: this.bucket,
              Key: key,
              CopySource: copySource(this.bucket, staged),
              CopySourceIfMatch: etag,
              IfNoneMatch: "*",
            }),
          );
        } catch (error) {
          if (!preconditionFailed(error)) throw converted(error, `committing the upload of ${key}`);
          // Either condition answers 412: the destination tells which.
          if ((await this.headObject(key)) !== null) throw new StorageError(`${key} already exists`, "EXISTS");
          throw changed();
        }
        await this.deleteObject(staged);
      },
    };
  }

  async signUpload(options: SignUploadOptions): Promise<SignedUploadTarget> {
    if (options.method === "POST") return this.signPost(options);
    const checksum =
      options.checksumSha256 === undefined ? undefined : Buffer.from(options.checksumSha256, "hex").toString("base64");
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: uploadKey(options.key),
      ContentType: options.contentType,
      ContentLength: options.exactSize,
      ChecksumSHA256: checksum,
      // A conditional write: staged bytes are not replaced through this URL while they wait.
      IfNoneMatch: "*",
    });
    const url = await signing(`signUpload ${options.key}`, () =>
      getSignedUrl(this.client, command, {
        expiresIn: expiresIn(options.expiresAt),
        // Kept as headers (not query parameters) so S3 verifies them against the body.
        unhoistableHeaders: new Set(["x-amz-checksum-sha256"]),
        signableHeaders: new Set(["content-type", "content-length", "if-none-match"]),
      }),
    );
    const headers: KeyValue[] = [{ name: "Content-Type", value: options.contentType }];
    if (options.exactSize !== undefined) headers.push({ name: "Content-Length", value: String(options.exactSize) });
    if (checksum !== undefined) headers.push({ name: "x-amz-checksum-sha256", value: checksum });
    headers.push({ name: "If-None-Match", value: "*" });
    return { url, headers, fields: [] };
  }

  /**
   * An S3 POST policy binding the (staging) key, the size range and the Content-Type. A policy
   * has no If-None-Match: a second POST may replace staged bytes, which the pinned commit catches.
   */
  private async signPost(options: SignUploadOptions): Promise<SignedUploadTarget> {
    const min = options.exactSize ?? 0;
    const max = options.exactSize ?? options.maxSize;
    const staged = uploadKey(options.key);
    const { url, fields } = await signing(`signUpload ${options.key}`, () =>
      createPresignedPost(this.client, {
        Bucket: this.bucket,
        Key: staged,
        Conditions: [
          ["content-length-range", min, max],
          ["eq", "$Content-Type", options.contentType],
        ],
        Fields: { "Content-Type": options.contentType },
        Expires: expiresIn(options.expiresAt),
      }),
    );
    // `key` first, as S3's examples send it; every field precedes the file, which goes last.
    const { key, ...rest } = fields;
    const ordered: KeyValue[] = [{ name: "key", value: key ?? staged }];
    for (const [name, value] of Object.entries(rest)) ordered.push({ name, value });
    return { url, headers: [], fields: ordered };
  }

  /**
   * A presigned GetObject whose response headers are overridden with the type and disposition we
   * decided. S3 cannot be made to send `X-Content-Type-Options: nosniff` per request; the sniffed
   * type and the attachment disposition for anything risky are what protect the reader.
   */
  async signDownload(options: SignDownloadOptions): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: options.key,
      ResponseContentType: options.contentType,
      ResponseContentDisposition: options.contentDisposition,
    });
    return signing(`signDownload ${options.key}`, () =>
      getSignedUrl(this.client, command, { expiresIn: expiresIn(options.expiresAt) }),
    );
  }

  async createMultipartUpload(key: string, options: PutObjectOptions): Promise<string> {
    let uploadId: string | undefined;
    try {
      const created = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: options.contentType }),
      );
      uploadId = created.UploadId;
    } catch (error) {
      throw converted(error, `createMultipartUpload ${key}`);
    }
    if (uploadId === undefined)
      throw new StorageError(`createMultipartUpload ${key}: the store returned no upload id`, "FAILED");
    return uploadId;
  }

  async signUploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    expiresAt: Date,
    exactSize?: number,
  ): Promise<SignedPart> {
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: partNumber,
      ContentLength: exactSize,
    });
    return {
      url: await signing(`signUploadPart ${key}`, () =>
        getSignedUrl(this.client, command, {
          expiresIn: expiresIn(expiresAt),
          signableHeaders: new Set(["content-length"]),
        }),
      ),
    };
  }

  async listParts(key: string, uploadId: string): Promise<StoredPart[]> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(
          new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
        );
        for (const part of page.Parts ?? []) {
          parts.push({ partNumber: part.PartNumber ?? 0, etag: part.ETag ?? "", size: part.Size ?? 0 });
        }
        if (!page.IsTruncated || page.NextPartNumberMarker === undefined) break;
        marker = page.NextPartNumberMarker;
      }
    } catch (error) {
      throw converted(error, `listParts ${key}`);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void> {
    if (parts.length === 0) throw new StorageError("a multipart upload needs at least one part", "INVALID_PART");
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
        }),
      );
    } catch (error) {
      throw converted(error, `completeMultipartUpload ${key}`);
    }
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      const failure = converted(error, `abortMultipartUpload ${key}`);
      // An upload that is gone (aborted or completed already) is what aborting asks for.
      if (failure.code === "NOT_FOUND") return;
      throw failure;
    }
  }
}
