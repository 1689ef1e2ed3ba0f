// The baseline for bench/uploads.ts: the least a Node server can do with an upload, streaming
// the request body to a file. Prints its port on stdout once listening. An optional second
// argument sets the file stream's highWaterMark (bytes), for the second, buffered baseline;
// without it the stream has Node's default.
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pipeline } from "node:stream/promises";

const dir = process.argv[2] ?? ".";
const highWaterMark = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const server = createServer((req, res) => {
  pipeline(req, createWriteStream(path.join(dir, randomUUID()), { highWaterMark })).then(
    () => res.writeHead(200).end("ok"),
    (error: unknown) => res.writeHead(500).end(`failed: ${String(error)}`),
  );
});
// Exiting normally on SIGTERM lets --cpu-prof (BENCH_CPU_PROFILE) write this server's profile too.
process.on("SIGTERM", () => process.exit(0));
server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
