import { describe, expect, it } from "vitest";
import { isPublicAddress } from "./outbound.js";

describe("isPublicAddress", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.100.100.200",
    "0.0.0.0",
    "::1",
    "fd00:ec2::254",
    "fe80::1",
    "::ffff:127.0.0.1",
    "64:ff9b::7f00:1",
  ])("refuses %s", (address) => expect(isPublicAddress(address)).toBe(false));
  it.each(["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])("accepts %s", (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});
