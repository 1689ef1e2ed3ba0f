import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import path from "node:path";
import ipaddr from "ipaddr.js";
import proxyAddr from "proxy-addr";
import type { OidcOptions } from "./access/oidc.js";
import { isAllowListEntry } from "./files/mime.js";
import { MAX_NAME_LENGTH_CEILING } from "./files/validation.js";
import type { DocumentLimits } from "./graphql-limits.js";
import { DEFAULT_SIGNED_URL_SECONDS, MAX_SIGNED_URL_SECONDS } from "./storage/driver.js";

const MiB = 1024 * 1024;

/** Everything the server reads from its environment, validated once at start. */
export interface Config {
  port: number;
  host: string;
  /** Base URL clients reach this server at; signed local URLs are built on it. */
  publicUrl: string;
  databaseUrl: string;
  storage: LocalStorageConfig | S3StorageConfig | AzureStorageConfig;
  /** HMAC key for the local driver's signed URLs. */
  signingSecret: string;
  /** Seconds a signed upload target stays valid. */
  uploadUrlTtl: number;
  maxInlineBytes: number;
  maxSingleUploadBytes: number;
  maxFileBytes: number;
  /** Longest file name, in characters after NFC. */
  maxNameLength: number;
  /** How many contents an overwrite replaced stay downloadable, per file. */
  fileVersionsKept: number;
  /** Allowed MIME types (exact, or `type/*`); empty allows every type. */
  allowedMimeTypes: string[];
  /** Seconds a PENDING file lives before it and its bytes are removed. */
  pendingUploadTtl: number;
  /**
   * Hosts `sourceUrl` may reach even when they resolve to loopback, private, link-local or
   * metadata addresses: lower-case host names (matched against the URL), and IPs or CIDR ranges
   * (matched against the address actually connected to).
   */
  sourceUrlAllowedHosts: string[];
  /** Seconds a `sourceUrl` download may take, from the first connection to the last byte. */
  sourceUrlTimeout: number;
  /** Milliseconds between two PROGRESS events of one upload; 0 turns them off. */
  uploadProgressIntervalMs: number;
  webhooks: {
    /** Hosts webhook URLs may reach although private: host names, IPs or CIDR ranges. */
    allowedHosts: string[];
    /** The first retry's delay in milliseconds (doubling, with jitter, up to an hour). */
    retryBaseMs: number;
    /** Milliseconds between two looks at the outbox for deliveries due. */
    pollMs: number;
    /** Milliseconds a receiver has to answer. */
    timeoutMs: number;
  };
  bootstrapApiKey: string | undefined;
  /** OIDC access tokens are accepted when set (OIDC_ISSUER and OIDC_AUDIENCE). */
  oidc: OidcOptions | undefined;
  rateLimits: {
    /** Requests a minute per principal, and per address on signed URLs. */
    perMinute: number;
    /** Requests a minute per address without valid credentials. */
    anonymousPerMinute: number;
  };
  /** Shared state between instances (rate limits); none: each instance keeps its own. */
  redisUrl: string | undefined;
  /** Prefix of every Redis key this server writes. */
  redisKeyPrefix: string;
  /** Proxies whose X-Forwarded-For names the client (proxy-addr trust list). */
  trustProxy: string[];
  graphqlLimits: DocumentLimits;
  corsOrigins: string[];
  logLevel: string;
  /** Seconds a shutdown waits for requests in flight before cutting their connections. */
  shutdownTimeout: number;
  /**
   * Seconds a client has to send a whole request (headers and body), on every route but uploads
   * (signed PUT/POST, GraphQL multipart), which only the 5-minute idle cut bounds.
   */
  requestTimeout: number;
  /**
   * Spans are exported (OTLP over HTTP) when OTEL_EXPORTER_OTLP_ENDPOINT is set, under
   * OTEL_SERVICE_NAME; the exporter reads the other OTEL_EXPORTER_OTLP_* variables itself.
   */
  tracing: { serviceName: string } | undefined;
  /** When set, `/metrics` needs it as a bearer token. */
  metricsToken: string | undefined;
  /** `auto`: pretty when stdout is a terminal, JSON lines otherwise. */
  logFormat: "json" | "pretty" | "auto";
}

