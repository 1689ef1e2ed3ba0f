import type { IncomingMessage, ServerResponse } from "node:http";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import type { ByteMeter } from "../files/progress.js";
import { StorageError } from "../storage/driver.js";
import { type LocalStorage, MAX_PART_BYTES } from "../storage/local.js";
import { SignedUrlError } from "../storage/signing.js";
import { refuseUnread } from "./drain.js";
import { errorBody } from "./json.js";

/**
 * The local driver's signed endpoints: `PUT /uploads/<key>` (single object or one multipart
 * part), `POST /uploads/<key>` (an S3-style presigned POST form) and `GET|HEAD /downloads/<key>`.
 * Every request is checked against its signature before a byte of the body is read.
 */

/** A refusal with its HTTP status and the `error.code` clients see. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/**
 * Passes a body through while counting it; errors as soon as the count passes the
 * limit, and at the end when an exact size was signed and not met. Because the error travels down
 * the pipeline, the driver discards its temp file and no object appears.
 */
class MeteredBody extends Transform {
  private size = 0;

  constructor(
    private readonly limits: { maxSize: number; exactSize?: number },
    private readonly meter: ByteMeter | undefined,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    const limit = this.limits.exactSize ?? this.limits.maxSize;
    if (this.size > limit) {
      callback(new HttpError(413, "PAYLOAD_TOO_LARGE", `the body is larger than the ${limit} bytes this URL allows`));
      return;
    }
    // The chunk goes on to the store first: a PROGRESS this count reports is written to its
    // subscribers' sockets synchronously, while the disk write already runs.
    callback(null, chunk);
    this.meter?.add(chunk.length);
  }

  override _flush(callback: TransformCallback): void {
    const { exactSize } = this.limits;
    if (exactSize !== undefined && this.size !== exactSize) {
      callback(
        new HttpError(400, "SIZE_MISMATCH", `the body has ${this.size} bytes; this URL was signed for ${exactSize}`),
      );
      return;
    }
    callback();
    this.meter?.end();
  }
}

/** Pipes `source` into a metered body, turning a source error or an early end into a body error. */
function meter(
  source: Readable,
  limits: { maxSize: number; exactSize?: number },
  progress: ByteMeter | undefined,
): MeteredBody {
  const body = new MeteredBody(limits, progress);
  // pipe(), not pipeline(): a failing body must not destroy the request, or the 413 could not be sent.
  source.pipe(body);
  // Whatever stops the source early (a dropped connection, a truncated form) is the client's doing.
  const aborted = (): void => {
    body.destroy(new HttpError(400, "BODY_ABORTED", "the body ended before it was complete"));
  };
  source.once("error", aborted);
  source.once("close", () => {
    if (!source.readableEnded) aborted();
  });
  return body;
}

/** Refuses at once a body whose declared length already breaks the signed limits. */
function checkDeclaredLength(req: IncomingMessage, limits: { maxSize: number; exactSize?: number }): void {
  const header = req.headers["content-length"];
  if (header === undefined) return;
  const declared = Number(header);
  if (declared > limits.maxSize) {
    throw new HttpError(
      413,
      "PAYLOAD_TOO_LARGE",
      `the body is larger than the ${limits.maxSize} bytes this URL allows`,
    );
  }
  if (limits.exactSize !== undefined && declared !== limits.exactSize) {
    const status = declared > limits.exactSize ? 413 : 400;
    const message = `the body has ${declared} bytes; this URL was signed for ${limits.exactSize}`;
    throw new HttpError(status, "SIZE_MISMATCH", message);
  }
}

/** `type/subtype` of a Content-Type value, lower-cased, without parameters. */
function mediaType(value: string | undefined): string {
  return (value ?? "").replace(/;.*$/s, "").trim().toLowerCase();
}

function checkContentType(sent: string | undefined, signed: string): void {
  if (mediaType(sent) !== mediaType(signed)) {
    throw new HttpError(403, "CONTENT_TYPE_MISMATCH", `Content-Type must be ${signed}, as signed`);
  }
}

/** Decodes the key from the URL path, segment by segment. */
function decodeKey(encoded: string): string {
  try {
    return encoded.split("/").map(decodeURIComponent).join("/");
  } catch {
    throw new HttpError(400, "BAD_REQUEST", "the object key in the URL is not valid percent-encoding");
  }
}

/**
 * Whether an upload may still write to `key` (with `part`, that part of that multipart upload):
 * the domain's answer, since a signature only proves the URL was issued, not that its file is
 * still waiting for these bytes (it may have been completed, aborted or deleted since). Null when
 * it may not; else the meter its bytes are counted with (the upload's progress), if any. One
 * question, so that the domain reads the upload once.
 */
export type OpenUpload = (
  key: string,
  part?: { uploadId: string; partNumber: number },
) => Promise<{ meter: ByteMeter | undefined } | null>;

const uploadClosed = (): HttpError =>
  new HttpError(403, "UPLOAD_CLOSED", "this upload is no longer open: its file was completed, aborted or deleted");

