/**
 * The guard on every request the server makes to a URL a client gave it (`sourceUrl` imports,
 * webhook deliveries), against server-side request forgery: only http and https, no credentials
 * in the URL, and every address is checked as it is connected to (so a DNS answer that changes
 * between a check and the connection cannot slip through). Private, loopback, link-local (the
 * cloud metadata service) and other reserved addresses are refused unless an allow-list names
 * the host or the address.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";

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
 * Whether an address is one the server may connect to: only ordinary (global unicast) addresses.
 * ipaddr.js names every special range (loopback, private, link-local — which holds the
 * 169.254.169.254 cloud metadata service —, unique-local, carrier-grade NAT, 6to4, NAT64, …);
 * IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === "unicast";
}

/** Checks outbound URLs and connections for one purpose; refusals are errors of the caller's own type. */
export class OutboundGuard {
  private readonly allow: AllowList;
  /** A DNS lookup for http(s) requests that fails when any address it would hand to the connection is refused. */
  readonly lookup: LookupFunction;

  /**
   * @param allowedHosts host names (matched against the URL) and IPs or CIDR ranges (matched
   *   against the address connected to) permitted even when private
   * @param what how messages name the URL ("sourceUrl", "the webhook URL")
   * @param refusal builds the error thrown or handed to the connection
   */
  constructor(
    allowedHosts: readonly string[],
    private readonly what: string,
    private readonly refusal: (message: string) => Error,
    resolve: typeof dnsLookup = dnsLookup,
  ) {
    this.allow = new AllowList(allowedHosts);
    this.lookup = (hostname, options, callback) => {
      resolve(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
        if (error) return callback(error, "", 0);
        const bad = this.allow.hasName(hostname)
          ? undefined
          : addresses.find((entry) => !this.allow.permitsAddress(entry.address));
        if (bad !== undefined) return callback(this.refused(hostname, bad.address), "", 0);
        if (options.all) return (callback as (err: null, all: LookupAddress[]) => void)(null, addresses);
        const first = addresses[0];
        if (first === undefined) return callback(this.refusal(`${this.what} host ${hostname} has no address`), "", 0);
        callback(null, first.address, first.family);
      });
    };
  }

  /** The URL if it may be requested at all (scheme, credentials, literal address); throws the refusal otherwise. */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw this.refusal(`${this.what} is not a valid absolute URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw this.refusal(`${this.what} must use http or https, not ${url.protocol.replace(/:$/, "")}`);
    }
    if (url.username !== "" || url.password !== "") throw this.refusal(`${this.what} must not contain credentials`);
    // Node connects to a literal IP without calling `lookup`, so literal addresses are checked here.
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    if (isIP(host) !== 0 && !this.allow.hasName(host) && !this.allow.permitsAddress(host))
      throw this.refused(host, host);
    return url;
  }

  private refused(host: string, address: string): Error {
    return this.refusal(
      `${this.what} host ${host} resolves to ${address}, a private or reserved address, which is refused`,
    );
  }
}
