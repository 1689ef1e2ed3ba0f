import { RETRIED_STATUSES, retryDelay, sleep } from "./backoff.js";
import type {
  CompleteUploadMutation,
  CreateFileInput,
  CreateFileMutation,
  UploadedFileFieldsFragment,
  UploadMethod,
  UploadTargetFieldsFragment,
} from "./generated/graphql.js";
import {
  AbortUploadDocument,
  CompleteUploadDocument,
  CreateFileDocument,
  PendingUploadDocument,
} from "./operations.js";
import { type Api, ApiError, graphqlRequest, readGraphQLResponse } from "./request.js";
import { NetworkError, send, type TransferResponse } from "./transfer.js";

/** How the bytes travel: in the createFile request (GraphQL multipart), or to the upload target createFile answers. */
export type UploadMethodChoice = "INLINE" | UploadMethod;

/** The file as it is once uploaded. */
export type UploadedFile = UploadedFileFieldsFragment;

/** What the API answered instead of a file: one of the Error members of createFile's or completeUpload's union. */
export type UploadRefusal =
  | Exclude<CreateFileMutation["createFile"], { __typename: "CreateFilePayload" }>
  | Exclude<CompleteUploadMutation["completeUpload"], { __typename: "FilePayload" }>;

export interface UploadProgress {
  /** Bytes of the file the server has received (parts received before a resume included). */
  loaded: number;
  total: number;
}

/** Options of every upload, new or resumed. */
export interface TransferOptions {
  /** Parts of a MULTIPART upload in flight at once (default 4). */
  concurrency?: number;
  /** Retries of a byte transfer that got no answer, or 408, 429 or 5xx (default 4). The createFile request itself is never retried. */
  retries?: number;
  /** First retry delay in ms, doubled each time, with jitter; a Retry-After header wins (default 500). */
  retryDelayMs?: number;
  onProgress?: (progress: UploadProgress) => void;
  /** Stops the upload; the pending file is then removed with abortUpload unless keepOnAbort. */
  signal?: AbortSignal;
  /** On abort, keep the pending file and the bytes received, to continue later with resumeUpload (pause). */
  keepOnAbort?: boolean;
}

export interface UploadOptions extends TransferOptions {
  /** The workspace's ID or slug. */
  workspaceId: string;
  /** createFile fields; `name` defaults to the File's name, `mimeType` to its type, `size` is the Blob's. */
  input?: Partial<Omit<CreateFileInput, "workspaceId" | "file" | "content" | "sourceUrl" | "uploadMethod" | "size">>;
  /** Default: INLINE up to inlineMaxBytes, MULTIPART from multipartMinBytes, PUT between. */
  method?: UploadMethodChoice;
  /** Largest file sent in the createFile request (default 8 MiB). */
  inlineMaxBytes?: number;
  /** Smallest file sent as MULTIPART (default 32 MiB; the server takes single PUTs up to MAX_SINGLE_UPLOAD_BYTES). */
  multipartMinBytes?: number;
  /** Called once the file is recorded (not for INLINE): keep `id` to resume after a reload. */
  onCreated?: (file: UploadedFile, method: UploadMethod) => void;
}

