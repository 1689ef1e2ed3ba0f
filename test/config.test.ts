import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

it("reads SOURCE_URL_ALLOWED_HOSTS and SOURCE_URL_TIMEOUT", () => {
  const config = loadConfig({
    SOURCE_URL_ALLOWED_HOSTS: "Intranet.example, 10.0.0.0/8, [::1]",
    SOURCE_URL_TIMEOUT: "5",
  });
  expect(config.sourceUrlAllowedHosts).toEqual(["intranet.example", "10.0.0.0/8", "::1"]);
  expect(config.sourceUrlTimeout).toBe(5);
});

it("names SOURCE_URL_ALLOWED_HOSTS when an entry is not a host, IP or CIDR", () => {
  expect(() => loadConfig({ SOURCE_URL_ALLOWED_HOSTS: "http://x/" })).toThrow(/SOURCE_URL_ALLOWED_HOSTS/);
  expect(() => loadConfig({ SOURCE_URL_ALLOWED_HOSTS: "10.0.0.0/40" })).toThrow(/SOURCE_URL_ALLOWED_HOSTS/);
});

it("names SOURCE_URL_TIMEOUT when it is not a positive whole number", () => {
  expect(() => loadConfig({ SOURCE_URL_TIMEOUT: "0" })).toThrow(/SOURCE_URL_TIMEOUT/);
});

it("reads FILE_VERSIONS_KEPT, 0 by default", () => {
  expect(loadConfig({}).fileVersionsKept).toBe(0);
  expect(loadConfig({ FILE_VERSIONS_KEPT: "3" }).fileVersionsKept).toBe(3);
  expect(() => loadConfig({ FILE_VERSIONS_KEPT: "-1" })).toThrow(/FILE_VERSIONS_KEPT/);
});

it("reads UPLOAD_URL_TTL, 900 by default and at most 7 days, the longest S3 signs", () => {
  expect(loadConfig({}).uploadUrlTtl).toBe(900);
  expect(loadConfig({ UPLOAD_URL_TTL: "604800" }).uploadUrlTtl).toBe(604800);
  expect(() => loadConfig({ UPLOAD_URL_TTL: "604801" })).toThrow(/UPLOAD_URL_TTL must be at most 604800/);
  expect(() => loadConfig({ UPLOAD_URL_TTL: "0" })).toThrow(/UPLOAD_URL_TTL/);
});

it("reads MAX_NAME_LENGTH, 255 by default and at most 1024", () => {
  expect(loadConfig({}).maxNameLength).toBe(255);
  expect(loadConfig({ MAX_NAME_LENGTH: "1024" }).maxNameLength).toBe(1024);
  expect(() => loadConfig({ MAX_NAME_LENGTH: "1025" })).toThrow(/MAX_NAME_LENGTH must be at most 1024/);
  expect(() => loadConfig({ MAX_NAME_LENGTH: "0" })).toThrow(/MAX_NAME_LENGTH/);
});

