import { expect, it } from "vitest";
import { loadConfig } from "../src/config.js";

it("reads SOURCE_URL_ALLOWED_HOSTS and SOURCE_URL_TIMEOUT", () => {
  const config = loadConfig({ SOURCE_URL_ALLOWED_HOSTS: "Intranet.example, 10.0.0.0/8, [::1]", SOURCE_URL_TIMEOUT: "5" });
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

it("reads the gate's settings, with their defaults", () => {
  const defaults = loadConfig({});
  expect(defaults.oidc).toBeUndefined();
  expect(defaults.rateLimits).toEqual({ perMinute: 1200, anonymousPerMinute: 120 });
  expect(defaults.graphqlLimits).toEqual({ maxTokens: 2000, maxDepth: 15, maxAliases: 30, maxDirectives: 50, maxCost: 500_000 });
  const set = loadConfig({ OIDC_ISSUER: "https://id.example/realms/x", OIDC_AUDIENCE: "files", OIDC_GROUPS_CLAIM: "realm_access.roles", TRUST_PROXY: "loopback, 10.0.0.0/8" });
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
  expect(() => loadConfig({ OIDC_ISSUER: "not a url", OIDC_AUDIENCE: "a" })).toThrow(/^OIDC_ISSUER must be an absolute URL/);
  expect(() => loadConfig({ OIDC_ISSUER: "ftp://id.example" , OIDC_AUDIENCE: "a" })).toThrow(/^OIDC_ISSUER must be a https: or http: URL/);
  expect(() => loadConfig({ OIDC_ISSUER: "https://id.example" })).toThrow(/^OIDC_AUDIENCE is required/);
  expect(() => loadConfig({ REDIS_URL: "http://127.0.0.1:6379" })).toThrow(/^REDIS_URL must be a redis: or rediss: URL/);
  expect(() => loadConfig({ TRUST_PROXY: "not-an-address" })).toThrow(/^TRUST_PROXY must list/);
  expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: "0" })).toThrow(/^RATE_LIMIT_PER_MINUTE/);
  expect(() => loadConfig({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: "lots" })).toThrow(/^RATE_LIMIT_ANONYMOUS_PER_MINUTE/);
  expect(() => loadConfig({ GRAPHQL_MAX_COST: "-1" })).toThrow(/^GRAPHQL_MAX_COST/);
});