/** Why an upload failed. */
export class UploadError extends Error {
  override readonly name = "UploadError";
  constructor(
    message: string,
    /**
     * The refusal's code (VALIDATION_ERROR, PAYLOAD_TOO_LARGE, UPLOAD_INCOMPLETE, …), a GraphQL
     * error's `extensions.code` (UNAUTHENTICATED, …), or ABORTED, NETWORK_ERROR, HTTP_ERROR,
     * ETAG_UNREADABLE, NOT_PENDING.
     */
    readonly code: string,
    readonly details: {
      /** The typed member of the mutation's union, when the API refused as data. */
      refusal?: UploadRefusal;
      /** The file, once recorded: resume it with resumeUpload (or remove it with abortUpload). */
      fileId?: string;
      /** The HTTP status of a failed byte transfer. */
      status?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
  }
}

const MiB = 1024 * 1024;

/** createFile, then the bytes (method chosen by size unless given), then completeUpload. */
export async function uploadFile(api: Api, file: Blob, options: UploadOptions): Promise<UploadedFile> {
  const method = options.method ?? chooseMethod(file.size, options);
  const input: CreateFileInput = {
    name: typeof File === "function" && file instanceof File ? file.name : "blob",
    ...(file.type === "" ? {} : { mimeType: file.type }),
    ...options.input,
    workspaceId: options.workspaceId,
    size: file.size,
  };
  const run = new UploadRun(api, file, options);
  if (method === "INLINE") return run.inline(input);
  const created = await run.step(() =>
    graphqlRequest(api, CreateFileDocument, { input: { ...input, uploadMethod: method } }, { signal: options.signal }),
  );
  const result = created.createFile;
  if (result.__typename !== "CreateFilePayload") throw refused(result);
  if (result.upload === null) return result.file;
  run.fileId = result.file.id;
  options.onCreated?.(result.file, method);
  return run.sendAndComplete(result.upload);
}

/**
 * Continues the upload of a PENDING file (after a pause, a failure or a reload), given the same
 * bytes: MULTIPART sends only the parts the store has not received (`File.upload.receivedParts`);
 * PUT and POST send the whole file to a freshly signed target. An uploaded file is returned as it is.
 */
export async function resumeUpload(
  api: Api,
  fileId: string,
  file: Blob,
  options: TransferOptions = {},
): Promise<UploadedFile> {
  const run = new UploadRun(api, file, options);
  run.fileId = fileId;
  const { file: pending } = await run.step(() =>
    graphqlRequest(api, PendingUploadDocument, { id: fileId }, { signal: options.signal }),
  );
  if (pending === null) throw new UploadError(`file ${fileId} does not exist`, "NOT_FOUND", { fileId });
  const { upload, ...current } = pending;
  if (current.status === "UPLOADED") return current;
  if (upload === null)
    throw new UploadError(`file ${fileId} is ${current.status}, not waiting for bytes`, "NOT_PENDING", { fileId });
  if (current.size !== null && current.size !== file.size) {
    throw new UploadError(`file ${fileId} is ${current.size} bytes, this one ${file.size}`, "VALIDATION_ERROR", {
      fileId,
    });
  }
  return run.sendAndComplete(upload);
}

/** Removes a pending file and the bytes it received so far. */
export async function abortUpload(api: Api, fileId: string): Promise<void> {
  const { abortUpload: result } = await graphqlRequest(api, AbortUploadDocument, { id: fileId });
  if (result.__typename !== "DeletedFile")
    throw new UploadError(`file ${fileId} does not exist`, "NOT_FOUND", { fileId });
}

function chooseMethod(size: number, options: UploadOptions): UploadMethodChoice {
  if (size <= (options.inlineMaxBytes ?? 8 * MiB)) return "INLINE";
  return size >= (options.multipartMinBytes ?? 32 * MiB) ? "MULTIPART" : "PUT";
}

function refused(refusal: UploadRefusal, fileId?: string): UploadError {
  return new UploadError(refusal.message, refusal.code, { refusal, fileId });
}

/** One upload of one file: its bytes, progress, retries and abort. */
class UploadRun {
  /** Set once createFile recorded the file. */
  fileId: string | undefined;
  /** Bytes received so far, by part number (0 for a single transfer). */
  private readonly loaded = new Map<number, number>();

  constructor(
    private readonly api: Api,
    private readonly file: Blob,
    private readonly options: TransferOptions,
  ) {}

