import { tracing } from "@opentelemetry/sdk-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTracing } from "../src/telemetry/tracing.js";
import { createFileMutation } from "./helpers/files.js";
import { postMultipart } from "./helpers/multipart.js";
import { startServer, type TestServer } from "./helpers/server.js";

// Tracing is process-wide: this file starts it once, with spans kept in memory, and turns the
// server's own spans on the way OTEL_EXPORTER_OTLP_ENDPOINT does (nothing listens there).
const exporter = new tracing.InMemorySpanExporter();
let stopTracing: () => Promise<void>;
let server: TestServer;
beforeAll(async () => {
  stopTracing = startTracing({ exporter });
  server = await startServer({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" });
});
afterAll(async () => {
  await server.close();
  await stopTracing();
});

it("follows an upload in one trace from the request through GraphQL and verification to storage and the database", async () => {
  const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const { status, body } = await postMultipart(
    server,
    // Labels are rows of their own: the file is then written in a transaction through Prisma,
    // whose spans join the trace (a file without them takes one raw INSERT, src/files/file-writes.ts).
    {
      query: createFileMutation,
      variables: { input: { workspaceId: "default", name: "traced.txt", labels: ["traced"], file: null } },
    },
    [{ paths: ["variables.input.file"], body: Buffer.from("followed from end to end") }],
    { "x-graphql-csrf": "1", traceparent },
  );
  expect(status).toBe(200);
  expect(JSON.stringify(body)).toContain('"status":"UPLOADED"');
  await expect.poll(() => exporter.getFinishedSpans().some((span) => span.name === "POST /graphql")).toBe(true);

  const spans = exporter
    .getFinishedSpans()
    .filter((span) => span.spanContext().traceId === "0af7651916cd43dd8448eb211c80319c");
  const names = spans.map((span) => span.name);
  const request = spans.find((span) => span.name === "POST /graphql");
  // The client's trace continues: the server span's parent is the client's span.
  expect(request?.parentSpanContext?.spanId).toBe("b7ad6b7169203331");
  expect(request?.attributes["http.response.status_code"]).toBe(200);
  expect(names).toEqual(expect.arrayContaining(["upload.ingest", "storage.putObject"]));
  // Envelop's GraphQL span is named by the operation's type and name.
  expect(names).toContain("mutation.anonymous");
  expect(names.some((name) => name.startsWith("prisma:"))).toBe(true);
  // The hot raw statements, run on the driver directly (src/db/raw.ts), have spans of their own.
  expect(names).toContain("db.query");
  // Every span of the upload hangs below the request's.
  const ids = new Set(spans.map((span) => span.spanContext().spanId));
  for (const span of spans) {
    if (span !== request) expect(ids.has(span.parentSpanContext?.spanId ?? "")).toBe(true);
  }
});

it("records no variables, results or query strings on the spans", async () => {
  const attributes = JSON.stringify(exporter.getFinishedSpans().map((span) => span.attributes));
  expect(attributes).not.toContain("traced.txt");
  expect(attributes).not.toContain("signature");
});
