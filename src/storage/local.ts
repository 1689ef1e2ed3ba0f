import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import {
  type ListedObject,
  type ListedUpload,
  MAX_PARTS,
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
import { hasCode, isCount, objectPath, observeErrors, unlessMissing, writeAtomically } from "./local-files.js";
import { assertHeaderValue, epochSeconds, UrlSigner } from "./signing.js";

export interface LocalStorageOptions {
  /**
   * Directory the objects live under. Temporary files (`.tmp/`) and multipart uploads
   * (`.multipart/`) live inside it too, so every rename into place stays on one filesystem.
   */
  dir: string;
  /** Base URL clients reach this server at; the signed `/uploads/…` and `/downloads/…` URLs are built on it. */
  publicUrl: string;
  /** HMAC-SHA256 key for the signed URLs; every instance serving the same `dir` must share it. */
  signingSecret: string;
}

/** Largest part a part URL accepts, as S3 allows. */
export const MAX_PART_BYTES = 5 * 1024 ** 3;

const uploadIdPattern = /^[A-Za-z0-9_-]{22}$/;

/**
 * `body` passed through while hashed, and its ETag once it has ended: the quoted hex MD5 S3 gives
 * a single-part upload or a part.
 */
function etagOf(body: Readable): { bytes: () => AsyncIterable<Buffer>; etag: () => string } {
  const md5 = createHash("md5");
  return {
    bytes: async function* () {
      for await (const chunk of body) {
        md5.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    },
    etag: () => `"${md5.digest("hex")}"`,
  };
}

interface UploadManifest {
  key: string;
  contentType: string;
}

/** Strips the quotes S3 puts around ETags so that quoted and bare forms compare equal. */
function bareEtag(etag: string): string {
  return etag.replace(/^"|"$/g, "").toLowerCase();
}

/** Percent-encodes each segment of a key, keeping the slashes, for use in a URL path. */
function encodeKeyPath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/** Stores objects as files under a directory and signs URLs served by `localStorageRoutes`. */
/** Objects per page of a listing. */
const listPageSize = 1000;

/** The regular files under `dir`, depth first, skipping dot-named entries; with their mtime. */
async function* walkFiles(dir: string): AsyncIterable<{ path: string; mtime: Date }> {
  const entries = (await unlessMissing(readdir(dir, { withFileTypes: true }))) ?? [];
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walkFiles(full);
    else if (entry.isFile()) {
      const info = await unlessMissing(stat(full));
      if (info !== undefined) yield { path: full, mtime: info.mtime };
    }
  }
}

export class LocalStorage implements StorageDriver {
  readonly name = "local";
  readonly capabilities: StorageCapabilities = {
    uploadMethods: ["PUT", "POST", "MULTIPART"],
    checksumBinding: false,
    fullObjectChecksum: false,
  };
  /** Verifies the signed URLs this driver issues; used by the HTTP routes. */
  readonly urls: UrlSigner;
  private readonly dir: string;
  private readonly publicUrl: string;
  private readonly tmpDir: string;

  constructor(options: LocalStorageOptions) {
    this.dir = path.resolve(options.dir);
    this.tmpDir = path.join(this.dir, ".tmp");
    this.publicUrl = options.publicUrl.replace(/\/+$/, "");
    this.urls = new UrlSigner(options.signingSecret);
  }

  /** Checks at start that the directory can be created and written (a probe file in `.tmp`). */
  async checkDir(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    const probe = path.join(this.tmpDir, `${randomUUID()}.start`);
    await writeFile(probe, "", { flag: "wx" });
    await rm(probe, { force: true });
  }

  private objectPath(key: string): string {
    return objectPath(this.dir, key);
  }

  private uploadDir(uploadId: string): string {
    if (!uploadIdPattern.test(uploadId)) throw new StorageError("no such multipart upload", "NOT_FOUND");
    return path.join(this.dir, ".multipart", uploadId);
  }

  async putObject(key: string, body: Readable, _options: PutObjectOptions): Promise<{ size: number }> {
    observeErrors(body);
    // The content type is not stored: downloads are served with the type their URL was signed for.
    return { size: await writeAtomically(this.objectPath(key), body, this.tmpDir) };
  }

  /**
   * Like putObject, but never replaces: when an object is already stored under `key` (before or
   * once the body has arrived) it rejects with StorageError EXISTS and keeps the stored one. The
   * signed upload routes use it, so a still-valid upload URL cannot overwrite verified bytes.
   */
  async putNewObject(key: string, body: Readable): Promise<{ size: number; etag: string }> {
    observeErrors(body);
    // Checked first so the refusal comes before a byte is read; link() settles races.
    if ((await this.headObject(key)) !== null)
      throw new StorageError("an object is already stored under this key", "EXISTS");
    const hashed = etagOf(body);
    const size = await writeAtomically(this.objectPath(key), hashed.bytes, this.tmpDir, { exclusive: true });
    return { size, etag: hashed.etag() };
  }

  /** Removes temporary files in `.tmp` last written before `before`: writes that never finished. */
  async removeAbandoned(before: Date): Promise<number> {
    const names = (await unlessMissing(readdir(this.tmpDir))) ?? [];
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.tmpDir, name);
      const info = await unlessMissing(stat(file));
      if (info === undefined || info.mtime >= before) continue;
      await rm(file, { force: true });
      removed += 1;
    }
    return removed;
  }

  /**
   * The object itself: the signed routes write only while the upload is open and never replace
   * an object (putNewObject), so there is nothing to stage and nothing to commit.
   */
  async stagedUpload(key: string): Promise<StagedUpload | null> {
    const info = await this.headObject(key);
    if (info === null) return null;
    return { info, read: (range) => this.getObject(key, range), commit: async () => {} };
  }

  async *listObjects(): AsyncIterable<ListedObject[]> {
    let page: ListedObject[] = [];
    // Dot-named entries are ours (.tmp, .multipart); no key has a dot-prefixed segment.
    for await (const entry of walkFiles(this.dir)) {
      page.push({ key: path.relative(this.dir, entry.path).split(path.sep).join("/"), lastModified: entry.mtime });
      if (page.length === listPageSize) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  async *listMultipartUploads(): AsyncIterable<ListedUpload[]> {
    const root = path.join(this.dir, ".multipart");
    const ids = (await unlessMissing(readdir(root))) ?? [];
    const page: ListedUpload[] = [];
    for (const uploadId of ids) {
      const manifestFile = path.join(root, uploadId, "upload.json");
      const [manifest, info] = await Promise.all([
        unlessMissing(readFile(manifestFile, "utf8")),
        unlessMissing(stat(manifestFile)),
      ]);
      if (manifest === undefined || info === undefined) continue;
      page.push({ key: (JSON.parse(manifest) as UploadManifest).key, uploadId, initiated: info.mtime });
    }
    if (page.length > 0) yield page;
  }

  async headObject(key: string): Promise<ObjectInfo | null> {
    try {
      const info = await stat(this.objectPath(key));
      return info.isFile() ? { size: info.size } : null;
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return null;
      throw error;
    }
  }

  async getObject(key: string, range?: { start: number; end: number }): Promise<Readable> {
    if (range && !(isCount(range.start) && isCount(range.end) && range.start <= range.end)) {
      throw new RangeError(`invalid byte range ${range.start}-${range.end}`);
    }
    // Opened here so a missing object rejects this call instead of erroring the returned stream.
    const handle = await open(this.objectPath(key), "r").catch((error: unknown) => {
      if (hasCode(error, "ENOENT", "ENOTDIR", "EISDIR")) throw new StorageError(`no object at ${key}`, "NOT_FOUND");
      throw error;
    });
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async deleteObject(key: string): Promise<void> {
    try {
      await rm(this.objectPath(key), { force: true });
    } catch (error) {
      // A path component that is a file means there is no object under this key either.
      if (!hasCode(error, "ENOTDIR")) throw error;
    }
  }

  async signUpload(options: SignUploadOptions): Promise<SignedUploadTarget> {
    this.objectPath(options.key);
    assertHeaderValue("contentType", options.contentType);
    if (!isCount(options.maxSize)) throw new RangeError("maxSize must be a whole number");
    const { exactSize } = options;
    if (exactSize !== undefined && !(isCount(exactSize) && exactSize <= options.maxSize)) {
      throw new RangeError("exactSize must be a whole number no larger than maxSize");
    }
    const signed = {
      key: options.key,
      contentType: options.contentType,
      maxSize: options.maxSize,
      exactSize: options.exactSize,
      expires: epochSeconds(options.expiresAt),
    };
    const url = `${this.publicUrl}/uploads/${encodeKeyPath(options.key)}`;
    if (options.method === "PUT") {
      const headers = [{ name: "Content-Type", value: options.contentType }];
      if (exactSize !== undefined) headers.push({ name: "Content-Length", value: String(exactSize) });
      return { url: `${url}?${this.urls.putQuery(signed)}`, headers, fields: [] };
    }
    const { policy, signature } = this.urls.postFields(signed);
    return {
      url,
      headers: [],
      fields: [
        { name: "policy", value: policy },
        { name: "signature", value: signature },
        { name: "Content-Type", value: options.contentType },
      ],
    };
  }

  async signDownload(options: SignDownloadOptions): Promise<string> {
    this.objectPath(options.key);
    assertHeaderValue("contentType", options.contentType);
    assertHeaderValue("contentDisposition", options.contentDisposition);
    const query = this.urls.downloadQuery({ ...options, expires: epochSeconds(options.expiresAt) });
    return `${this.publicUrl}/downloads/${encodeKeyPath(options.key)}?${query}`;
  }

  async createMultipartUpload(key: string, options: PutObjectOptions): Promise<string> {
    this.objectPath(key);
    const uploadId = randomBytes(16).toString("base64url");
    const dir = this.uploadDir(uploadId);
    await mkdir(dir, { recursive: true });
    const manifest: UploadManifest = { key, contentType: options.contentType };
    await writeFile(path.join(dir, "upload.json"), JSON.stringify(manifest), { flag: "wx" });
    return uploadId;
  }

  /** The upload's directory after checking it exists and belongs to `key`. */
  private async openUpload(key: string, uploadId: string): Promise<string> {
    const dir = this.uploadDir(uploadId);
    let manifest: UploadManifest;
    try {
      manifest = JSON.parse(await readFile(path.join(dir, "upload.json"), "utf8")) as UploadManifest;
    } catch (error) {
      if (hasCode(error, "ENOENT")) throw new StorageError("no such multipart upload", "NOT_FOUND");
      throw error;
    }
    if (manifest.key !== key) throw new StorageError("no such multipart upload", "NOT_FOUND");
    return dir;
  }

  async signUploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    expiresAt: Date,
    exactSize?: number,
  ): Promise<SignedPart> {
    this.objectPath(key);
    this.uploadDir(uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
      throw new RangeError(`partNumber must be 1..${MAX_PARTS}`);
    }
    const expires = epochSeconds(expiresAt);
    if (exactSize !== undefined && !(isCount(exactSize) && exactSize <= MAX_PART_BYTES)) {
      throw new RangeError(`exactSize must be a whole number no larger than ${MAX_PART_BYTES}`);
    }
    const query = this.urls.partQuery({ key, uploadId, partNumber, maxSize: MAX_PART_BYTES, exactSize, expires });
    return { url: `${this.publicUrl}/uploads/${encodeKeyPath(key)}?${query}` };
  }

  /**
   * Stores one part (what a signed part URL receives). The part lands as `part-<n>` by rename, and
   * its ETag (quoted hex MD5, as S3 computes for single-part uploads) in `part-<n>.etag` beside it.
   * Re-sending a part replaces it, as in S3.
   */
  async putPart(key: string, uploadId: string, partNumber: number, body: Readable): Promise<StoredPart> {
    observeErrors(body);
    const dir = await this.openUpload(key, uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
      throw new StorageError(`partNumber must be 1..${MAX_PARTS}`, "INVALID_PART");
    }
    const hashed = etagOf(body);
    const partFile = path.join(dir, `part-${partNumber}`);
    try {
      const size = await writeAtomically(partFile, hashed.bytes, dir, { createDirs: false });
      const etag = hashed.etag();
      const etagTemp = path.join(dir, `${randomUUID()}.tmp`);
      await writeFile(etagTemp, etag, { flag: "wx" });
      await rename(etagTemp, `${partFile}.etag`);
      return { partNumber, etag, size };
    } catch (error) {
      // The upload was aborted or completed while this part was arriving.
      if (hasCode(error, "ENOENT")) throw new StorageError("no such multipart upload", "NOT_FOUND");
      throw error;
    }
  }

  async listParts(key: string, uploadId: string): Promise<StoredPart[]> {
    const dir = await this.openUpload(key, uploadId);
    const parts: StoredPart[] = [];
    for (const entry of await readdir(dir)) {
      const match = /^part-(\d+)$/.exec(entry);
      if (!match) continue;
      try {
        const file = path.join(dir, entry);
        const [info, etag] = await Promise.all([stat(file), readFile(`${file}.etag`, "utf8")]);
        parts.push({ partNumber: Number(match[1]), etag, size: info.size });
      } catch (error) {
        // A part whose ETag is not written yet has not finished arriving.
        if (!hasCode(error, "ENOENT")) throw error;
      }
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void> {
    const dir = await this.openUpload(key, uploadId);
    if (parts.length === 0) throw new StorageError("a multipart upload needs at least one part", "INVALID_PART");
    const files: string[] = [];
    let previous = 0;
    for (const part of parts) {
      if (!Number.isInteger(part.partNumber) || part.partNumber <= previous) {
        throw new StorageError("parts must be listed in ascending part-number order", "INVALID_PART");
      }
      previous = part.partNumber;
      const file = path.join(dir, `part-${part.partNumber}`);
      const stored = await unlessMissing(readFile(`${file}.etag`, "utf8"));
      if (stored === undefined || bareEtag(stored) !== bareEtag(part.etag)) {
        throw new StorageError(`part ${part.partNumber} is missing or its ETag does not match`, "INVALID_PART");
      }
      files.push(file);
    }
    async function* concatenated(): AsyncIterable<Buffer> {
      for (const file of files) {
        const handle = await open(file, "r");
        yield* handle.createReadStream() as AsyncIterable<Buffer>;
      }
    }
    await writeAtomically(this.objectPath(key), concatenated, this.tmpDir);
    await rm(dir, { recursive: true, force: true });
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    if (!uploadIdPattern.test(uploadId)) return;
    try {
      await this.openUpload(key, uploadId);
    } catch (error) {
      // Aborting a missing upload is not an error; one that belongs to another key is left alone.
      if (error instanceof StorageError) return;
      throw error;
    }
    await rm(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  /** Nothing to release: every operation opens and closes its own files. */
  async close(): Promise<void> {}
}