  /**
   * Runs a step: on abort, removes the pending file (unless keepOnAbort) and rejects with
   * ABORTED; other failures become UploadErrors carrying the file's id.
   */
  async step<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (this.options.signal?.aborted) {
        if (this.fileId !== undefined && this.options.keepOnAbort !== true) {
          // Best effort: a pending file left behind is removed after PENDING_UPLOAD_TTL anyway.
          await abortUpload(this.api, this.fileId).catch(() => undefined);
        }
        throw new UploadError("the upload was aborted", "ABORTED", { fileId: this.fileId, cause: error });
      }
      if (error instanceof UploadError) throw error;
      if (error instanceof ApiError)
        throw new UploadError(error.message, error.code, { fileId: this.fileId, status: error.status, cause: error });
      if (error instanceof NetworkError)
        throw new UploadError(error.message, "NETWORK_ERROR", { fileId: this.fileId, cause: error });
      throw error;
    }
  }

  /** createFile with the bytes in the request (GraphQL multipart request spec); never retried. */
  inline(input: CreateFileInput): Promise<UploadedFile> {
    return this.step(async () => {
      const form = new FormData();
      form.append(
        "operations",
        JSON.stringify({ query: CreateFileDocument.toString(), variables: { input: { ...input, file: null } } }),
      );
      form.append("map", JSON.stringify({ 0: ["variables.input.file"] }));
      form.append("0", this.file, input.name);
      const response = await send({
        method: "POST",
        url: this.api.url,
        // The body is a form a browser could send cross-site: the API wants this header (src/http/csrf.ts).
        headers: { ...this.api.headers, "x-graphql-csrf": "1" },
        body: form,
        signal: this.options.signal,
        onProgress: (loaded) => this.progress(0, Math.min(loaded, this.file.size)),
      });
      const data = await readGraphQLResponse<CreateFileMutation>(response.status, response.text);
      const result = data.createFile;
      if (result.__typename !== "CreateFilePayload") throw refused(result);
      this.progress(0, this.file.size);
      return result.file;
    });
  }

  /** Sends the bytes to the target, then completeUpload. */
  async sendAndComplete(target: UploadTargetFieldsFragment): Promise<UploadedFile> {
    const parts = await this.step(() =>
      target.method === "MULTIPART" ? this.sendParts(target) : this.sendWhole(target),
    );
    const { completeUpload: result } = await this.step(() =>
      graphqlRequest(
        this.api,
        CompleteUploadDocument,
        { input: { id: this.fileId ?? "", parts } },
        { signal: this.options.signal },
      ),
    );
    if (result.__typename !== "FilePayload") throw refused(result, this.fileId);
    return result.file;
  }

  private async sendWhole(target: UploadTargetFieldsFragment): Promise<undefined> {
    const url = target.url ?? "";
    let body: Blob | FormData = this.file;
    const headers = Object.fromEntries(target.headers.map(({ name, value }) => [name, value]));
    if (target.method === "POST") {
      // S3 presigned POST shape: the fields in the order given, the file last as "file".
      const form = new FormData();
      for (const { name, value } of target.fields) form.append(name, value);
      form.append("file", this.file);
      body = form;
    }
    const response = await this.transfer(0, target.method === "POST" ? "POST" : "PUT", url, headers, body);
    // 412: bytes were already stored under this target (an earlier attempt whose answer was lost);
    // completeUpload verifies them.
    if (response.status !== 412) this.expectSuccess(response, "the upload");
    this.progress(0, this.file.size);
    return undefined;
  }

  private async sendParts(target: UploadTargetFieldsFragment): Promise<{ partNumber: number; etag: string }[]> {
    const partSize = target.partSize ?? this.file.size;
    const done = target.receivedParts.map(({ partNumber, etag, size }) => {
      this.loaded.set(partNumber, size);
      return { partNumber, etag };
    });
    this.progress(-1, 0);
    const queue = [...target.parts];
    let failed = false;
    const sendPart = async (part: UploadTargetFieldsFragment["parts"][number]) => {
      const start = (part.partNumber - 1) * partSize;
      const bytes = this.file.slice(start, Math.min(start + partSize, this.file.size));
      const headers = Object.fromEntries(part.headers.map(({ name, value }) => [name, value]));
      const response = await this.transfer(part.partNumber, "PUT", part.url, headers, bytes);
      this.expectSuccess(response, `part ${part.partNumber}`);
      // Azure's Put Block answers without an ETag: the target names the part's ETag itself.
      const etag = part.etag ?? response.header("etag");
      if (etag === null) {
        throw new UploadError(
          "the ETag of a part is not readable: a cross-origin store must expose the ETag header (CORS ExposeHeaders)",
          "ETAG_UNREADABLE",
          { fileId: this.fileId },
        );
      }
      done.push({ partNumber: part.partNumber, etag });
    };
    const worker = async () => {
      // After a failure no worker starts another part; transfers in flight finish or fail.
      for (let part = queue.shift(); part !== undefined && !failed; part = queue.shift()) {
        await sendPart(part).catch((error: unknown) => {
          failed = true;
          throw error;
        });
      }
    };
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(this.options.concurrency ?? 4, queue.length)) }, worker),
    );
    return done.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** One byte transfer, retried with backoff when it got no answer or a retryable status. */
  private async transfer(
    key: number,
    method: "PUT" | "POST",
    url: string,
    headers: Record<string, string>,
    body: Blob | FormData,
  ): Promise<TransferResponse> {
    const retries = this.options.retries ?? 4;
    for (let attempt = 0; ; attempt++) {
      let failure: unknown;
      let retryAfter: string | null = null;
      try {
        const response = await send({
          method,
          url,
          headers,
          body,
          signal: this.options.signal,
          onProgress: (loaded) => this.progress(key, loaded),
        });
        if (!RETRIED_STATUSES.has(response.status)) return response;
        failure = new UploadError(`HTTP ${response.status} from the store`, "HTTP_ERROR", {
          fileId: this.fileId,
          status: response.status,
        });
        retryAfter = response.header("retry-after");
      } catch (error) {
        if (!(error instanceof NetworkError)) throw error;
        failure = error;
      }
      this.progress(key, 0);
      if (attempt >= retries) throw failure;
      await sleep(retryDelay(attempt, this.options.retryDelayMs ?? 500, retryAfter), this.options.signal);
    }
  }

  private expectSuccess(response: TransferResponse, what: string): void {
    if (response.status >= 200 && response.status < 300) return;
    const detail = response.text.slice(0, 200).trim();
    throw new UploadError(
      `${what} failed with HTTP ${response.status}${detail === "" ? "" : `: ${detail}`}`,
      "HTTP_ERROR",
      {
        fileId: this.fileId,
        status: response.status,
      },
    );
  }

  /** Records `loaded` bytes of one transfer (key -1: only report) and reports the sum. */
  private progress(key: number, loaded: number): void {
    if (key >= 0) this.loaded.set(key, loaded);
    let sum = 0;
    for (const value of this.loaded.values()) sum += value;
    this.options.onProgress?.({ loaded: Math.min(sum, this.file.size), total: this.file.size });
  }
}