export interface LocalStorageConfig {
  driver: "local";
  dir: string;
}

export interface S3StorageConfig {
  driver: "s3";
  bucket: string;
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
}

export interface AzureStorageConfig {
  driver: "azure";
  accountName: string;
  /** Base64 account key; never printed. */
  accountKey: string;
  /** Blob service endpoint, e.g. https://<account>.blob.core.windows.net */
  endpoint: string;
  container: string;
}

/** A bad environment value; the message names the variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`${name} must be a whole number of at least ${min}, got "${raw}"`);
  }
  if (value > max) throw new ConfigError(`${name} must be at most ${max}, got "${raw}"`);
  return value;
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === "") throw new ConfigError(`${name} is required`);
  return value;
}

function storageConfig(env: Env): Config["storage"] {
  const driver = env.STORAGE_DRIVER || "local";
  if (driver === "local") {
    return { driver, dir: path.resolve(env.STORAGE_LOCAL_DIR || "./data/objects") };
  }
  if (driver === "s3") {
    return {
      driver,
      bucket: required(env, "S3_BUCKET"),
      region: env.S3_REGION || env.AWS_REGION || "us-east-1",
      endpoint: env.S3_ENDPOINT || undefined,
      forcePathStyle: boolean(env, "S3_FORCE_PATH_STYLE", false),
    };
  }
  if (driver === "azure") return { driver, ...azureAccount(env), container: azureContainer(env) };
  throw new ConfigError(`STORAGE_DRIVER must be "local", "s3" or "azure", got "${driver}"`);
}

/** Azurite's (the storage emulator's) one account, its published key and default endpoint: `UseDevelopmentStorage=true`. */
export const azuriteAccount = {
  accountName: "devstoreaccount1",
  accountKey: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
  endpoint: "http://127.0.0.1:10000/devstoreaccount1",
};

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Account name, key and blob endpoint, from AZURE_STORAGE_CONNECTION_STRING or from
 * AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY. Messages never repeat the key or the string.
 */
function azureAccount(env: Env): Pick<AzureStorageConfig, "accountName" | "accountKey" | "endpoint"> {
  const connectionString = env.AZURE_STORAGE_CONNECTION_STRING || undefined;
  if (connectionString !== undefined) {
    if (env.AZURE_STORAGE_ACCOUNT || env.AZURE_STORAGE_KEY) {
      throw new ConfigError(
        "set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY, not both",
      );
    }
    return parseConnectionString(connectionString);
  }
  const accountName = env.AZURE_STORAGE_ACCOUNT;
  if (!accountName)
    throw new ConfigError(
      "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY, is required",
    );
  if (!/^[a-z0-9]{3,24}$/.test(accountName)) {
    throw new ConfigError(`AZURE_STORAGE_ACCOUNT must be 3 to 24 lower-case letters and digits, got "${accountName}"`);
  }
  const accountKey = required(env, "AZURE_STORAGE_KEY");
  if (!base64Pattern.test(accountKey)) throw new ConfigError("AZURE_STORAGE_KEY must be the account key in base64");
  return { accountName, accountKey, endpoint: `https://${accountName}.blob.core.windows.net` };
}

/** The parts of an Azure Storage connection string the driver needs (it signs SAS with the account key). */
function parseConnectionString(value: string): Pick<AzureStorageConfig, "accountName" | "accountKey" | "endpoint"> {
  const parts = new Map<string, string>();
  for (const pair of value.split(";")) {
    const at = pair.indexOf("=");
    if (pair.trim() === "") continue;
    if (at <= 0)
      throw new ConfigError("AZURE_STORAGE_CONNECTION_STRING must be Name=value pairs separated by semicolons");
    parts.set(pair.slice(0, at).trim().toLowerCase(), pair.slice(at + 1).trim());
  }
  if (parts.get("usedevelopmentstorage")?.toLowerCase() === "true") return azuriteAccount;
  const accountName = parts.get("accountname");
  const accountKey = parts.get("accountkey");
  if (!accountName || !accountKey) {
    throw new ConfigError(
      "AZURE_STORAGE_CONNECTION_STRING must hold AccountName and AccountKey (the server signs SAS URLs with the key)",
    );
  }
  if (!base64Pattern.test(accountKey))
    throw new ConfigError("AZURE_STORAGE_CONNECTION_STRING's AccountKey must be the account key in base64");
  const protocol = parts.get("defaultendpointsprotocol") || "https";
  const endpoint = (
    parts.get("blobendpoint") ||
    `${protocol}://${accountName}.blob.${parts.get("endpointsuffix") || "core.windows.net"}`
  ).replace(/\/+$/, "");
  try {
    if (!/^https?:$/.test(new URL(endpoint).protocol)) throw new Error("not http(s)");
  } catch {
    throw new ConfigError(`AZURE_STORAGE_CONNECTION_STRING's BlobEndpoint must be an http(s) URL, got "${endpoint}"`);
  }
  return { accountName, accountKey, endpoint };
}

