import { mkdtemp, rm } from "node:fs/promises";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webRoutes } from "../src/http/web.js";
import { API_KEY_PLACEHOLDER } from "../src/web/graphiql-defaults.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** A raw GET: node:http, since fetch decodes the body itself and would hide Content-Encoding. */
function get(
  pathname: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(`${server.url}${pathname}`, { headers: { "accept-encoding": "identity", ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers))
          if (typeof value === "string") responseHeaders.set(name, value);
        resolve({ status: res.statusCode ?? 0, headers: responseHeaders, body: Buffer.concat(chunks) });
      });
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

function decoded(response: { headers: Headers; body: Buffer }): string {
  const encoding = response.headers.get("content-encoding");
  if (encoding === "br") return zlib.brotliDecompressSync(response.body).toString();
  if (encoding === "gzip") return zlib.gunzipSync(response.body).toString();
  return response.body.toString();
}

/** Every src and href in a page. */
const references = (html: string) => [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? "");

describe("the page at / and GraphiQL", () => {
  it("serves the page compressed with brotli, or gzip, as the browser accepts", async () => {
    const br = await get("/", { "accept-encoding": "gzip, deflate, br" });
    expect(br.status).toBe(200);
    expect(br.headers.get("content-encoding")).toBe("br");
    expect(br.headers.get("vary")).toBe("accept-encoding");
    const gzip = await get("/", { "accept-encoding": "gzip, br;q=0" });
    expect(gzip.headers.get("content-encoding")).toBe("gzip");
    const plain = await get("/");
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(decoded(br)).toBe(plain.body.toString());
    expect(decoded(gzip)).toBe(plain.body.toString());
    expect(plain.body.toString()).toContain("<title>graphql-files</title>");
  });

  it("sends the page with no-cache, an ETag that answers 304, and a CSP allowing only this origin's scripts", async () => {
    const page = await get("/");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const again = await get("/", { "if-none-match": page.headers.get("etag") ?? "" });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it("serves the page's hashed assets as immutable for a year", async () => {
    const page = (await get("/")).body.toString();
    const assets = references(page).filter((ref) => /\/assets\/app-[0-9a-f]{12}\.(js|css)$/.test(ref));
    expect(assets).toHaveLength(2);
    for (const asset of assets) {
      const response = await get(asset, { "accept-encoding": "br" });
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(response.headers.get("content-encoding")).toBe("br");
      expect(response.headers.get("content-type")).toMatch(asset.endsWith(".js") ? /^text\/javascript/ : /^text\/css/);
    }
  });

  it("serves GraphiQL to a browser's GET of /graphql from this server alone, with the Authorization placeholder and an example query", async () => {
    const response = await get("/graphql", { accept: "text/html,application/xhtml+xml" });
    expect(response.status).toBe(200);
    const html = response.body.toString();
    const refs = references(html);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    // Nothing from a CDN: every script, style and icon is a path on this server, and each loads.
    for (const ref of refs) {
      expect(ref).toMatch(/^\/assets\//);
      expect((await get(ref)).status, ref).toBe(200);
    }
    const options = JSON.parse(
      /<script type="application\/json" id="graphiql-options">(.*?)<\/script>/s.exec(html)?.[1] ?? "{}",
    ) as {
      graphiql: { headers: string; defaultQuery: string };
      workers: Record<string, string>;
    };
    expect(JSON.parse(options.graphiql.headers)).toEqual({ Authorization: `Bearer ${API_KEY_PLACEHOLDER}` });
    expect(options.graphiql.defaultQuery).toContain("viewer");
    for (const worker of Object.values(options.workers)) expect((await get(worker)).status, worker).toBe(200);
  });

  it("still answers GraphQL on GET /graphql to a client that does not ask for HTML", async () => {
    const response = await fetch(`${server.url}/graphql?query=${encodeURIComponent("{ __typename }")}`, {
      headers: { accept: "application/json" },
    });
    expect(await response.json()).toEqual({ data: { __typename: "Query" } });
  });

  it("answers 404 for an asset that is not in the build, however its path is written", async () => {
    for (const pathname of ["/assets/missing.js", "/assets/..%2Fpackage.json", "/assets/../package.json", "/assets/"]) {
      expect((await get(pathname)).status, pathname).toBe(404);
    }
  });

  it("answers 503 naming the build command when the build is missing", async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), "files-web-"));
    const routes = await webRoutes(empty);
    const bare = createServer((req, res) => {
      if (routes.matches(req)) void routes.serve(req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/`);
      expect(response.status).toBe(503);
      expect(await response.text()).toContain("npm run build:web");
    } finally {
      bare.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
