import type { Redis } from "ioredis";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";

export interface RateLimitOptions {
  /** Requests a minute for each authenticated principal, and for each address on signed URLs. */
  perMinute: number;
  /** Requests a minute for each client address without valid credentials. */
  anonymousPerMinute: number;
  /** Shared budgets across instances when set; per-instance budgets otherwise. */
  redis: Redis | undefined;
  /** Prefix of the Redis keys. */
  keyPrefix: string;
}

/**
 * Whose budget a request spends:
 * - `principal`: an API key or OIDC subject, by its principal key;
 * - `anonymous`: a client address sending no credentials, or credentials that failed;
 * - `signed`: a client address calling the signed upload/download URLs, which carry their own
 *   authorization (a signature) and move many objects, so they get the principal's budget.
 */
export type Budget = "principal" | "anonymous" | "signed";

/**
 * Fixed-window request budgets per minute (rate-limiter-flexible). With Redis every instance
 * spends from one budget; if Redis cannot answer, each instance falls back to a budget of its
 * own in memory (the insurance limiter) and keeps serving.
 */
export class RateLimits {
  private readonly limiters: Record<Budget, RateLimiterAbstract>;

  constructor(options: RateLimitOptions) {
    const limiter = (name: Budget, points: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ points, duration: 60, keyPrefix: name });
      if (options.redis === undefined) return memory;
      return new RateLimiterRedis({
        storeClient: options.redis,
        keyPrefix: `${options.keyPrefix}rate:${name}`,
        points,
        duration: 60,
        // Without a connection, answer from memory at once rather than queue behind reconnects.
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory,
      });
    };
    this.limiters = {
      principal: limiter("principal", options.perMinute),
      anonymous: limiter("anonymous", options.anonymousPerMinute),
      signed: limiter("signed", options.perMinute),
    };
  }

  /** Spends one request of `key`'s budget: undefined when allowed, else the whole seconds to wait. */
  async spend(budget: Budget, key: string): Promise<number | undefined> {
    try {
      await this.limiters[budget].consume(key);
      return undefined;
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      throw refusal;
    }
  }
}