/** Refuses, before a byte of the body is read, an upload that is no longer open; else its meter. */
async function ensureOpen(
  { openUpload, key }: SignedRequest,
  part?: { uploadId: string; partNumber: number },
): Promise<ByteMeter | undefined> {
  const open = await openUpload(key, part);
  if (open === null) throw uploadClosed();
  return open.meter;
}

/**
 * Once a whole object is in place, asks again: a file deleted or aborted while its bytes were
 * arriving has them removed, so no object outlives its row. Bytes a completion has already
 * verified and made the file's content (a client may complete before its PUT has answered) are
 * kept. (A part that arrives after its upload was aborted or completed has no directory to land in.)
 */
async function keepIfWanted({ storage, objectWanted, key }: SignedRequest): Promise<void> {
  if (await objectWanted(key)) return;
  await storage.deleteObject(key);
  throw uploadClosed();
}

/** One request to a signed endpoint, with the object key decoded from its path. */
interface SignedRequest {
  storage: LocalStorage;
  openUpload: OpenUpload;
  objectWanted: LocalStorageRoutesOptions["objectWanted"];
  req: IncomingMessage;
  res: ServerResponse;
  key: string;
  query: URLSearchParams;
}

async function receivePut(request: SignedRequest): Promise<void> {
  const { storage, req, res, key, query } = request;
  if (query.has("uploadId")) {
    const grant = storage.urls.verifyPart(key, query);
    const limits = { maxSize: Math.min(grant.maxSize, MAX_PART_BYTES), exactSize: grant.exactSize };
    checkDeclaredLength(req, limits);
    const counted = meter(req, limits, await ensureOpen(request, grant));
    const part = await storage.putPart(key, grant.uploadId, grant.partNumber, counted);
    res.writeHead(200, { ETag: part.etag, "Content-Length": "0" }).end();
    return;
  }
  const grant = storage.urls.verifyPut(key, query);
  checkContentType(req.headers["content-type"], grant.contentType);
  checkDeclaredLength(req, grant);
  const body = meter(req, grant, await ensureOpen(request));
  const { etag } = await storage.putNewObject(key, body);
  await keepIfWanted(request);
  res.writeHead(200, { ETag: etag, "Content-Length": "0" }).end();
}

/**
 * An S3-style presigned POST: the `policy`, `signature` and `Content-Type` fields come first and
 * are verified before the `file` part is read; as in S3, anything after the file is ignored.
 * Success is 204 with the ETag, S3's default `success_action_status`.
 */
async function receivePost(request: SignedRequest): Promise<void> {
  const { storage, req, res, key, query } = request;
  // A query signature is a PUT (or part) signature; a POST carries its signature in the form.
  if (query.has("sig")) throw new SignedUrlError("this URL is signed for PUT, not POST", "SIGNATURE_INVALID");
  if (mediaType(req.headers["content-type"]) !== "multipart/form-data") {
    throw new HttpError(400, "BAD_REQUEST", "a POST upload must be multipart/form-data");
  }
  let form: busboy.Busboy;
  try {
    form = busboy({ headers: req.headers, limits: { fields: 16, fieldSize: 16 * 1024, parts: 32 } });
  } catch {
    throw new HttpError(400, "BAD_REQUEST", "the multipart/form-data body has no boundary");
  }
  // The key is in the URL: whether its upload is open is known before the form is read (its
  // signature comes inside it), and the file part is then counted as it streams.
  const counter = await ensureOpen(request);
  return new Promise<void>((resolve, reject) => {
    const fields = new Map<string, string>();
    let upload: Promise<string> | undefined;
    let body: MeteredBody | undefined;
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      req.unpipe(form);
      reject(error);
    };
    form.on("field", (name, value, info) => {
      if (upload) return;
      if (info.nameTruncated || info.valueTruncated) {
        fail(new HttpError(400, "BAD_REQUEST", `form field ${name} is too long`));
        return;
      }
      fields.set(name.toLowerCase(), value);
    });
    form.on("file", (name, stream) => {
      if (upload) {
        stream.resume();
        return;
      }
      try {
        if (name !== "file") throw new HttpError(400, "BAD_REQUEST", 'the file must be sent in the form field "file"');
        const policy = fields.get("policy");
        const signature = fields.get("signature");
        if (policy === undefined || signature === undefined) {
          throw new HttpError(400, "BAD_REQUEST", "the policy and signature fields must come before the file");
        }
        const grant = storage.urls.verifyPost(key, policy, signature);
        checkContentType(fields.get("content-type"), grant.contentType);
        body = meter(stream, grant, counter);
        upload = storage.putNewObject(key, body).then(async ({ etag }) => {
          await keepIfWanted(request);
          return etag;
        });
        upload.catch(fail);
      } catch (error) {
        stream.resume();
        fail(error);
      }
    });
    form.on("error", () => fail(new HttpError(400, "BAD_REQUEST", "the multipart/form-data body is malformed")));
    form.on("close", () => {
      if (!upload) {
        fail(new HttpError(400, "BAD_REQUEST", 'the form has no "file" field'));
        return;
      }
      upload.then((etag) => {
        if (settled) return;
        settled = true;
        res.writeHead(204, { ETag: etag }).end();
        resolve();
      }, fail);
    });
    // pipe() does not tell busboy that the connection dropped; without this the file part would
    // never end and the upload would wait forever on its temp file.
    req.once("close", () => {
      if (req.readableEnded) return;
      const aborted = new HttpError(400, "BODY_ABORTED", "the body ended before it was complete");
      body?.destroy(aborted);
      fail(aborted);
    });
    req.pipe(form);
  });
}

