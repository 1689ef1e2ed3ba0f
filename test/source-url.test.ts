import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFile, sha256 } from "./helpers/files.js";
import { randomContent } from "./helpers/samples.js";
import { startServer, type TestServer } from "./helpers/server.js";

const MiB = 1024 * 1024;
const payload = randomContent(300_000);
let upstream: Server;
let origin: string;
let allowed: TestServer;
let guarded: TestServer;

/** The remote side: a file, redirects, a 404, an oversized chunked body and a stall. */
function startUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    switch (req.url) {
      case "/file.bin":
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": payload.length });
        return void res.end(payload);
      case "/redirect":
        res.writeHead(302, { location: "/file.bin" });
        return void res.end();
      case "/redirect-to-metadata":
        res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" });
        return void res.end();
      case "/big": {
        // No Content-Length: the limit must be enforced while reading.
        res.writeHead(200, { "content-type": "application/octet-stream" });
        const chunk = Buffer.alloc(64 * 1024, 3);
        for (let sent = 0; sent < 2 * MiB; sent += chunk.length) res.write(chunk);
        return void res.end();
      }
      case "/stall":
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("the first bytes, then nothing");
        return;
      default:
        res.writeHead(404).end("not here");
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

beforeAll(async () => {
  upstream = await startUpstream();
  origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const limits = { SOURCE_URL_TIMEOUT: "1", MAX_FILE_BYTES: String(MiB) };
  allowed = await startServer({ ...limits, SOURCE_URL_ALLOWED_HOSTS: "127.0.0.1" });
  guarded = await startServer(limits);
});
afterAll(async () => {
  upstream.closeAllConnections();
  upstream.close();
  await Promise.all([allowed.close(), guarded.close()]);
});

function sourceUrlError(result: { __typename: string; fieldErrors?: { path: string[]; message: string }[] }): string {
  expect(result.__typename).toBe("ValidationError");
  expect(result.fieldErrors?.[0]?.path).toEqual(["input", "sourceUrl"]);
  return result.fieldErrors?.[0]?.message ?? "";
}

describe("sourceUrl import", () => {
  it("downloads an allow-listed loopback URL and returns the file UPLOADED", async () => {
    const result = await createFile(allowed, { name: "imported.bin", sourceUrl: `${origin}/file.bin` });
    expect(result.upload).toBeNull();
    expect(result.file).toMatchObject({ status: "UPLOADED", size: payload.length, checksumSha256: sha256(payload) });
  });

  it("follows a redirect to an allowed address", async () => {
    const result = await createFile(allowed, { name: "redirected.bin", sourceUrl: `${origin}/redirect` });
    expect(result.file?.checksumSha256).toBe(sha256(payload));
  });

  it("refuses the same loopback URL when it is not allow-listed", async () => {
    const result = await createFile(guarded, { name: "refused.bin", sourceUrl: `${origin}/file.bin` });
    expect(sourceUrlError(result)).toMatch(/127\.0\.0\.1.*refused/);
    expect(await guarded.app.db.file.count()).toBe(0);
  });

  it("refuses a host name that resolves to loopback (checked on the address connected to)", async () => {
    const port = (upstream.address() as AddressInfo).port;
    const result = await createFile(guarded, { name: "dns.bin", sourceUrl: `http://localhost:${port}/file.bin` });
    expect(sourceUrlError(result)).toMatch(/resolves to .*refused/);
  });

  it("refuses a redirect to the cloud metadata address", async () => {
    const result = await createFile(allowed, { name: "metadata.bin", sourceUrl: `${origin}/redirect-to-metadata` });
    expect(sourceUrlError(result)).toMatch(/redirected to a refused location.*169\.254\.169\.254/);
  });

  it("refuses schemes other than http and https", async () => {
    const result = await createFile(allowed, { name: "file.bin", sourceUrl: "file:///etc/passwd" });
    expect(sourceUrlError(result)).toContain("http or https");
  });

  it("reports the upstream status of a missing file", async () => {
    const result = await createFile(allowed, { name: "missing.bin", sourceUrl: `${origin}/missing` });
    expect(sourceUrlError(result)).toContain("HTTP 404");
    expect(await allowed.app.db.file.count({ where: { name: "missing.bin" } })).toBe(0);
  });

  it("cuts off a body over the file size limit while reading, keeping nothing", async () => {
    const result = await createFile(allowed, { name: "big.bin", sourceUrl: `${origin}/big` });
    expect(result).toMatchObject({ __typename: "PayloadTooLargeError", maxSize: MiB });
    expect(await allowed.app.db.file.count({ where: { name: "big.bin" } })).toBe(0);
  });

  it("gives up on a server that stalls past the time limit", async () => {
    const started = Date.now();
    const result = await createFile(allowed, { name: "stall.txt", sourceUrl: `${origin}/stall` });
    expect(sourceUrlError(result)).toContain("longer than 1 s");
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await allowed.app.db.file.count({ where: { name: "stall.txt" } })).toBe(0);
  });
});
