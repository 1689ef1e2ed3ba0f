import { randomBytes, randomUUID } from "node:crypto";
import type { Caller } from "../access/caller.js";
import { authorize } from "../access/policy.js";
import { findReadableWorkspace, workspaceOfReadable } from "../access/readable.js";
import type { Db, WebhookDeliveryStatus, WebhookEventType } from "../db/client.js";
import { NotFoundError, ValidationError } from "../files/errors.js";
import { securityCategoryErrors, unheldCategoryErrors } from "../files/validation.js";
import { OutboundGuard } from "../net/outbound.js";
import { RETRY_WINDOW_MS, webhookEventTypes } from "./outbox.js";

export interface WebhookRow {
  id: string;
  workspaceId: string;
  url: string;
  events: string;
  /** JSON text of the security categories it holds: it is told only of files whose every category it holds. */
  securityCategories: string;
  createdAt: Date;
}

export interface WebhookDeliveryRow {
  id: number;
  webhookId: string;
  eventId: string;
  eventType: WebhookEventType;
  fileId: string;
  payload: string;
  status: WebhookDeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date;
  createdAt: Date;
  deliveredAt: Date | null;
  attempts: { attemptedAt: Date; statusCode: number | null; latencyMs: number; error: string | null }[];
}

export interface CreateWebhookRequest {
  /** Internal workspace id or slug. */
  workspace: string;
  url: string;
  events: readonly WebhookEventType[];
  /** `whsec_` and the base64 of 24 to 64 random bytes; generated when absent. */
  secret?: string | null;
  /**
   * The security categories the webhook holds, each one the caller holds in the workspace (at
   * most 100); none when absent: it is told only of files without categories.
   */
  securityCategories?: readonly number[] | null;
}

export interface WebhookServiceOptions {
  db: Db;
  /** Hosts webhook URLs may reach although private (WEBHOOK_ALLOWED_HOSTS). */
  allowedHosts: readonly string[];
  /** Called when a delivery is due again (redelivery). */
  deliveryDue: () => void;
}

const MAX_URL_LENGTH = 2048;
const webhookColumns = {
  id: true,
  workspaceId: true,
  url: true,
  events: true,
  securityCategories: true,
  createdAt: true,
} as const;
const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

/** The webhooks of workspaces and their deliveries; every operation needs the ADMIN role. */
export class WebhookService {
  private readonly guard: OutboundGuard;

  constructor(private readonly options: WebhookServiceOptions) {
    this.guard = new OutboundGuard(options.allowedHosts, "url", (message) =>
      ValidationError.field(["input", "url"], message),
    );
  }

  private get db(): Db {
    return this.options.db;
  }

  /** Registers a webhook; returns it with its signing secret (given, or generated). */
  async create(caller: Caller, request: CreateWebhookRequest): Promise<{ webhook: WebhookRow; secret: string }> {
    const workspace = await findReadableWorkspace(this.db, caller, request.workspace);
    const notFound = () => new NotFoundError(`workspace ${request.workspace} was not found`);
    if (workspace === null) throw notFound();
    authorize(caller, "webhook:manage", workspace, notFound);
    if (request.url.length > MAX_URL_LENGTH)
      throw ValidationError.field(["input", "url"], `url must be at most ${MAX_URL_LENGTH} characters`);
    const url = this.guard.checkUrl(request.url);
    await this.checkResolves(url);
    const events = [...new Set(request.events)];
    if (events.length === 0)
      throw ValidationError.field(["input", "events"], `name at least one of ${webhookEventTypes.join(", ")}`);
    const categories = request.securityCategories ?? [];
    const path = ["input", "securityCategories"];
    const categoryErrors = securityCategoryErrors(categories, path);
    if (categoryErrors.length > 0) throw new ValidationError(categoryErrors);
    const unheld = unheldCategoryErrors(categories, caller.categoriesIn(workspace.id), path);
    if (unheld.length > 0) throw new ValidationError(unheld);
    const secret = request.secret ?? `whsec_${randomBytes(32).toString("base64")}`;
    const key = SECRET.exec(secret)?.[1];
    const keyBytes = key === undefined ? 0 : Buffer.from(key, "base64").length;
    if (keyBytes < 24 || keyBytes > 64) {
      throw ValidationError.field(
        ["input", "secret"],
        "secret must be whsec_ followed by the base64 of 24 to 64 random bytes",
      );
    }
    const webhook = await this.db.webhook.create({
      data: {
        id: randomUUID(),
        workspaceId: workspace.id,
        url: url.href,
        events: events.join(","),
        secret,
        securityCategories: JSON.stringify(categories),
      },
      select: webhookColumns,
    });
    return { webhook, secret };
  }

