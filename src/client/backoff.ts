import { abortError } from "./request.js";

/** HTTP statuses worth another try: timeouts, rate limits, and the server's or a proxy's failures. */
export const RETRIED_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** The wait before retry number `attempt + 1`: exponential backoff with ±25 % jitter, capped at 30 s; a Retry-After in seconds wins. */
export function retryDelay(attempt: number, baseMs: number, retryAfter: string | null): number {
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 60_000);
  return Math.min(baseMs * 2 ** attempt, 30_000) * (0.75 + Math.random() / 2);
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
