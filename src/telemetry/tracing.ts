import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { NodeSDK, type NodeSDKConfiguration, tracing } from "@opentelemetry/sdk-node";
import { PrismaInstrumentation } from "@prisma/instrumentation";

export interface TracingOptions {
  /** The service the spans are recorded under (OTEL_SERVICE_NAME). */
  serviceName?: string;
  /**
   * Where spans go, each as it ends (tests). Default: batched, OTLP over HTTP to
   * OTEL_EXPORTER_OTLP_ENDPOINT (the exporter reads the OTEL_EXPORTER_OTLP_* variables).
   */
  exporter?: tracing.SpanExporter;
}

/**
 * Starts OpenTelemetry for the process: Prisma's spans (every statement, on both databases),
 * outgoing HTTP (storage and sourceUrl calls made through node:http), pg where it is loaded
 * through `require`, and whatever the API's tracer records (our request, GraphQL, storage and
 * verification spans). Start it before the app's modules load, so the instrumentations can
 * patch them. Resolves to a function that flushes and stops it.
 */
export function startTracing(options: TracingOptions = {}): () => Promise<void> {
  const sdk = new NodeSDK({
    serviceName: options.serviceName ?? "graphql-files",
    ...(options.exporter === undefined
      ? { traceExporter: new OTLPTraceExporter() }
      : { spanProcessors: [new tracing.SimpleSpanProcessor(options.exporter)] }),
    instrumentations: [
      // The server span is the router's own (src/app.ts); this one traces outgoing requests.
      new HttpInstrumentation({ ignoreIncomingRequestHook: () => true }),
      new PgInstrumentation(),
      // Built on an older @opentelemetry/instrumentation than the SDK's; the interface it
      // implements is the same.
      new PrismaInstrumentation() as unknown as NodeSDKConfiguration["instrumentations"][number],
    ],
  });
  sdk.start();
  return () => sdk.shutdown();
}
