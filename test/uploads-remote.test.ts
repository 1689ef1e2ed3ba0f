import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite } from "./helpers/azurite.js";
import { createFile, sha256 } from "./helpers/files.js";
import { createFileWithUpload } from "./helpers/multipart.js";
import { s3TestCredentials, startS3Server } from "./helpers/s3-server.js";
import { elf, randomContent } from "./helpers/samples.js";
import { startServer, type TestServer } from "./helpers/server.js";

// The in-request paths (GraphQL multipart, base64, sourceUrl) on the remote stores: bytes stream
// to S3 through lib-storage and to Azure through uploadStream, and a refused upload leaves no
// object behind.
const MiB = 1024 * 1024;

/** A store started for this file: the server's environment for it, and the keys of its objects. */
interface RemoteStore {
  env: Record<string, string>;
  keys(): Promise<string[]>;
  close(): Promise<void>;
}

async function s3Store(): Promise<RemoteStore> {
  const s3 = await startS3Server();
  process.env.AWS_ACCESS_KEY_ID = s3TestCredentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3TestCredentials.secretAccessKey;
  return {
    env: s3.env,
    async keys() {
      const client = new S3Client({
        endpoint: s3.endpoint,
        region: s3.region,
        credentials: s3.credentials,
        forcePathStyle: true,
      });
      const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
      client.destroy();
      return (listed.Contents ?? []).map((object) => object.Key ?? "");
    },
    close: () => s3.close(),
  };
}

async function azureStore(): Promise<RemoteStore> {
  const azurite = await startAzurite();
  const service = new BlobServiceClient(
    azurite.endpoint,
    new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey),
  );
  return {
    env: azurite.env,
    async keys() {
      // Committed blobs only: the uncommitted blocks of a failed upload are no object, and Azure discards them.
      const keys: string[] = [];
      for await (const blob of service.getContainerClient(azurite.container).listBlobsFlat()) keys.push(blob.name);
      return keys;
    },
    close: () => azurite.close(),
  };
}

let source: Server;
let sourceUrl: string;
const sourceBytes = randomContent(3 * MiB);

beforeAll(async () => {
  source = createServer((_req, res) => res.end(sourceBytes));
  await new Promise<void>((resolve) => source.listen(0, "127.0.0.1", resolve));
  sourceUrl = `http://127.0.0.1:${(source.address() as AddressInfo).port}/data.bin`;
});
afterAll(() => {
  source.close();
});

async function downloaded(url: string): Promise<string> {
  return sha256(Buffer.from(await (await fetch(url)).arrayBuffer()));
}

describe.each([
  ["s3", s3Store],
  ["azure", azureStore],
] as const)("bytes in the request on %s storage", (_driver, openStore) => {
  let store: RemoteStore;
  let server: TestServer;
  beforeAll(async () => {
    store = await openStore();
    server = await startServer({ ...store.env, SOURCE_URL_ALLOWED_HOSTS: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await store.close();
  });

  it("streams a 12 MiB multipart upload (more than one 8 MiB part or block) to the store", async () => {
    const body = randomContent(12 * MiB);
    const result = await createFileWithUpload(server, { name: "big.bin", size: body.length }, body);
    expect(result.file).toMatchObject({ status: "UPLOADED", size: body.length, checksumSha256: sha256(body) });
    expect(result.upload).toBeNull();
    expect(await downloaded(result.file!.downloadUrl!)).toBe(sha256(body));
  });

  it("stores base64 content", async () => {
    const bytes = randomContent(100_000);
    const result = await createFile(server, { name: "inline.bin", content: bytes.toString("base64") });
    expect(result.file).toMatchObject({ status: "UPLOADED", checksumSha256: sha256(bytes) });
    expect(await downloaded(result.file!.downloadUrl!)).toBe(sha256(bytes));
  });

  it("imports a sourceUrl", async () => {
    const result = await createFile(server, { name: "imported.bin", sourceUrl });
    expect(result.file).toMatchObject({
      status: "UPLOADED",
      size: sourceBytes.length,
      checksumSha256: sha256(sourceBytes),
    });
    expect(await downloaded(result.file!.downloadUrl!)).toBe(sha256(sourceBytes));
  });

  it("refuses an executable sent in the request and leaves no row and no object", async () => {
    const [rows, keys] = [await server.app.db.file.count(), await store.keys()];
    const result = await createFileWithUpload(server, { name: "tool.txt", mimeType: "text/plain" }, elf());
    expect(result.__typename).toBe("UnsupportedMediaTypeError");
    expect(await server.app.db.file.count()).toBe(rows);
    expect(await store.keys()).toEqual(keys);
  });

  it("keeps no row and no object when the bytes are over the declared size", async () => {
    const [rows, keys] = [await server.app.db.file.count(), await store.keys()];
    const result = await createFileWithUpload(server, { name: "declared.bin", size: 1000 }, randomContent(2000));
    expect(result.__typename).toBe("PayloadTooLargeError");
    expect(await server.app.db.file.count()).toBe(rows);
    expect(await store.keys()).toEqual(keys);
  });
});
