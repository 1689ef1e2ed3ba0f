/**
 * Downloading a `sourceUrl` without letting it reach the server's own network (SSRF): only http
 * and https, every address is checked as it is connected to (so a DNS answer that changes between
 * a check and the connection cannot slip through), redirects are followed by hand and every hop
 * is checked again, and the whole download has a time limit and a size limit.
 */
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { OutboundGuard } from "../net/outbound.js";
import { TooLargeError } from "./byte-inspector.js";

/** Why a sourceUrl could not be imported; the message is shown to the client. */
export class SourceUrlError extends Error {
  override name = "SourceUrlError";
}

export interface SourceUrlOptions {
  /** Host names (matched against the URL) and IPs or CIDR ranges (matched against the address connected to) permitted even when private. */
  allowedHosts: readonly string[];
  /** Milliseconds from the first connection to the last byte. */
  timeoutMs: number;
  /** Largest body accepted; a larger Content-Length is refused before reading, a longer body while reading. */
  maxBytes: number;
}

/** An open download: the body is read by the caller, under the time limit. */
export interface SourceDownload {
  body: IncomingMessage;
  /** The Content-Type the server declared, if any. */
  contentType: string | undefined;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Cuts off whatever request or response is in flight when the time limit passes. */
class Deadline {
  private inFlight: { destroy(error: Error): void } | undefined;
  private readonly timer: NodeJS.Timeout;
  readonly error: SourceUrlError;
  expired = false;

  constructor(ms: number) {
    this.error = new SourceUrlError(`sourceUrl took longer than ${Math.round(ms / 100) / 10} s to download`);
    this.timer = setTimeout(() => {
      this.expired = true;
      this.inFlight?.destroy(this.error);
    }, ms);
    this.timer.unref();
  }

  /** The request or response the deadline now applies to. */
  watch(stream: { destroy(error: Error): void }): void {
    this.inFlight = stream;
    if (this.expired) stream.destroy(this.error);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/**
 * Starts downloading `sourceUrl`, following up to 5 redirects. Resolves once a 2xx response's
 * headers have arrived; its body then errors with a SourceUrlError when the time limit passes.
 * Rejects with SourceUrlError (bad URL, refused address, upstream status, timeout, network
 * failure) or TooLargeError (declared Content-Length over the limit).
 */
export async function openSourceUrl(sourceUrl: string, options: SourceUrlOptions): Promise<SourceDownload> {
  const guard = new OutboundGuard(options.allowedHosts, "sourceUrl", (message) => new SourceUrlError(message));
  const lookup = guard.lookup;
  const deadline = new Deadline(options.timeoutMs);
  let response: IncomingMessage | undefined;
  try {
    let url = guard.checkUrl(sourceUrl);
    for (let hop = 0; ; hop++) {
      response = await get(url, lookup, deadline);
      deadline.watch(response);
      const status = response.statusCode ?? 0;
      if (REDIRECTS.has(status) && response.headers.location !== undefined) {
        response.resume();
        if (hop >= MAX_REDIRECTS) throw new SourceUrlError(`sourceUrl redirected more than ${MAX_REDIRECTS} times`);
        try {
          url = guard.checkUrl(new URL(response.headers.location, url).href);
        } catch (error) {
          if (error instanceof SourceUrlError)
            throw new SourceUrlError(`sourceUrl redirected to a refused location: ${error.message}`);
          throw error;
        }
        continue;
      }
      if (status < 200 || status > 299) {
        response.resume();
        throw new SourceUrlError(`the server at sourceUrl answered HTTP ${status}`);
      }
      const length = Number(response.headers["content-length"] ?? Number.NaN);
      if (length > options.maxBytes) throw new TooLargeError(options.maxBytes);
      response.once("close", () => deadline.clear());
      return { body: response, contentType: response.headers["content-type"] };
    }
  } catch (error) {
    deadline.clear();
    response?.destroy();
    throw error;
  }
}

/** One GET; resolves with the response once its headers arrived. */
function get(url: URL, lookup: LookupFunction, deadline: Deadline): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === "https:" ? https : http;
    const request = client.get(url, {
      lookup,
      agent: false,
      headers: { "user-agent": "graphql-files (sourceUrl import)", accept: "*/*", "accept-encoding": "identity" },
    });
    deadline.watch(request);
    request.once("response", resolve);
    request.once("error", (error) => {
      if (error instanceof SourceUrlError) reject(error);
      else reject(new SourceUrlError(`sourceUrl could not be fetched: ${error.message}`));
    });
  });
}
