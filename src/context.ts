import type { AuthenticatedCaller, Caller } from "./access/caller.js";
import type { Db } from "./db/client.js";
import type { FileEventFeed, Subscriber } from "./events/feed.js";
import type { WebhookService } from "./events/webhooks.js";
import type { FolderService } from "./files/folders.js";
import type { FileLoaders } from "./files/loaders.js";
import type { FileService } from "./files/service.js";

/** What every resolver gets: who is calling, and the services to act with. */
export interface Context {
  db: Db;
  files: FileService;
  folders: FolderService;
  /** Batched reads of the request's caller (a page's pending uploads, versions). */
  loaders: FileLoaders;
  /** The request's caller from the gate (src/access/): an API key, an OIDC principal, or anonymous. */
  caller: Caller;
  /** The caller as a subscription sees it: checked again before deliveries. */
  subscriber: Subscriber;
  /** The subscriptions' file events. */
  events: FileEventFeed;
  webhooks: WebhookService;
  requestId: string;
}

/** The context of resolvers behind the `authenticated` scope: the caller has verified credentials. */
export type AuthenticatedContext = Context & { caller: AuthenticatedCaller };
