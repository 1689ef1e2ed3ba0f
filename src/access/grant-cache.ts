import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Grant } from "./caller.js";

// Every authenticated request needs its key's grants: one SQL statement, about a tenth of a small
// request's server time (bench/README.md, "flows"). Clients send bursts with one key, so the
// grants are kept for a moment (GRANT_CACHE_MS, 1 s by default: as long as a live subscription
// keeps access once checked). A change of grants clears every cache at once: in this process
// through `announceAccessChange`, which the admin functions call, and on every instance through
// Redis when REDIS_URL is set (`npm run admin` publishes there). Without Redis, a change made by
// another process reaches an instance when its entries expire: after GRANT_CACHE_MS at most.

/** What an API key authenticates as: its principal and grants. */
export interface KeyGrants {
  principalId: string;
  grants: Grant[];
}

/** The Redis channel access changes are announced on, after REDIS_KEY_PREFIX. */
const channelName = "access-changed";

/** The grant caches of this process, cleared by `announceAccessChange`. */
const caches = new Set<GrantCache>();

/** Tells every grant cache of this process that grants changed (a key revoked, a role or category changed). */
export function announceAccessChange(): void {
  for (const cache of caches) cache.clear();
}

/** Tells every instance subscribed to this Redis (with the same key prefix) that grants changed. */
export async function publishAccessChange(redis: Redis, keyPrefix: string): Promise<void> {
  await redis.publish(`${keyPrefix}${channelName}`, "");
}

export interface GrantCacheOptions {
  /** How long grants read once are used without reading them again; 0 turns the cache off. */
  ttlMs: number;
  /** Most keys kept; the oldest entry goes first. */
  maxEntries?: number;
}

/**
 * API keys' grants by key hash, for `ttlMs`. Only keys that authenticated are kept (an unknown
 * key is read again every time, so random tokens take no room). A read that started before a
 * change is not kept: its grants may be the old ones.
 */
export class GrantCache {
  private readonly entries = new Map<string, { grants: KeyGrants; until: number }>();
  /** Counts changes: a read keeps its result only if none happened meanwhile. */
  private generation = 0;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly options: GrantCacheOptions) {
    if (options.ttlMs > 0) caches.add(this);
  }

  /** The grants of the key with this hash, from the cache or from `read`. */
  async get(hash: string, read: () => Promise<KeyGrants | null>): Promise<KeyGrants | null> {
    const { ttlMs, maxEntries = 10_000 } = this.options;
    if (ttlMs === 0) return read();
    const now = Date.now();
    const kept = this.entries.get(hash);
    if (kept !== undefined && kept.until > now) return kept.grants;
    const generation = this.generation;
    const grants = await read();
    if (grants === null || generation !== this.generation) return grants;
    this.entries.delete(hash);
    if (this.entries.size >= maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(hash, { grants, until: now + ttlMs });
    return grants;
  }

  /** Forgets every key's grants. */
  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  /**
   * Clears the cache whenever an access change is published on Redis (`publishAccessChange`). A
   * subscription needs a connection of its own: `redis` is duplicated, with commands queued
   * until it connects and the subscription renewed on every reconnect.
   */
  subscribe(redis: Redis, keyPrefix: string, logger: Logger): void {
    if (this.options.ttlMs === 0) return;
    const subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    subscriber.on("error", (error: Error) => logger.debug({ err: error }, "access-change subscription"));
    // Changes announced while the connection was down were missed: forget everything.
    subscriber.on("ready", () => this.clear());
    subscriber.on("message", () => this.clear());
    subscriber.subscribe(`${keyPrefix}${channelName}`).catch((error: unknown) => {
      logger.warn({ err: error }, "cannot subscribe to access changes: cached grants expire after GRANT_CACHE_MS");
    });
    this.unsubscribe = async () => {
      subscriber.disconnect();
    };
  }

  /** Stops listening for changes. */
  async close(): Promise<void> {
    caches.delete(this);
    await this.unsubscribe?.();
  }
}
