import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import S3rver from "s3rver";

/** An S3-compatible server on loopback with one empty bucket, and what a client needs to reach it. */
export interface TestS3Server {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Environment for `loadConfig` selecting this server (credentials come from the SDK chain). */
  env: Record<string, string>;
  /** Directory s3rver keeps its buckets in. */
  dir: string;
  close(): Promise<void>;
}

/** s3rver accepts any credentials; these are what the tests sign with. */
export const s3TestCredentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** The subset of a Koa context the shim below uses. */
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  req: Readable;
  status: number;
  body: unknown;
  type: string;
  set(name: string, value: string): void;
  get(name: string): string;
  store: {
    existsObject(bucket: string, key: string): Promise<boolean>;
    getMetadata(bucket: string, key: string): Promise<{ etag: string }>;
  };
}

const MiB = 1024 * 1024;

function s3Error(ctx: KoaContext, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.type = "application/xml";
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

function preconditionFailed(ctx: KoaContext): void {
  s3Error(ctx, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
}

/** The quoted ETag of an object, or undefined when there is none. */
async function etagOf(ctx: KoaContext, bucket: string, key: string): Promise<string | undefined> {
  if (!(await ctx.store.existsObject(bucket, key))) return undefined;
  return (await ctx.store.getMetadata(bucket, key)).etag;
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * s3rver 3.7 has no ListParts and no AbortMultipartUpload, accepts parts for an upload that does
 * not exist, and completes an upload without checking the ETags, order or sizes of its parts.
 * It also ignores `If-None-Match: *` on PUT (and so on CopyObject's destination), `If-Match` on
 * GET and HEAD, and `x-amz-copy-source-if-match` on CopyObject. This Koa middleware, placed before
 * s3rver's own, does those as S3 documents them (API_CompleteMultipartUpload, conditional writes
 * and reads, API_CopyObject) so the drivers are tested against S3's behaviour; everything else is
 * s3rver's.
 */
function s3Shim(dir: string) {
  return async (ctx: KoaContext, next: () => Promise<void>): Promise<void> => {
    const uploadId = ctx.query.uploadId;
    const [, bucket = "", ...keyPath] = ctx.path.split("/");
    if (ctx.method === "PUT" && uploadId === undefined && ctx.get("if-none-match") === "*" && keyPath.length > 0) {
      const key = keyPath.map(decodeURIComponent).join("/");
      if (await ctx.store.existsObject(bucket, key)) return preconditionFailed(ctx);
    }
    const ifMatch = ctx.get("if-match");
    if ((ctx.method === "GET" || ctx.method === "HEAD") && ifMatch !== "" && keyPath.length > 0) {
      const etag = await etagOf(ctx, bucket, keyPath.map(decodeURIComponent).join("/"));
      if (etag !== undefined && etag !== ifMatch) return preconditionFailed(ctx);
    }
    const sourceIfMatch = ctx.get("x-amz-copy-source-if-match");
    if (ctx.method === "PUT" && sourceIfMatch !== "") {
      const [sourceBucket = "", ...sourceKey] = decodeURIComponent(ctx.get("x-amz-copy-source"))
        .replace(/^\//, "")
        .split("/");
      const etag = await etagOf(ctx, sourceBucket, sourceKey.join("/"));
      if (etag === undefined) return s3Error(ctx, 404, "NoSuchKey", "The specified key does not exist.");
      if (etag !== sourceIfMatch) return preconditionFailed(ctx);
    }
    if (typeof uploadId !== "string") return next();
    const uploadDir = path.join(dir, bucket, "._S3rver_uploads", path.basename(uploadId));
    const exists = await stat(path.join(uploadDir, "key")).then(
      () => true,
      () => false,
    );
    if (!exists) return s3Error(ctx, 404, "NoSuchUpload", "The specified upload does not exist.");
    const parts = async (): Promise<{ partNumber: number; etag: string; size: number }[]> => {
      const names = (await readdir(uploadDir)).filter((name) => /^\d+$/.test(name));
      const listed = await Promise.all(
        names.map(async (name) => {
          const [info, md5] = await Promise.all([
            stat(path.join(uploadDir, name)),
            readFile(path.join(uploadDir, `${name}.md5`), "utf8"),
          ]);
          return { partNumber: Number(name), etag: `"${md5}"`, size: info.size };
        }),
      );
      return listed.sort((a, b) => a.partNumber - b.partNumber);
    };
    if (ctx.method === "GET") {
      const xml = (await parts())
        .map(
          (p) =>
            `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${p.etag.replace(/"/g, "&quot;")}</ETag><Size>${p.size}</Size></Part>`,
        )
        .join("");
      ctx.type = "application/xml";
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult><UploadId>${uploadId}</UploadId><IsTruncated>false</IsTruncated>${xml}</ListPartsResult>`;
      return;
    }
    if (ctx.method === "DELETE") {
      await rm(uploadDir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    if (ctx.method === "POST") {
      const xml = await readText(ctx.req);
      const requested = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((match) => ({
        partNumber: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(match[1]!)?.[1]),
        etag: (/<ETag>([\s\S]*?)<\/ETag>/.exec(match[1]!)?.[1] ?? "").replace(/&quot;|"/g, ""),
      }));
      const stored = new Map((await parts()).map((p) => [p.partNumber, p]));
      for (const [index, part] of requested.entries()) {
        if (index > 0 && part.partNumber <= requested[index - 1]!.partNumber) {
          return s3Error(ctx, 400, "InvalidPartOrder", "The list of parts was not in ascending order.");
        }
        const found = stored.get(part.partNumber);
        if (found === undefined || found.etag.replace(/"/g, "") !== part.etag) {
          return s3Error(ctx, 400, "InvalidPart", "One or more of the specified parts could not be found.");
        }
        if (index < requested.length - 1 && found.size < 5 * MiB) {
          return s3Error(
            ctx,
            400,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed object size.",
          );
        }
      }
      // s3rver reads the body itself.
      ctx.req = Readable.from([Buffer.from(xml)]);
    }
    return next();
  };
}

/** Starts s3rver on a free loopback port over a temp directory, with one fresh bucket. */
export async function startS3Server(bucket = "test-bucket"): Promise<TestS3Server> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  server.middleware.unshift(s3Shim(dir));
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const region = "us-east-1";
  return {
    endpoint,
    bucket,
    region,
    credentials: s3TestCredentials,
    dir,
    env: {
      STORAGE_DRIVER: "s3",
      S3_BUCKET: bucket,
      S3_REGION: region,
      S3_ENDPOINT: endpoint,
      S3_FORCE_PATH_STYLE: "true",
    },
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
