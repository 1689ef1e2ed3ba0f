import { abortError } from "./request.js";

/** One HTTP request carrying bytes: an upload target, a multipart part, or a GraphQL multipart POST. */
export interface Transfer {
  method: "PUT" | "POST";
  url: string;
  headers: Record<string, string>;
  body: Blob | FormData;
  signal?: AbortSignal;
  /** Bytes of the body sent so far (browsers report as they go; elsewhere once the body is sent). */
  onProgress?: (loaded: number) => void;
}

export interface TransferResponse {
  status: number;
  /** A response header, or null (cross-origin, only those CORS exposes). */
  header(name: string): string | null;
  text: string;
}

/**
 * Headers the client never sets itself: browsers refuse them (the body determines its length),
 * and the server's targets may list Content-Length for clients that must send it.
 */
const SET_BY_THE_RUNTIME = new Set(["content-length", "host", "connection", "transfer-encoding"]);

function settableHeaders(headers: Record<string, string>): [string, string][] {
  return Object.entries(headers).filter(([name]) => !SET_BY_THE_RUNTIME.has(name.toLowerCase()));
}

/** A transfer that got no answer (the connection failed), as opposed to an HTTP error status. */
export class NetworkError extends Error {
  override readonly name = "NetworkError";
}

/**
 * Sends the bytes with XMLHttpRequest where there is one (browsers: upload progress events), and
 * with fetch elsewhere (Node ≥ 20, workers). Rejects with NetworkError when no answer came, or
 * with the signal's reason when aborted; any HTTP status resolves.
 */
export function send(transfer: Transfer): Promise<TransferResponse> {
  if (transfer.signal?.aborted) return Promise.reject(abortError(transfer.signal));
  return typeof XMLHttpRequest === "function" ? sendWithXhr(transfer) : sendWithFetch(transfer);
}

function sendWithXhr(transfer: Transfer): Promise<TransferResponse> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(transfer.method, transfer.url);
    for (const [name, value] of settableHeaders(transfer.headers)) xhr.setRequestHeader(name, value);
    const onAbort = () => xhr.abort();
    transfer.signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => transfer.signal?.removeEventListener("abort", onAbort);
    xhr.upload.onprogress = (event) => transfer.onProgress?.(event.loaded);
    xhr.onload = () => {
      settle();
      resolve({ status: xhr.status, header: (name) => xhr.getResponseHeader(name), text: xhr.responseText });
    };
    xhr.onerror = () => {
      settle();
      reject(
        new NetworkError(
          `${transfer.method} ${new URL(transfer.url).host} failed: no answer (network, or refused by CORS)`,
        ),
      );
    };
    xhr.onabort = () => {
      settle();
      reject(abortError(transfer.signal));
    };
    xhr.send(transfer.body);
  });
}

async function sendWithFetch(transfer: Transfer): Promise<TransferResponse> {
  let response: Response;
  try {
    response = await fetch(transfer.url, {
      method: transfer.method,
      headers: settableHeaders(transfer.headers),
      body: transfer.body,
      signal: transfer.signal,
    });
  } catch (error) {
    if (transfer.signal?.aborted) throw abortError(transfer.signal);
    throw new NetworkError(`${transfer.method} ${new URL(transfer.url).host} failed: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (transfer.body instanceof Blob) transfer.onProgress?.(transfer.body.size);
  return { status: response.status, header: (name) => response.headers.get(name), text };
}
