/**
 * Downloading a `sourceUrl` without letting it reach the server's own network (SSRF): only http
 * and https, every address is checked as it is connected to (so a DNS answer that changes between
 * a check and the connection cannot slip through), redirects are followed by hand and every hop
 * is checked again, and the whole download has a time limit and a size limit.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { TooLargeError } from "./inspect.js";

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

/** Parsed allow-list entries. */
class AllowList {
  private readonly names = new Set<string>();
  private readonly ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      if (entry.includes("/")) this.ranges.push(ipaddr.parseCIDR(entry));
      else if (isIP(entry) !== 0) {
        const address = ipaddr.process(entry);
        this.ranges.push([address, address.kind() === "ipv4" ? 32 : 128]);
      } else this.names.add(entry.toLowerCase());
    }
  }

  hasName(host: string): boolean {
    return this.names.has(host.toLowerCase());
  }

  /** Whether `address` may be connected to: a public address, or one in an allowed range. */
  permitsAddress(address: string): boolean {
    if (isPublicAddress(address)) return true;
    const parsed = ipaddr.process(address);
    return this.ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
  }
}

/**
 * Whether an address is one a download may connect to: only ordinary (global unicast) addresses.
 * ipaddr.js names every special range (loopback, private, link-local — which holds the
 * 169.254.169.254 cloud metadata service —, unique-local, carrier-grade NAT, 6to4, NAT64, …);
 * IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === "unicast";
}

function refused(host: string, address: string): SourceUrlError {
  return new SourceUrlError(`sourceUrl host ${host} resolves to ${address}, a private or reserved address, which is refused`);
}

/** A DNS lookup that fails when any address it would hand to the connection is refused. */
function guardedLookup(allow: AllowList, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "", 0);
      const bad = allow.hasName(hostname)
        ? undefined
        : addresses.find((entry) => !allow.permitsAddress(entry.address));
      if (bad !== undefined) return callback(refused(hostname, bad.address), "", 0);
      if (options.all) return (callback as (err: null, all: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (first === undefined) return callback(new SourceUrlError(`sourceUrl host ${hostname} has no address`), "", 0);
      callback(null, first.address, first.family);
    });
  };
}

/** The URL if it may be fetched at all (scheme, literal address), else a SourceUrlError. */
function checkUrl(raw: string, allow: AllowList): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SourceUrlError("sourceUrl is not a valid absolute URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SourceUrlError(`sourceUrl must use http or https, not ${url.protocol.replace(/:$/, "")}`);
  }
  if (url.username !== "" || url.password !== "") throw new SourceUrlError("sourceUrl must not contain credentials");
  // Node connects to a literal IP without calling `lookup`, so literal addresses are checked here.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (isIP(host) !== 0 && !allow.hasName(host) && !allow.permitsAddress(host)) {
    throw refused(host, host);
  }
  return url;
}

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
  const allow = new AllowList(options.allowedHosts);
  const lookup = guardedLookup(allow);
  const deadline = new Deadline(options.timeoutMs);
  let response: IncomingMessage | undefined;
  try {
    let url = checkUrl(sourceUrl, allow);
    for (let hop = 0; ; hop++) {
      response = await get(url, lookup, deadline);
      deadline.watch(response);
      const status = response.statusCode ?? 0;
      if (REDIRECTS.has(status) && response.headers.location !== undefined) {
        response.resume();
        if (hop >= MAX_REDIRECTS) throw new SourceUrlError(`sourceUrl redirected more than ${MAX_REDIRECTS} times`);
        try {
          url = checkUrl(new URL(response.headers.location, url).href, allow);
        } catch (error) {
          if (error instanceof SourceUrlError) throw new SourceUrlError(`sourceUrl redirected to a refused location: ${error.message}`);
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
