import { encodeGlobalID } from "@pothos/plugin-relay";
import type { Db, Prisma } from "../db/client.js";
import type { FileEvent, FileEventType } from "./file-event.js";

/** The event types a webhook may ask for: every one but PROGRESS, which is live only. */
export const webhookEventTypes = [
  "CREATED",
  "UPLOADED",
  "FAILED",
  "UPDATED",
  "DELETED",
  "UPLOAD_ABORTED",
] as const satisfies readonly FileEventType[];
export type WebhookEventType = (typeof webhookEventTypes)[number];

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

/** The webhooks of a workspace and the event types each asked for. */
export type WorkspaceWebhooks = { id: string; events: string }[];

/**
 * Read before every recorded change, so as one raw statement: a Prisma `findMany` compiles on
 * every call (Prisma 6.19 keeps no plan cache), about five times the cost of the statement.
 */
export function webhooksOf(db: Pick<Db, "$queryRaw">, workspaceId: string): Promise<WorkspaceWebhooks> {
  return db.$queryRaw<WorkspaceWebhooks>`SELECT "id", "events" FROM "Webhook" WHERE "workspaceId" = ${workspaceId}`;
}

/**
 * Writes an event's deliveries, one per webhook of its workspace (`webhooks`, read before the
 * change began) that asked for its type, inside the transaction of the change that caused it:
 * the event is delivered exactly when the change is committed, whatever happens to this process
 * afterwards. Returns how many it wrote.
 */
export async function writeOutbox(
  tx: Prisma.TransactionClient,
  event: FileEvent,
  webhooks: WorkspaceWebhooks,
): Promise<number> {
  if (event.type === "PROGRESS") return 0;
  const subscribed = webhooks.filter((webhook) => webhook.events.split(",").includes(event.type));
  if (subscribed.length === 0) return 0;
  const now = new Date();
  const payload = webhookPayload(event);
  await tx.webhookDelivery.createMany({
    data: subscribed.map((webhook) => ({
      webhookId: webhook.id,
      eventId: event.id,
      eventType: event.type,
      fileId: event.file.id,
      payload,
      status: "PENDING",
      nextAttemptAt: now,
      retryUntil: new Date(now.getTime() + RETRY_WINDOW_MS),
      createdAt: now,
    })),
  });
  return subscribed.length;
}