async function serveDownload({ storage, req, res, key, query }: SignedRequest): Promise<void> {
  const grant = storage.urls.verifyDownload(key, query);
  const info = await storage.headObject(key);
  if (!info) throw new HttpError(404, "NOT_FOUND", "there is no object at this URL");
  const maxAge = Math.max(0, Math.floor((grant.expiresAt.getTime() - Date.now()) / 1000));
  res.writeHead(200, {
    "Content-Type": grant.contentType,
    "Content-Disposition": grant.contentDisposition,
    "Content-Length": String(info.size),
    "Cache-Control": `private, max-age=${maxAge}`,
    "X-Content-Type-Options": "nosniff",
    // Defence in depth: even if a browser renders the object inline, it runs nothing and loads nothing.
    "Content-Security-Policy": "default-src 'none'; sandbox",
  });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  await pipeline(await storage.getObject(key), res).catch((error: unknown) => {
    // A client that goes away mid-download only ends its own stream; a failed read of the disk
    // is ours, and goes on to be logged (the response is cut, as its headers are already sent).
    if ((error as NodeJS.ErrnoException).code === "ERR_STREAM_PREMATURE_CLOSE") return;
    throw error;
  });
}

async function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
): Promise<void> {
  if (res.headersSent || res.destroyed) {
    // Too late for an error response (a download that failed mid-way, a client that left).
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(code, message));
  const headers: Record<string, string> = {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(body)),
    "Cache-Control": "no-store",
  };
  // The client may still be sending a body we refused to read: a small one is drained first.
  await refuseUnread(req, res, () => res.writeHead(status, headers).end(req.method === "HEAD" ? undefined : body));
}

/** The response for an expected failure; undefined for one that is our fault. */
function asHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof SignedUrlError) return new HttpError(403, error.code, error.message);
  if (error instanceof StorageError && error.code === "FULL") {
    return new HttpError(507, "INSUFFICIENT_STORAGE", "the storage is full: the bytes were not kept; try again later");
  }
  if (error instanceof StorageError && error.code !== "FAILED" && error.code !== "FULL") {
    // EXISTS is 412, as S3 answers a conditional write (If-None-Match: *) whose key is taken;
    // CHANGED is 412 too (a pinned read), though the local routes pin nothing.
    const status = { NOT_FOUND: 404, INVALID_PART: 400, TOO_LARGE: 413, EXISTS: 412, CHANGED: 412 }[error.code];
    const code = error.code === "EXISTS" ? "OBJECT_EXISTS" : error.code;
    return new HttpError(status, code, error.message);
  }
  return undefined;
}

export interface LocalStorageRoutesOptions {
  /** Whether an upload may still write, and its meter (the file service answers); signed uploads are refused when not. */
  openUpload: OpenUpload;
  /** Whether the object just stored under a key is one a file keeps (its open upload's, or its content since completion). */
  objectWanted: (key: string) => Promise<boolean>;
  /** Called with failures that are not the client's fault: a full disk (507), permissions and the rest (500). */
  onError?: (error: unknown, req: IncomingMessage) => void;
}

/**
 * Handles `PUT|POST /uploads/…` and `GET|HEAD /downloads/…`; resolves false for every other path
 * (and for OPTIONS, which the CORS layer answers) so the caller can hand the request on.
 */
export function localStorageRoutes(
  storage: LocalStorage,
  options: LocalStorageRoutesOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const match = /^\/(uploads|downloads)\/(.+)$/.exec(url.pathname);
    if (!match || req.method === "OPTIONS") return false;
    const area = match[1];
    try {
      const key = decodeKey(match[2] ?? "");
      const request: SignedRequest = {
        storage,
        openUpload: options.openUpload,
        objectWanted: options.objectWanted,
        req,
        res,
        key,
        query: url.searchParams,
      };
      if (area === "downloads" && (req.method === "GET" || req.method === "HEAD")) await serveDownload(request);
      else if (area === "uploads" && req.method === "PUT") await receivePut(request);
      else if (area === "uploads" && req.method === "POST") await receivePost(request);
      else throw new SignedUrlError(`this URL is not signed for ${req.method}`, "SIGNATURE_INVALID");
    } catch (error) {
      const refusal = asHttpError(error);
      if (!refusal || refusal.status >= 500) options.onError?.(error, req);
      const { status, code, message } =
        refusal ?? new HttpError(500, "INTERNAL_SERVER_ERROR", "the request failed on the server");
      await sendError(req, res, status, code, message);
    }
    return true;
  };
}
