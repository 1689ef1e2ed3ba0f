import { Redis } from "ioredis";
import type { Logger } from "pino";

/** How long start-up waits for Redis before serving without it. */
const connectWaitMs = 3000;

/**
 * A Redis connection for what several instances share (rate limits). Commands fail at once
 * while it is down instead of queueing, so callers fall back to per-instance behaviour; the
 * client reconnects by itself. Losing and regaining the connection is logged once each. Resolves
 * once connected, or after a few seconds without (the server starts anyway and logs why).
 */
export async function connectRedis(url: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  let down = false;
  redis.on("error", (error: Error) => {
    if (down) return;
    down = true;
    logger.warn(
      { err: error },
      "Redis is unreachable: rate limits fall back to this instance's own budgets until it is back",
    );
  });
  redis.on("ready", () => {
    if (down) logger.info("Redis is reachable again: rate limits are shared again");
    down = false;
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, connectWaitMs);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return redis;
}
