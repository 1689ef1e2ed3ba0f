import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { SharedPartCounts } from "../files/progress.js";
import type { FileEvent } from "./file-event.js";

/**
 * Stores part counts of one upload and publishes their sum when it is due, atomically.
 * KEYS[1]: the upload's hash (one field per part, and `total`, `max` and `at`: the sum, the
 * highest count published and when, in Redis' clock). ARGV: the interval and the hash's TTL in
 * milliseconds, the channel, the event's JSON before and after its count, then part, bytes pairs.
 * Answers the milliseconds until a held-back report is due (0: none is due), and -1 once it has
 * published the sum. Without parts (a held-back report), an upload forgotten meanwhile (completed,
 * aborted) stays forgotten.
 */
const script = `
local key = KEYS[1]
if #ARGV < 6 and redis.call('EXISTS', key) == 0 then return 0 end
local interval = tonumber(ARGV[1])
local total = tonumber(redis.call('HGET', key, 'total') or '0')
for i = 6, #ARGV, 2 do
  local old = tonumber(redis.call('HGET', key, ARGV[i]) or '0')
  total = total + tonumber(ARGV[i + 1]) - old
  redis.call('HSET', key, ARGV[i], ARGV[i + 1])
end
redis.call('HSET', key, 'total', total)
redis.call('PEXPIRE', key, ARGV[2])
local published = tonumber(redis.call('HGET', key, 'max') or '0')
if total <= published then return 0 end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local wait = tonumber(redis.call('HGET', key, 'at') or '0') + interval - now
if wait > 0 then return wait end
redis.call('HSET', key, 'max', total, 'at', now)
redis.call('PUBLISH', ARGV[3], ARGV[4] .. string.format('%.0f', total) .. ARGV[5])
return -1
`;

type ProgressRedis = Redis & {
  progressUpdate(key: string, ...args: (string | number)[]): Promise<number>;
};

/**
 * The per-part counts of MULTIPART uploads in Redis, shared by every instance behind one load
 * balancer: a hash per upload (`<prefix>upload-progress:<id>`, expiring `ttlMs` after its last
 * update). One Lua script stores an instance's part counts, sums them and, when the sum is above
 * every count published for the upload and the interval has passed since the last publish (in
 * Redis' clock, across instances), publishes the PROGRESS event itself.
 *
 * Publishing from the script is what keeps `receivedBytes` monotonic for subscribers: Redis runs
 * scripts one at a time and delivers a channel's messages to each subscriber connection in the
 * order they were published, so the counts arrive in the order the script raised them. Had the
 * instance published after the script answered, two instances' PUBLISH commands (over their own
 * connections) could reach Redis in the other order, and a subscriber would see the count go back.
 */
export class SharedProgressCounts implements SharedPartCounts {
  private readonly redis: ProgressRedis;

  constructor(
    private readonly options: {
      redis: Redis;
      keyPrefix: string;
      /** The pub/sub channel a workspace's events go on (src/events/bus.ts). */
      channel: (workspaceId: string) => string;
      ttlMs: number;
      logger: Logger;
    },
  ) {
    // defineCommand sends EVALSHA and loads the script on NOSCRIPT (after a Redis restart too).
    options.redis.defineCommand("progressUpdate", { numberOfKeys: 1, lua: script });
    this.redis = options.redis as ProgressRedis;
  }

  async update(
    uploadId: string,
    parts: [partNumber: number, bytes: number][],
    intervalMs: number,
    event: (receivedBytes: number) => FileEvent,
  ): Promise<number> {
    const { before, after, workspaceId } = eventAround(event(0));
    const answer = await this.redis.progressUpdate(
      this.key(uploadId),
      intervalMs,
      this.options.ttlMs,
      this.options.channel(workspaceId),
      before,
      after,
      ...parts.flat(),
    );
    return Math.max(0, answer);
  }

  forget(uploadId: string): void {
    this.redis.del(this.key(uploadId)).catch(() => undefined);
  }

  failed(error: unknown): void {
    this.options.logger.warn(
      { err: error },
      "MULTIPART part counts could not be summed in Redis: PROGRESS counts this instance's parts until it is back",
    );
  }

  private key(uploadId: string): string {
    return `${this.options.keyPrefix}upload-progress:${uploadId}`;
  }
}

/**
 * The JSON of a PROGRESS event as the bus carries it, cut where its count goes: `upload` is
 * written last and `receivedBytes` last in it, so the script puts the number between the two.
 */
function eventAround(event: FileEvent): { before: string; after: string; workspaceId: string } {
  const { upload, ...rest } = event;
  if (upload === undefined) throw new Error("a PROGRESS event carries its upload's facts");
  const { receivedBytes: _counted, ...facts } = upload;
  return {
    before: `${JSON.stringify(rest).slice(0, -1)},"upload":${JSON.stringify(facts).slice(0, -1)},"receivedBytes":`,
    after: "}}",
    workspaceId: event.workspaceId,
  };
}
