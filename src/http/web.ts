import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { unlessMissing } from "../storage/local-files.js";

/** Where `npm run build:web` (scripts/build-web.ts) puts what browsers load; from src/http or dist/http alike. */
const WEB_DIR = fileURLToPath(new URL("../../dist/web", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".ico": "image/x-icon",
  ".map": "application/json; charset=utf-8",
};

/**
 * The pages' Content-Security-Policy: scripts and styles from this origin only; images, uploads
 * and API calls may go elsewhere (an S3 bucket, an API on another origin). GraphiQL's editor
 * (Monaco) sets inline styles and starts workers from blob URLs.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: http: https:",
  "connect-src 'self' http: https:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join("; ");

interface Asset {
  file: string;
  type: string;
  etag: string;
  /** Compressed siblings on disk. */
  encodings: ("br" | "gzip")[];
  /** Content-hashed name: may be cached for a year. */
  immutable: boolean;
}

/** The built files, by name; empty when the build has not run. */
async function loadAssets(dir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  const names = (await unlessMissing(readdir(dir))) ?? [];
  for (const name of names) {
    const type = TYPES[path.extname(name)];
    if (type === undefined) continue;
    const file = path.join(dir, name);
    const etag = `"${createHash("sha256")
      .update(await readFile(file))
      .digest("base64url")
      .slice(0, 22)}"`;
    const encodings: Asset["encodings"] = [];
    if ((await unlessMissing(stat(`${file}.br`))) !== undefined) encodings.push("br");
    if ((await unlessMissing(stat(`${file}.gz`))) !== undefined) encodings.push("gzip");
    assets.set(name, { file, type, etag, encodings, immutable: /-[0-9a-f]{12}\.\w+$/.test(name) });
  }
  return assets;
}

/** The encoding to send: br, then gzip, when the client accepts it (q=0 refuses). */
function chooseEncoding(
  accept: string | undefined,
  available: Asset["encodings"],
): Asset["encodings"][number] | undefined {
  const accepted = new Set(
    (accept ?? "")
      .split(",")
      .map((item) => item.trim().split(";"))
      .filter(([, q]) => q === undefined || !/^\s*q=0(\.0*)?\s*$/.test(q))
      .map(([name]) => name?.trim().toLowerCase()),
  );
  return available.find((encoding) => accepted.has(encoding));
}

async function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): Promise<void> {
  res.setHeader("content-type", asset.type);
  res.setHeader("etag", asset.etag);
  res.setHeader("vary", "accept-encoding");
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("cache-control", asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (asset.type.startsWith("text/html")) {
    res.setHeader("content-security-policy", CSP);
    res.setHeader("referrer-policy", "no-referrer");
  }
  if (req.headers["if-none-match"] === asset.etag) {
    res.writeHead(304);
    return void res.end();
  }
  const encoding = chooseEncoding(req.headers["accept-encoding"], asset.encodings);
  const file = encoding === undefined ? asset.file : `${asset.file}.${encoding === "br" ? "br" : "gz"}`;
  if (encoding !== undefined) res.setHeader("content-encoding", encoding);
  res.setHeader("content-length", (await stat(file)).size);
  res.writeHead(200);
  if (req.method === "HEAD") return void res.end();
  await pipeline(createReadStream(file), res);
}

async function builtTime(dir: string): Promise<number> {
  return (await unlessMissing(stat(dir)))?.mtimeMs ?? 0;
}

/** Whether a browser is asking for a page (GraphiQL on GET /graphql, as Yoga decides it). */
function wantsHtml(req: IncomingMessage): boolean {
  return (req.method === "GET" || req.method === "HEAD") && (req.headers.accept ?? "").includes("text/html");
}

/** The front ends: the page at `/`, GraphiQL on a browser's GET of `/graphql`, and their assets under `/assets/`. */
export interface WebRoutes {
  /** Whether the request is for one of them. */
  matches(req: IncomingMessage): boolean;
  /** Answers a request `matches` accepted; 503 with the command to run when the build is missing. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

function nameOf(req: IncomingMessage): string | undefined {
  const pathname = (req.url ?? "/").split("?", 1)[0] ?? "/";
  if (pathname === "/graphql") return wantsHtml(req) ? "graphiql.html" : undefined;
  if (req.method !== "GET" && req.method !== "HEAD") return undefined;
  if (pathname === "/") return "index.html";
  return pathname.startsWith("/assets/") ? pathname.slice("/assets/".length) : undefined;
}

export async function webRoutes(dir: string = WEB_DIR): Promise<WebRoutes> {
  let assets = await loadAssets(dir);
  let builtAt = await builtTime(dir);
  return {
    matches: (req) => nameOf(req) !== undefined,
    async serve(req, res) {
      // A build while the server runs (npm run build:web beside npm run dev) adds hashed files,
      // which changes the folder's mtime: the list is read again.
      const now = await builtTime(dir);
      if (now !== builtAt) {
        assets = await loadAssets(dir);
        builtAt = now;
      }
      const name = nameOf(req) ?? "";
      const asset = assets.get(name);
      if (asset !== undefined) return sendAsset(req, res, asset);
      const page = name === "index.html" || name === "graphiql.html";
      res.writeHead(page ? 503 : 404, { "content-type": "text/plain; charset=utf-8" });
      res.end(page ? "The web page and GraphiQL are not built: run `npm run build:web`.\n" : "Not found\n");
    },
  };
}