describe("STORAGE_DRIVER=azure", () => {
  const key = Buffer.alloc(64, 7).toString("base64");

  it("reads account, key, container and the public endpoint from AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY", () => {
    const { storage } = loadConfig({
      STORAGE_DRIVER: "azure",
      AZURE_STORAGE_ACCOUNT: "acct1",
      AZURE_STORAGE_KEY: key,
      AZURE_CONTAINER: "files",
    });
    expect(storage).toEqual({
      driver: "azure",
      accountName: "acct1",
      accountKey: key,
      endpoint: "https://acct1.blob.core.windows.net",
      container: "files",
    });
  });

  it("reads a connection string, with its BlobEndpoint or its EndpointSuffix", () => {
    const withEndpoint = loadConfig({
      STORAGE_DRIVER: "azure",
      AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=${key};BlobEndpoint=http://127.0.0.1:10000/dev/;`,
      AZURE_CONTAINER: "files",
    });
    expect(withEndpoint.storage).toMatchObject({
      accountName: "dev",
      accountKey: key,
      endpoint: "http://127.0.0.1:10000/dev",
    });
    const sovereign = loadConfig({
      STORAGE_DRIVER: "azure",
      AZURE_STORAGE_CONNECTION_STRING: `AccountName=acct;AccountKey=${key};EndpointSuffix=core.chinacloudapi.cn`,
      AZURE_CONTAINER: "files",
    });
    expect(sovereign.storage).toMatchObject({ endpoint: "https://acct.blob.core.chinacloudapi.cn" });
    const emulator = loadConfig({
      STORAGE_DRIVER: "azure",
      AZURE_STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
      AZURE_CONTAINER: "files",
    });
    expect(emulator.storage).toMatchObject({
      accountName: "devstoreaccount1",
      endpoint: "http://127.0.0.1:10000/devstoreaccount1",
    });
  });

  it("names the missing or bad variable, and never repeats the key", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { AZURE_CONTAINER: "files" },
        /AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY, is required/,
      ],
      [{ AZURE_STORAGE_ACCOUNT: "acct1", AZURE_CONTAINER: "files" }, /AZURE_STORAGE_KEY is required/],
      [{ AZURE_STORAGE_ACCOUNT: "acct1", AZURE_STORAGE_KEY: key }, /AZURE_CONTAINER is required/],
      [
        { AZURE_STORAGE_ACCOUNT: "Acct_1", AZURE_STORAGE_KEY: key, AZURE_CONTAINER: "files" },
        /AZURE_STORAGE_ACCOUNT must be/,
      ],
      [
        { AZURE_STORAGE_ACCOUNT: "acct1", AZURE_STORAGE_KEY: "not base64!", AZURE_CONTAINER: "files" },
        /AZURE_STORAGE_KEY must be the account key in base64/,
      ],
      [{ AZURE_STORAGE_ACCOUNT: "acct1", AZURE_STORAGE_KEY: key, AZURE_CONTAINER: "Files" }, /AZURE_CONTAINER must be/],
      [{ AZURE_STORAGE_ACCOUNT: "acct1", AZURE_STORAGE_KEY: key, AZURE_CONTAINER: "a--b" }, /AZURE_CONTAINER must be/],
      [
        {
          AZURE_STORAGE_CONNECTION_STRING: `AccountName=a;AccountKey=${key}`,
          AZURE_STORAGE_KEY: key,
          AZURE_CONTAINER: "files",
        },
        /not both/,
      ],
      [
        {
          AZURE_STORAGE_CONNECTION_STRING:
            "BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=x&sig=y",
          AZURE_CONTAINER: "files",
        },
        /must hold AccountName and AccountKey/,
      ],
      [
        {
          AZURE_STORAGE_CONNECTION_STRING: `AccountName=a;AccountKey=${key};BlobEndpoint=ftp://x`,
          AZURE_CONTAINER: "files",
        },
        /BlobEndpoint must be an http\(s\) URL/,
      ],
      [
        { AZURE_STORAGE_CONNECTION_STRING: `AccountName=a;oops;AccountKey=${key}`, AZURE_CONTAINER: "files" },
        /must be Name=value pairs/,
      ],
    ];
    for (const [env, message] of cases) {
      let thrown: unknown;
      try {
        loadConfig({ STORAGE_DRIVER: "azure", ...env });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain(key);
    }
  });
});

it("names STORAGE_DRIVER with the drivers there are", () => {
  expect(() => loadConfig({ STORAGE_DRIVER: "gcs" })).toThrow(
    'STORAGE_DRIVER must be "local", "s3" or "azure", got "gcs"',
  );
});

