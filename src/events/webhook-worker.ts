import { randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { Logger } from "pino";
import { Webhook as Signer } from "standardwebhooks";
import { type Db, type Provider, WebhookDeliveryStatus } from "../db/client.js";
import { OutboundGuard } from "../net/outbound.js";

export interface WebhookWorkerOptions {
  db: Db;
  provider: Provider;
  logger: Logger;
  /** Hosts webhook URLs may reach although private (WEBHOOK_ALLOWED_HOSTS). */
  allowedHosts: readonly string[];
  /** Milliseconds between two looks at the outbox when nothing nudges the worker. */
  pollMs: number;
  /** The first retry's delay in milliseconds; each next one doubles, up to an hour, with jitter. */
  retryBaseMs: number;
  /** Milliseconds a receiver has to answer. */
  timeoutMs: number;
}

/** Deliveries one instance takes at once. */
const BATCH = 20;
/** The longest wait between two retries. */
const MAX_RETRY_DELAY_MS = 3600 * 1000;

interface Claimed {
  id: number;
  eventId: string;
  payload: string;
  attemptCount: number;
  retryUntil: Date;
  webhook: { url: string; secret: string };
}

class DeliveryRefused extends Error {
  override name = "DeliveryRefused";
}

/**
 * Delivers the outbox (WebhookDelivery rows) to the webhooks: POSTs each event's JSON with the
 * Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`: HMAC-SHA256
 * over `id.timestamp.body`), records every attempt, and retries failures with exponential
 * backoff and jitter until 24 h have passed. A file's events reach a webhook in order: a
 * delivery waits while an earlier one of the same file is pending. Every instance runs one;
 * a delivery is claimed for the time of one attempt (on PostgreSQL with `FOR UPDATE SKIP
 * LOCKED`, so instances never wait on each other), so each is sent by one instance at a time.
 * A claim that outlives its instance (killed mid-delivery) lapses and the delivery is retried:
 * receivers must tolerate a repeated `webhook-id`, as the Standard Webhooks spec asks.
 */
export class WebhookWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly guard: OutboundGuard;

  constructor(private readonly options: WebhookWorkerOptions) {
    this.guard = new OutboundGuard(options.allowedHosts, "the webhook URL", (message) => new DeliveryRefused(message));
  }

  start(): void {
    this.timer = setInterval(() => this.nudge(), this.options.pollMs);
    this.timer.unref();
    this.nudge();
  }

  /** Looks at the outbox now (after a change this instance committed). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => this.options.logger.error({ err: error }, "delivering webhooks failed"))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  /** Stops looking at the outbox and waits for the attempts in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const claimed = await this.claim();
      await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
      if (claimed.length < BATCH || this.stopped) return;
    }
  }

  /** Claims due deliveries, each the earliest pending one of its file for its webhook. */
  private async claim(): Promise<Claimed[]> {
    const { db } = this.options;
    const now = new Date();
    const claimable = {
      status: WebhookDeliveryStatus.PENDING,
      nextAttemptAt: { lte: now },
      OR: [{ claimedUntil: null }, { claimedUntil: { lt: now } }],
    };
    const due = await db.webhookDelivery.findMany({
      where: claimable,
      orderBy: { id: "asc" },
      take: BATCH * 4,
      select: { id: true, webhookId: true, fileId: true },
    });
    if (due.length === 0) return [];
    const pending = await db.webhookDelivery.findMany({
      where: { status: "PENDING", OR: due.map(({ webhookId, fileId }) => ({ webhookId, fileId })) },
      orderBy: { id: "asc" },
      select: { id: true, webhookId: true, fileId: true },
    });
    const first = new Map<string, number>();
    for (const row of pending)
      if (!first.has(`${row.webhookId}/${row.fileId}`)) first.set(`${row.webhookId}/${row.fileId}`, row.id);
    const heads = due
      .filter((row) => first.get(`${row.webhookId}/${row.fileId}`) === row.id)
      .slice(0, BATCH)
      .map((row) => row.id);
    if (heads.length === 0) return [];
    // Long enough for one attempt; a claim that outlives it (a killed instance) lapses.
    const claimedUntil = new Date(now.getTime() + this.options.timeoutMs * 2 + 5000);
    const ids = await db.$transaction(async (tx) => {
      const candidates =
        this.options.provider === "postgresql"
          ? (
              await tx.$queryRawUnsafe<{ id: number }[]>(
                `SELECT "id" FROM "WebhookDelivery" WHERE "id" = ANY($1::int[]) FOR UPDATE SKIP LOCKED`,
                heads,
              )
            ).map((row) => row.id)
          : heads;
      const mine: number[] = [];
      for (const id of candidates) {
        const taken = await tx.webhookDelivery.updateMany({ where: { id, ...claimable }, data: { claimedUntil } });
        if (taken.count === 1) mine.push(id);
      }
      return mine;
    });
    return db.webhookDelivery.findMany({
      where: { id: { in: ids } },
      select: {
        id: true,
        eventId: true,
        payload: true,
        attemptCount: true,
        retryUntil: true,
        webhook: { select: { url: true, secret: true } },
      },
    });
  }

  /** One attempt: POSTs the event, records the outcome, and schedules a retry when it failed. */
  private async attempt(delivery: Claimed): Promise<void> {
    const { db } = this.options;
    const attemptedAt = new Date();
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      statusCode = await this.post(delivery);
      if (statusCode < 200 || statusCode > 299) error = `the receiver answered HTTP ${statusCode}`;
    } catch (failure) {
      error = (failure as Error).message;
    }
    const latencyMs = Math.round(performance.now() - started);
    const attemptCount = delivery.attemptCount + 1;
    const retryAt = new Date(Date.now() + retryDelay(attemptCount, this.options.retryBaseMs));
    const outcome =
      error === null
        ? { status: WebhookDeliveryStatus.DELIVERED, deliveredAt: new Date() }
        : retryAt > delivery.retryUntil
          ? { status: WebhookDeliveryStatus.FAILED }
          : { status: WebhookDeliveryStatus.PENDING, nextAttemptAt: retryAt };
    await db.$transaction([
      db.webhookAttempt.create({
        data: { id: randomUUID(), deliveryId: delivery.id, attemptedAt, statusCode, latencyMs, error },
      }),
      db.webhookDelivery.update({ where: { id: delivery.id }, data: { ...outcome, attemptCount, claimedUntil: null } }),
    ]);
    if (error !== null)
      this.options.logger.info(
        { delivery: delivery.id, attempt: attemptCount, error, outcome: outcome.status },
        "webhook delivery failed",
      );
  }

  /** POSTs a delivery, signed; resolves with the receiver's status. Redirects are not followed. */
  private post(delivery: Claimed): Promise<number> {
    const url = this.guard.checkUrl(delivery.webhook.url);
    const timestamp = new Date();
    const signature = new Signer(delivery.webhook.secret).sign(delivery.eventId, timestamp, delivery.payload);
    const body = Buffer.from(delivery.payload);
    return new Promise((resolve, reject) => {
      const client = url.protocol === "https:" ? https : http;
      const request = client.request(url, {
        method: "POST",
        lookup: this.guard.lookup,
        agent: false,
        timeout: this.options.timeoutMs,
        headers: {
          "content-type": "application/json",
          "content-length": String(body.length),
          "user-agent": "graphql-files (webhook)",
          "webhook-id": delivery.eventId,
          "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
          "webhook-signature": signature,
        },
      });
      request.once("timeout", () =>
        request.destroy(new Error(`the receiver did not answer within ${this.options.timeoutMs} ms`)),
      );
      request.once("error", reject);
      request.once("response", (response) => {
        response.resume();
        response.once("end", () => resolve(response.statusCode ?? 0));
        response.once("error", reject);
      });
      request.end(body);
    });
  }
}

/** Exponential backoff with jitter: half the doubled delay, plus a random part of the other half. */
function retryDelay(attempt: number, baseMs: number): number {
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.min(attempt - 1, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