  /** The webhooks of a workspace. */
  async list(caller: Caller, workspaceRef: string): Promise<WebhookRow[]> {
    const workspace = await findReadableWorkspace(this.db, caller, workspaceRef);
    const notFound = () => new NotFoundError(`workspace ${workspaceRef} was not found`);
    if (workspace === null) throw notFound();
    authorize(caller, "webhook:manage", workspace, notFound);
    return this.db.webhook.findMany({
      where: { workspaceId: workspace.id },
      orderBy: { createdAt: "asc" },
      select: webhookColumns,
    });
  }

  /** Removes a webhook and its deliveries. */
  async delete(caller: Caller, id: string): Promise<void> {
    const webhook = await this.webhookFor(caller, id);
    await this.db.webhook.deleteMany({ where: { id: webhook.id } });
  }

  /** A page of a webhook's deliveries, newest first, with their attempts. */
  async deliveries(
    caller: Caller,
    webhookId: string,
    page: { offset: number; limit: number },
  ): Promise<WebhookDeliveryRow[]> {
    const webhook = await this.webhookFor(caller, webhookId);
    return this.db.webhookDelivery.findMany({
      where: { webhookId: webhook.id },
      orderBy: { id: "desc" },
      skip: page.offset,
      take: page.limit,
      include: {
        attempts: {
          orderBy: { attemptedAt: "asc" },
          select: { attemptedAt: true, statusCode: true, latencyMs: true, error: true },
        },
      },
    });
  }

  /** Sends a delivery again, whatever became of it, with a fresh 24 h of retries. */
  async redeliver(caller: Caller, deliveryId: number): Promise<WebhookDeliveryRow> {
    const found = await this.db.webhookDelivery.findUnique({ where: { id: deliveryId }, select: { webhookId: true } });
    if (found === null) throw new NotFoundError(`webhook delivery ${deliveryId} was not found`);
    await this.webhookFor(caller, found.webhookId, `webhook delivery ${deliveryId} was not found`);
    const now = new Date();
    const delivery = await this.db.webhookDelivery.update({
      where: { id: deliveryId },
      data: {
        status: "PENDING",
        nextAttemptAt: now,
        retryUntil: new Date(now.getTime() + RETRY_WINDOW_MS),
        claimedUntil: null,
        deliveredAt: null,
      },
      include: {
        attempts: {
          orderBy: { attemptedAt: "asc" },
          select: { attemptedAt: true, statusCode: true, latencyMs: true, error: true },
        },
      },
    });
    this.options.deliveryDue();
    return delivery;
  }

  /** The webhook with this id, if the caller is an ADMIN of its workspace (NotFoundError when it cannot read it). */
  private async webhookFor(caller: Caller, id: string, missing = `webhook ${id} was not found`): Promise<WebhookRow> {
    const webhook = await this.db.webhook.findUnique({
      where: { id },
      select: webhookColumns,
    });
    const notFound = () => new NotFoundError(missing);
    if (webhook === null) throw notFound();
    const readable = await findReadableWorkspace(this.db, caller, webhook.workspaceId);
    if (readable === null) throw notFound();
    authorize(caller, "webhook:manage", workspaceOfReadable(caller, webhook), notFound);
    return webhook;
  }

  /** Refuses at once a host that resolves to a refused address (deliveries check again at each connection). */
  private checkResolves(url: URL): Promise<void> {
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    return new Promise((resolve, reject) => {
      this.guard.lookup(host, { all: true }, (error) => {
        if (error instanceof ValidationError) reject(error);
        else if (error) reject(ValidationError.field(["input", "url"], `url host ${host} could not be resolved`));
        else resolve();
      });
    });
  }
}
