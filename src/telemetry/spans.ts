import { SpanStatusCode, trace } from "@opentelemetry/api";

// Spans of our own, through the OpenTelemetry API alone: without a registered SDK (tracing off)
// every call is a no-op. src/telemetry/tracing.ts registers the SDK when tracing is on.

const tracer = trace.getTracer("graphql-files");

/** Runs `work` in a span named `name` (a child of the active one), recording a failure on it. */
export async function inSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  work: () => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
