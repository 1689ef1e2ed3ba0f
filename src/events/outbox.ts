import { encodeGlobalID } from "@pothos/plugin-relay";
import { webhookMayRead } from "../access/readable.js";
import { type Db, Prisma, WebhookDeliveryStatus, WebhookEventType } from "../db/client.js";
import { prismaErrorCode } from "../db/errors.js";
import { rawRows } from "../db/raw.js";
import type { FileEvent, FileEventSink, FileEventType } from "./file-event.js";

/** The event types a webhook may ask for: every one but PROGRESS, which is live only. */
export const webhookEventTypes = Object.values(WebhookEventType) satisfies readonly FileEventType[];

/** The event types of a webhook's `events` column (a comma list: SQLite has no enum lists). */
export function eventsOf(webhook: { events: string }): WebhookEventType[] {
  return webhookEventTypes.filter((type) => webhook.events.split(",").includes(type));
}

/** How long a delivery is retried, from its event (or from a redelivery). */
export const RETRY_WINDOW_MS = 24 * 3600 * 1000;

/**
 * The body POSTed to a webhook: `{ id, type, occurredAt, workspaceId, file }`, with the IDs
 * clients know (GraphQL global IDs) and the file's public fields.
 */
function webhookPayload(event: FileEvent): string {
  const { file } = event;
  return JSON.stringify({
    id: event.id,
    type: event.type,
    occurredAt: event.occurredAt,
    workspaceId: encodeGlobalID("Workspace", event.workspaceId),
    file: {
      id: encodeGlobalID("File", file.id),
      name: file.name,
      mimeType: file.mimeType,
      size: file.size,
      checksumSha256: file.checksumSha256,
      status: file.status,
      externalId: file.externalId,
      directory: file.directory,
      labels: file.labels,
      metadata: JSON.parse(file.metadata) as unknown,
      createdAt: file.createdAt,
      updatedAt: file.updatedAt,
      uploadedAt: file.uploadedAt,
    },
    ...(event.upload?.errorCode === undefined ? {} : { errorCode: event.upload.errorCode }),
  });
}

/** The webhooks of a workspace, the event types each asked for and the security categories each holds. */
export type WorkspaceWebhooks = { id: string; events: string; securityCategories: string }[];

/**
 * Read before every change that records events, so as one raw statement: a Prisma `findMany`
 * compiles on every call (Prisma 6.19 keeps no plan cache), about five times the statement's cost.
 */
function webhooksOf(db: Db, workspaceId: string): Promise<WorkspaceWebhooks> {
  return rawRows<WorkspaceWebhooks[number]>(
    db,
    Prisma.sql`SELECT "id", "events", "securityCategories" FROM "Webhook" WHERE "workspaceId" = ${workspaceId}`,
  );
}

/**
 * Records an event of the change being made: its webhook deliveries are written in the change's
 * transaction, and it is published once the transaction has committed (`live: false`: it is
 * not, having been published as it happened).
 */
export type RecordEvent = (event: FileEvent, options?: { live?: boolean }) => Promise<void>;

export interface OutboxTransactionsOptions {
  db: Db;
  /** Where committed events are published (src/events/bus.ts). */
  events: FileEventSink;
  /** Called once a change that wrote webhook deliveries has committed (the worker delivers them at once). */
  outboxWritten?: () => void;
}

/** Attempts of a transaction that keeps being rolled back as busy before `busy()` is thrown. */
const ATTEMPTS = 3;

/**
 * Transactions whose events must not be lost: what a change records is written to the webhook
 * outbox in its transaction and published once it has committed, and an attempt rolled back
 * takes its events with it, so a retried change publishes each event once.
 */
export class OutboxTransactions {
  constructor(private readonly options: OutboxTransactionsOptions) {}

  /**
   * Runs `change` in one transaction, with the events it records, about files of workspace
   * `workspaceId` (whose webhooks are read before it begins, so a transaction with no
   * deliveries to write holds its locks no longer for them). With `busy`, the change of a file
   * that many others queue on is retried when it could not start or finish in time (P2028: each
   * waiting change holds a pooled connection) or lost a write conflict (P2034): a rolled-back
   * attempt changed nothing; when it keeps failing, `busy()` is the caller's typed answer.
   *
   * With `oneStatement`, the change says it writes with one statement, atomic by itself: when the
   * workspace has no webhook, so that no delivery row can have to be written with it, it runs
   * on `db` without an interactive transaction (whose BEGIN, COMMIT and bookkeeping cost more
   * than a one-row write in the flows bench). Nothing is lost by it: either way the webhooks
   * are the ones read before the change began (a webhook created while it runs is not told of
   * it, with or without a transaction), and its events are published once it is done.
   */
  async run<T>(
    workspaceId: string,
    change: (tx: Prisma.TransactionClient, record: RecordEvent) => Promise<T>,
    busy?: () => Error,
    { oneStatement = false }: { oneStatement?: boolean } = {},
  ): Promise<T> {
    const { db } = this.options;
    const webhooks = await webhooksOf(db, workspaceId);
    const attemptOn = async (tx: Prisma.TransactionClient) => {
      // This attempt's events: a rollback drops them with the attempt.
      const live: FileEvent[] = [];
      let deliveries = 0;
      const result = await change(tx, async (event, options) => {
        deliveries += await writeOutbox(tx, event, webhooks);
        if (options?.live !== false) live.push(event);
      });
      return { result, live, deliveries };
    };
    const attempt = () => (oneStatement && webhooks.length === 0 ? attemptOn(db) : db.$transaction(attemptOn));
    const committed = busy === undefined ? await attempt() : await retried(attempt, busy);
    for (const event of committed.live) this.options.events.publish(event);
    if (committed.deliveries > 0) this.options.outboxWritten?.();
    return committed.result;
  }
}

/** Runs `attempt` again while it fails as busy (P2028, P2034), up to ATTEMPTS times, then throws `busy()`. */
async function retried<T>(attempt: () => Promise<T>, busy: () => Error): Promise<T> {
  for (let count = 1; ; count += 1) {
    try {
      return await attempt();
    } catch (error) {
      const code = prismaErrorCode(error);
      if (code !== "P2028" && code !== "P2034") throw error;
      if (count === ATTEMPTS) throw busy();
      await new Promise((resolve) => setTimeout(resolve, 50 * count * Math.random()));
    }
  }
}

/**
 * Writes an event's deliveries, one per webhook of its workspace (`webhooks`, read before the
 * change began) that asked for its type and may read its file (holds every security category of
 * the file, as the event left it: src/access/readable.ts), inside the transaction of the change
 * that caused it: the event is delivered exactly when the change is committed, whatever happens
 * to this process afterwards. Returns how many it wrote.
 */
async function writeOutbox(
  tx: Prisma.TransactionClient,
  event: FileEvent,
  webhooks: WorkspaceWebhooks,
): Promise<number> {
  if (event.type === "PROGRESS") return 0;
  const eventType = event.type;
  const subscribed = webhooks.filter(
    (webhook) => eventsOf(webhook).includes(eventType) && webhookMayRead(webhook, event.file),
  );
  if (subscribed.length === 0) return 0;
  const now = new Date();
  const payload = webhookPayload(event);
  await tx.webhookDelivery.createMany({
    data: subscribed.map((webhook) => ({
      webhookId: webhook.id,
      eventId: event.id,
      eventType,
      fileId: event.file.id,
      payload,
      status: WebhookDeliveryStatus.PENDING,
      nextAttemptAt: now,
      retryUntil: new Date(now.getTime() + RETRY_WINDOW_MS),
      createdAt: now,
    })),
  });
  return subscribed.length;
}