/** AZURE_CONTAINER, checked against Azure's container naming rules. */
function azureContainer(env: Env): string {
  const container = required(env, "AZURE_CONTAINER");
  if (!/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/.test(container)) {
    throw new ConfigError(
      `AZURE_CONTAINER must be 3 to 63 lower-case letters, digits and single hyphens, got "${container}"`,
    );
  }
  return container;
}

const hostNamePattern = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/;

/** A comma list of host names, IP addresses and CIDR ranges, each checked here. */
function allowedHosts(env: Env, name: string): string[] {
  return list(env, name).map((entry) => {
    const host = entry.toLowerCase().replace(/^\[(.*)\]$/, "$1");
    if (isIP(host) !== 0 || hostNamePattern.test(host)) return host;
    const [address, bits] = host.split("/");
    if (address !== undefined && isIP(address) !== 0 && bits !== undefined && ipaddr.isValidCIDR(host)) return host;
    throw new ConfigError(`${name} must list host names, IP addresses or CIDR ranges, got "${entry}"`);
  });
}

/** One of `values`, the first being the default. */
function oneOf<T extends string>(env: Env, name: string, values: readonly [T, ...T[]]): T {
  const raw = env[name];
  if (raw === undefined || raw === "") return values[0];
  if (!(values as readonly string[]).includes(raw))
    throw new ConfigError(`${name} must be one of ${values.join(", ")}, got "${raw}"`);
  return raw as T;
}

