import { encodeGlobalID, resolveOffsetConnection } from "@pothos/plugin-relay";
import { WebhookDeliveryStatus, WebhookEventType } from "../db/client.js";
import { fileEventTypes } from "../events/file-event.js";
import { eventsOf } from "../events/outbox.js";
import type { WebhookDeliveryRow, WebhookRow } from "../events/webhooks.js";
import { NotFoundError, ValidationError } from "../files/errors.js";
import { builder } from "./builder.js";
import { internalId } from "./ids.js";

// Webhooks: a workspace's ADMINs register URLs told of its file events (Standard Webhooks).

const WebhookEventTypeEnum = builder.enumType(WebhookEventType, {
  name: "WebhookEventType",
  description: `The file events a webhook can be told of: every FileEventType but PROGRESS (${fileEventTypes.length - 1} of them).`,
});
const WebhookDeliveryStatusEnum = builder.enumType(WebhookDeliveryStatus, {
  name: "WebhookDeliveryStatus",
  description:
    "PENDING: not delivered yet (retried with backoff for 24 h); DELIVERED: the receiver answered 2xx; FAILED: retries gave up.",
});

const WebhookRef = builder.objectRef<WebhookRow>("Webhook").implement({
  fields: (t) => ({
    id: t.id({ resolve: (webhook) => encodeGlobalID("Webhook", webhook.id) }),
    workspaceId: t.id({ resolve: (webhook) => encodeGlobalID("Workspace", webhook.workspaceId) }),
    url: t.exposeString("url"),
    events: t.field({
      type: [WebhookEventTypeEnum],
      resolve: eventsOf,
    }),
    securityCategories: t.field({
      type: ["SafeInt"],
      description:
        "The security categories the webhook holds: it is told only of files whose every category it holds (as a caller holding them would read them); empty when none.",
      resolve: (webhook) => JSON.parse(webhook.securityCategories) as number[],
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const WebhookAttemptRef = builder.objectRef<WebhookDeliveryRow["attempts"][number]>("WebhookAttempt").implement({
  fields: (t) => ({
    attemptedAt: t.expose("attemptedAt", { type: "DateTime" }),
    statusCode: t.exposeInt("statusCode", {
      nullable: true,
      description: "The receiver's HTTP status; null when it did not answer.",
    }),
    latencyMs: t.exposeInt("latencyMs"),
    error: t.exposeString("error", { nullable: true }),
  }),
});

const WebhookDeliveryRef = builder.objectRef<WebhookDeliveryRow>("WebhookDelivery").implement({
  fields: (t) => ({
    id: t.id({ resolve: (delivery) => encodeGlobalID("WebhookDelivery", delivery.id) }),
    eventId: t.exposeString("eventId", { description: "The event's id: the webhook-id header of every attempt." }),
    eventType: t.expose("eventType", { type: WebhookEventTypeEnum }),
    fileId: t.id({ resolve: (delivery) => encodeGlobalID("File", delivery.fileId) }),
    payload: t.field({
      type: "JSON",
      description: "The JSON body POSTed.",
      resolve: (delivery) => JSON.parse(delivery.payload) as unknown,
    }),
    status: t.expose("status", { type: WebhookDeliveryStatusEnum }),
    attemptCount: t.exposeInt("attemptCount"),
    attempts: t.field({
      type: [WebhookAttemptRef],
      complexity: { field: 1, multiplier: 10 },
      resolve: (delivery) => delivery.attempts,
    }),
    nextAttemptAt: t.field({
      type: "DateTime",
      nullable: true,
      resolve: (delivery) => (delivery.status === "PENDING" ? delivery.nextAttemptAt : null),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    deliveredAt: t.expose("deliveredAt", { type: "DateTime", nullable: true }),
  }),
});

const CreateWebhookPayload = builder
  .objectRef<{ webhook: WebhookRow; secret: string }>("CreateWebhookPayload")
  .implement({
    fields: (t) => ({
      webhook: t.field({ type: WebhookRef, resolve: (payload) => payload.webhook }),
      secret: t.exposeString("secret", {
        description: "The signing secret (whsec_…), shown only here: keep it to verify webhook-signature.",
      }),
    }),
  });

const DeletedWebhook = builder.objectRef<{ id: string }>("DeletedWebhook").implement({
  fields: (t) => ({ id: t.exposeID("id") }),
});

const CreateWebhookInput = builder.inputType("CreateWebhookInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    url: t.string({
      required: true,
      description:
        "An http(s) URL; private and loopback addresses are refused unless WEBHOOK_ALLOWED_HOSTS names them.",
    }),
    events: t.field({ type: [WebhookEventTypeEnum], required: true }),
    secret: t.string({ description: "whsec_ and the base64 of 24 to 64 random bytes; generated when left out." }),
    securityCategories: t.field({
      type: ["SafeInt"],
      description:
        "At most 100 distinct categories, each held by the caller: the webhook is told only of files whose every category it holds. Left out: none, so only files without categories.",
    }),
  }),
});

/** The internal id of a global ID of `typename`; anything else names nothing (NotFoundError). */
function ownId(id: string | number, typename: string): string {
  const decoded = internalId(String(id), typename);
  if (decoded === String(id)) throw new NotFoundError(`${typename} ${id} was not found`);
  return decoded;
}

builder.queryFields((t) => ({
  webhooks: t.withAuth({ authenticated: true }).field({
    type: [WebhookRef],
    description: "The webhooks of a workspace (ADMIN).",
    args: { workspaceId: t.arg.id({ required: true }) },
    resolve: (_root, args, context) =>
      context.webhooks.list(context.caller, internalId(String(args.workspaceId), "Workspace")),
  }),
  webhookDeliveries: t.withAuth({ authenticated: true }).connection(
    {
      type: WebhookDeliveryRef,
      description: "A webhook's deliveries, newest first, with every attempt (ADMIN).",
      args: { webhookId: t.arg.id({ required: true }) },
      complexity: (args) => ({ field: 1, multiplier: args.first ?? args.last ?? 20 }),
      resolve: (_root, args, context) =>
        resolveOffsetConnection({ args, defaultSize: 20, maxSize: 100 }, (page) =>
          context.webhooks.deliveries(context.caller, ownId(args.webhookId, "Webhook"), page),
        ),
    },
    { name: "WebhookDeliveryConnection" },
    { name: "WebhookDeliveryEdge" },
  ),
}));

builder.mutationFields((t) => ({
  createWebhook: t.withAuth({ authenticated: true }).field({
    type: CreateWebhookPayload,
    description: "Registers a URL told of the workspace's file events, signed per Standard Webhooks (ADMIN).",
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], union: { name: "CreateWebhookResult" } },
    resolve: (_root, { input }, context) =>
      context.webhooks.create(context.caller, {
        workspace: internalId(String(input.workspaceId), "Workspace"),
        url: input.url,
        events: input.events,
        secret: input.secret,
        securityCategories: input.securityCategories,
      }),
  }),
  deleteWebhook: t.withAuth({ authenticated: true }).field({
    type: DeletedWebhook,
    description: "Removes a webhook and its deliveries (ADMIN).",
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError], union: { name: "DeleteWebhookResult" } },
    resolve: async (_root, args, context) => {
      await context.webhooks.delete(context.caller, ownId(args.id, "Webhook"));
      return { id: String(args.id) };
    },
  }),
  redeliverWebhook: t.withAuth({ authenticated: true }).field({
    type: WebhookDeliveryRef,
    description: "Sends a delivery again, whatever became of it, with a fresh 24 h of retries (ADMIN).",
    args: { deliveryId: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError], union: { name: "RedeliverWebhookResult" } },
    resolve: (_root, args, context) => {
      const id = Number(ownId(args.deliveryId, "WebhookDelivery"));
      if (!Number.isSafeInteger(id)) throw new NotFoundError(`webhook delivery ${args.deliveryId} was not found`);
      return context.webhooks.redeliver(context.caller, id);
    },
  }),
}));