it("reads the gate's settings, with their defaults", () => {
  const defaults = loadConfig({});
  expect(defaults.oidc).toBeUndefined();
  expect(defaults.rateLimits).toEqual({ perMinute: 1200, anonymousPerMinute: 120 });
  expect(defaults.graphqlLimits).toEqual({
    maxTokens: 2000,
    maxDepth: 15,
    maxAliases: 30,
    maxDirectives: 50,
    maxCost: 500_000,
  });
  const set = loadConfig({
    OIDC_ISSUER: "https://id.example/realms/x",
    OIDC_AUDIENCE: "files",
    OIDC_GROUPS_CLAIM: "realm_access.roles",
    TRUST_PROXY: "loopback, 10.0.0.0/8",
  });
  expect(set.oidc).toEqual({
    issuer: "https://id.example/realms/x",
    audience: "files",
    clockToleranceSeconds: 60,
    groupsClaim: "realm_access.roles",
    jwksCooldownMs: 30_000,
  });
  expect(set.trustProxy).toEqual(["loopback", "10.0.0.0/8"]);
});

it("names each of the gate's variables when its value is bad", () => {
  expect(() => loadConfig({ OIDC_ISSUER: "not a url", OIDC_AUDIENCE: "a" })).toThrow(
    /^OIDC_ISSUER must be an absolute URL/,
  );
  expect(() => loadConfig({ OIDC_ISSUER: "ftp://id.example", OIDC_AUDIENCE: "a" })).toThrow(
    /^OIDC_ISSUER must be a https: or http: URL/,
  );
  expect(() => loadConfig({ OIDC_ISSUER: "https://id.example" })).toThrow(/^OIDC_AUDIENCE is required/);
  expect(() => loadConfig({ REDIS_URL: "http://127.0.0.1:6379" })).toThrow(
    /^REDIS_URL must be a redis: or rediss: URL/,
  );
  expect(() => loadConfig({ TRUST_PROXY: "not-an-address" })).toThrow(/^TRUST_PROXY must list/);
  expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: "0" })).toThrow(/^RATE_LIMIT_PER_MINUTE/);
  expect(() => loadConfig({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: "lots" })).toThrow(/^RATE_LIMIT_ANONYMOUS_PER_MINUTE/);
  expect(() => loadConfig({ GRAPHQL_MAX_COST: "-1" })).toThrow(/^GRAPHQL_MAX_COST/);
});

describe("the variables, src/config.ts, .env.example and the README agree", () => {
  /** Every variable `loadConfig` reads, over configurations that take each branch. */
  function variablesRead(): Set<string> {
    const key = Buffer.alloc(64, 7).toString("base64");
    const environments: Record<string, string>[] = [
      {},
      { STORAGE_DRIVER: "s3", S3_BUCKET: "files" },
      { STORAGE_DRIVER: "azure", AZURE_STORAGE_ACCOUNT: "acct", AZURE_STORAGE_KEY: key, AZURE_CONTAINER: "files" },
      {
        OIDC_ISSUER: "https://issuer.example",
        OIDC_AUDIENCE: "files",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
      },
    ];
    const read = new Set<string>();
    for (const values of environments) {
      loadConfig(
        new Proxy(values, {
          get(target, name) {
            if (typeof name === "string") read.add(name);
            return target[name as string];
          },
        }),
      );
    }
    return read;
  }

  const names = (text: string, pattern: RegExp) => new Set([...text.matchAll(pattern)].map((match) => match[1]!));
  const sorted = (set: Set<string>) => [...set].sort();

  it(".env.example names every variable the server reads, and no other", async () => {
    const example = await readFile(new URL("../.env.example", import.meta.url), "utf8");
    expect(sorted(names(example, /^#? ?([A-Z][A-Z0-9_]+)=/gm))).toEqual(sorted(variablesRead()));
  });

  it("the README's configuration table names every variable the server reads, and no other", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const table = /## Configuration\n([\s\S]*?)\n\n/.exec(readme)?.[1] ?? "";
    const firstColumns = table
      .split("\n")
      .map((row) => row.split(" | ")[0] ?? "")
      .join("\n");
    expect(sorted(names(firstColumns, /`([A-Z][A-Z0-9_]+)`/g))).toEqual(sorted(variablesRead()));
  });
});
