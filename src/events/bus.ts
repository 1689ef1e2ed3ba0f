import { AsyncResource } from "node:async_hooks";
import { setMaxListeners } from "node:events";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { FileEvent, FileEventSink } from "./file-event.js";

export interface FileEventBusOptions {
  /**
   * Redis shared by every instance (REDIS_URL): events go through its pub/sub, so a subscriber
   * on one instance sees what another handled. Without it events stay in this process.
   */
  redis?: { client: Redis; keyPrefix: string; logger: Logger };
}

/**
 * The live stream of file events, one topic per workspace, on an event target: this process's,
 * or Redis pub/sub's (`@graphql-yoga/redis-event-target`). Delivery is best effort: a subscriber
 * that is not connected when an event passes never sees it (webhooks are the durable path).
 * Every listener of a workspace gets the same event object, once per event.
 */
export class FileEventBus implements FileEventSink {
  private readonly target: EventTarget;
  private readonly topic: string;
  private readonly connections: Redis[] = [];

  constructor(options: FileEventBusOptions = {}) {
    const { redis } = options;
    this.topic = `${redis?.keyPrefix ?? ""}file-events`;
    if (redis === undefined) {
      // Every subscriber of a workspace listens on its topic: hundreds are expected, not a leak.
      this.target = new EventTarget();
      setMaxListeners(0, this.target);
      return;
    }
    // A connection in subscriber mode can do nothing else; it queues its SUBSCRIBEs until connected
    // and renews them after a reconnection (ioredis' autoResubscribe).
    const connection = redis.client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    connection.on("error", () => undefined);
    this.connections.push(connection);
    let warned = false;
    // The event target waits for none of its commands: one that fails (Redis down, or the
    // connection closed at shutdown) must not become an unhandled rejection. These are the only
    // methods it calls on each client.
    const ignore = () => undefined;
    const subscriber = {
      on: (event: "message", listener: (channel: string, message: string) => void) => connection.on(event, listener),
      subscribe: (channel: string) => connection.subscribe(channel).catch(ignore),
      unsubscribe: (channel: string) => connection.unsubscribe(channel).catch(ignore),
    } as unknown as Redis;
    const publisher = {
      publish: (channel: string, message: string) =>
        redis.client.publish(channel, message).then(
          () => {
            warned = false;
          },
          (error: unknown) => {
            if (!warned)
              redis.logger.warn(
                { err: error },
                "a file event could not be published to Redis: live subscribers miss it",
              );
            warned = true;
          },
        ),
    } as unknown as Redis;
    this.target = createRedisEventTarget({ publishClient: publisher, subscribeClient: subscriber });
  }

  publish(event: FileEvent): void {
    this.target.dispatchEvent(new CustomEvent(this.topicOf(event.workspaceId), { detail: event }));
  }

  /** The topic of a workspace's events: with Redis, the pub/sub channel they are published on. */
  topicOf(workspaceId: string): string {
    return `${this.topic}:${workspaceId}`;
  }

  /**
   * Calls `listener` with each event of a workspace from now on, synchronously as the event
   * arrives, until the returned function is called. It runs in the async context `listen` was
   * called in (the subscriber's request: its log lines and masked errors carry its requestId),
   * not the publisher's (another caller's upload) nor the Redis connection's.
   */
  listen(workspaceId: string, listener: (event: FileEvent) => void): () => void {
    const topic = this.topicOf(workspaceId);
    const handler = AsyncResource.bind((event: Event): void => listener((event as CustomEvent<FileEvent>).detail));
    this.target.addEventListener(topic, handler);
    return () => this.target.removeEventListener(topic, handler);
  }

  close(): void {
    for (const connection of this.connections) connection.disconnect();
  }
}
