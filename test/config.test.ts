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
