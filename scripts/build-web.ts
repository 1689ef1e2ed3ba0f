// Builds what runs in browsers (`npm run build:web`, also run by postinstall and prestart):
// dist/web, which the server serves: the page at / (src/web, bundled by esbuild) and GraphiQL from
// our own dependencies (@graphql-yoga/render-graphiql), so neither loads anything from a CDN; and
// dist/client/index.js, the `graphql-files/client` module (src/client) as one ES module.
// Assets get content hashes in their names (served as immutable); each file also gets .br and .gz
// siblings, which src/http/web.ts serves to browsers that accept them.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import zlib from "node:zlib";
import * as graphiql from "@graphql-yoga/render-graphiql/graphiql";
import { build } from "esbuild";
import { GRAPHIQL_HEADERS, GRAPHIQL_QUERY } from "../src/web/graphiql-defaults.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = path.join(root, "src", "web");
export const webDir = path.join(root, "dist", "web");
const clientDir = path.join(root, "dist", "client");

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** name-<hash>.ext: the first 12 hex digits of the content's SHA-256. */
function hashedName(name: string, content: string | Uint8Array): string {
  const hash = createHash("sha256").update(content).digest("hex").slice(0, 12);
  const ext = path.extname(name);
  return `${path.basename(name, ext)}-${hash}${ext}`;
}

/** Writes a file and its compressed siblings, unless a hashed file of that name is already there. */
async function emit(name: string, content: string | Uint8Array, written: Set<string>): Promise<void> {
  const file = path.join(webDir, name);
  written.add(name);
  const hashed = /-[0-9a-f]{12}\./.test(name);
  if (hashed && (await stat(`${file}.gz`).catch(() => null)) !== null) {
    written.add(`${name}.br`).add(`${name}.gz`);
    return;
  }
  const bytes = typeof content === "string" ? Buffer.from(content) : content;
  await writeFile(file, bytes);
  if (bytes.length < 1024) return;
  // Quality 9 above 256 KiB: within 10 % of 11's size, at a twentieth of the time on GraphiQL's 5 MB.
  const quality = bytes.length > 256 * 1024 ? 9 : 11;
  const br = await brotli(bytes, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: quality, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });
  const gz = await gzip(bytes, { level: 9 });
  await writeFile(`${file}.br`, br);
  await writeFile(`${file}.gz`, gz);
  written.add(`${name}.br`).add(`${name}.gz`);
}

function html(template: string, values: Record<string, string>): string {
  return template.replace(/%(\w+)%/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`no value for ${whole}`);
    return value;
  });
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c");
}

export async function buildWeb(): Promise<void> {
  await mkdir(webDir, { recursive: true });
  await build({
    entryPoints: [path.join(root, "src", "client", "index.ts")],
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    sourcemap: true,
    outdir: clientDir,
    logLevel: "warning",
  });
  const written = new Set<string>();

  const bundled = await build({
    entryPoints: { app: path.join(source, "main.ts"), "graphiql-boot": path.join(source, "graphiql-boot.ts") },
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    write: false,
    outdir: webDir,
    entryNames: "[name]",
    loader: { ".css": "css" },
    logLevel: "warning",
  });
  const names: Record<string, string> = {};
  for (const output of bundled.outputFiles) {
    const name = hashedName(path.basename(output.path), output.contents);
    names[path.basename(output.path)] = name;
    await emit(name, output.contents, written);
  }
  const favicon = Buffer.from(graphiql.favicon.replace(/^data:[^,]*;base64,/, ""), "base64");
  await emit("favicon.ico", favicon, written);

  const page = await readFile(path.join(source, "index.html"), "utf8");
  await emit(
    "index.html",
    html(page, { APP_JS: `/assets/${names["app.js"]}`, APP_CSS: `/assets/${names["app.css"]}` }),
    written,
  );

  const graphiqlAssets: Record<string, string> = {};
  for (const [name, content] of [
    ["graphiql.js", graphiql.js],
    ["graphiql.css", graphiql.css],
    ["editor.worker.js", graphiql.editorWorkerService],
    ["json.worker.js", graphiql.jsonWorker],
    ["graphql.worker.js", graphiql.graphqlWorker],
  ] as const) {
    graphiqlAssets[name] = hashedName(name, content);
    await emit(graphiqlAssets[name], content, written);
  }
  const options = {
    graphiql: { title: "graphql-files", endpoint: "/graphql", defaultQuery: GRAPHIQL_QUERY, headers: GRAPHIQL_HEADERS },
    workers: {
      editorWorkerService: `/assets/${graphiqlAssets["editor.worker.js"]}`,
      json: `/assets/${graphiqlAssets["json.worker.js"]}`,
      graphql: `/assets/${graphiqlAssets["graphql.worker.js"]}`,
    },
  };
  const graphiqlPage = await readFile(path.join(source, "graphiql.html"), "utf8");
  await emit(
    "graphiql.html",
    html(graphiqlPage, {
      GRAPHIQL_CSS: `/assets/${graphiqlAssets["graphiql.css"]}`,
      GRAPHIQL_JS: `/assets/${graphiqlAssets["graphiql.js"]}`,
      BOOT_JS: `/assets/${names["graphiql-boot.js"]}`,
      OPTIONS: scriptJson(options),
    }),
    written,
  );

  // Assets of earlier builds go, so the folder holds one build.
  for (const name of await readdir(webDir)) {
    if (!written.has(name)) await rm(path.join(webDir, name), { force: true });
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  await buildWeb();
  console.log(`built ${path.relative(root, webDir)} in ${Date.now() - started} ms`);
}