function absoluteUrl(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute URL, got "${raw}"`);
  }
  if (!protocols.includes(url.protocol))
    throw new ConfigError(`${name} must be a ${protocols.join(" or ")} URL, got "${raw}"`);
  return raw;
}

function oidcConfig(env: Env): OidcOptions | undefined {
  const issuer = absoluteUrl(env, "OIDC_ISSUER", ["https:", "http:"]);
  if (issuer === undefined) return undefined;
  return {
    issuer,
    audience: required(env, "OIDC_AUDIENCE"),
    clockToleranceSeconds: integer(env, "OIDC_CLOCK_TOLERANCE", 60),
    groupsClaim: env.OIDC_GROUPS_CLAIM || "groups",
    jwksCooldownMs: integer(env, "OIDC_JWKS_COOLDOWN", 30) * 1000,
  };
}

function trustProxy(env: Env): string[] {
  const entries = list(env, "TRUST_PROXY");
  try {
    proxyAddr.compile(entries);
  } catch (error) {
    throw new ConfigError(
      `TRUST_PROXY must list addresses, CIDR ranges, loopback, linklocal or uniquelocal: ${(error as Error).message}`,
    );
  }
  return entries;
}

/** Reads and validates the environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, "PORT", 4000);
  if (port > 65535) throw new ConfigError(`PORT must be at most 65535, got "${env.PORT}"`);
  const host = env.HOST || "0.0.0.0";
  const publicUrl = (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, "");
  try {
    new URL(publicUrl);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute URL, got "${env.PUBLIC_URL}"`);
  }
  const databaseUrl = env.DATABASE_URL || "file:./data/app.db";
  if (!/^(file:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL must start with "file:" or "postgresql://", got "${databaseUrl}"`);
  }
  const allowedMimeTypes = list(env, "ALLOWED_MIME_TYPES").map((type) => type.toLowerCase());
  const badType = allowedMimeTypes.find((type) => !isAllowListEntry(type));
  if (badType !== undefined) {
    throw new ConfigError(`ALLOWED_MIME_TYPES must list type/subtype values, got "${badType}"`);
  }
  const maxFileBytes = integer(env, "MAX_FILE_BYTES", 5 * 1024 * MiB * 1024, 1);
  const config: Config = {
    port,
    host,
    publicUrl,
    databaseUrl,
    storage: storageConfig(env),
    signingSecret: env.SIGNING_SECRET || randomBytes(32).toString("hex"),
    uploadUrlTtl: integer(env, "UPLOAD_URL_TTL", DEFAULT_SIGNED_URL_SECONDS, 1, MAX_SIGNED_URL_SECONDS),
    maxInlineBytes: integer(env, "MAX_INLINE_BYTES", 7 * MiB, 0),
    maxSingleUploadBytes: integer(env, "MAX_SINGLE_UPLOAD_BYTES", 256 * MiB, 1),
    maxFileBytes,
    maxNameLength: integer(env, "MAX_NAME_LENGTH", 255, 1, MAX_NAME_LENGTH_CEILING),
    fileVersionsKept: integer(env, "FILE_VERSIONS_KEPT", 0, 0),
    allowedMimeTypes,
    pendingUploadTtl: integer(env, "PENDING_UPLOAD_TTL", 24 * 3600, 1),
    sourceUrlAllowedHosts: allowedHosts(env, "SOURCE_URL_ALLOWED_HOSTS"),
    sourceUrlTimeout: integer(env, "SOURCE_URL_TIMEOUT", 30, 1),
    uploadProgressIntervalMs: integer(env, "UPLOAD_PROGRESS_INTERVAL_MS", 250, 0),
    webhooks: {
      allowedHosts: allowedHosts(env, "WEBHOOK_ALLOWED_HOSTS"),
      retryBaseMs: integer(env, "WEBHOOK_RETRY_BASE_MS", 5000, 1),
      pollMs: integer(env, "WEBHOOK_POLL_INTERVAL_MS", 1000, 10),
      timeoutMs: integer(env, "WEBHOOK_TIMEOUT", 10, 1) * 1000,
    },
    bootstrapApiKey: env.BOOTSTRAP_API_KEY || undefined,
    oidc: oidcConfig(env),
    rateLimits: {
      perMinute: integer(env, "RATE_LIMIT_PER_MINUTE", 1200, 1),
      anonymousPerMinute: integer(env, "RATE_LIMIT_ANONYMOUS_PER_MINUTE", 120, 1),
    },
    redisUrl: absoluteUrl(env, "REDIS_URL", ["redis:", "rediss:"]),
    redisKeyPrefix: env.REDIS_KEY_PREFIX || "graphql-files:",
    trustProxy: trustProxy(env),
    graphqlLimits: {
      maxTokens: integer(env, "GRAPHQL_MAX_TOKENS", 2000, 1),
      maxDepth: integer(env, "GRAPHQL_MAX_DEPTH", 15, 1),
      maxAliases: integer(env, "GRAPHQL_MAX_ALIASES", 30, 0),
      maxDirectives: integer(env, "GRAPHQL_MAX_DIRECTIVES", 50, 0),
      maxCost: integer(env, "GRAPHQL_MAX_COST", 500_000, 1),
    },
    corsOrigins: list(env, "CORS_ORIGINS"),
    logLevel: env.LOG_LEVEL || "info",
    shutdownTimeout: integer(env, "SHUTDOWN_TIMEOUT", 30, 0),
    requestTimeout: integer(env, "REQUEST_TIMEOUT", 60, 1),
    tracing:
      absoluteUrl(env, "OTEL_EXPORTER_OTLP_ENDPOINT", ["http:", "https:"]) === undefined
        ? undefined
        : { serviceName: env.OTEL_SERVICE_NAME || "graphql-files" },
    metricsToken: env.METRICS_TOKEN || undefined,
    logFormat: oneOf(env, "LOG_FORMAT", ["auto", "json", "pretty"] as const),
  };
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(config.logLevel)) {
    throw new ConfigError(
      `LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${config.logLevel}"`,
    );
  }
  return config;
}
