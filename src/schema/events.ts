import { encodeGlobalID } from "@pothos/plugin-relay";
import type { UploadState } from "../events/feed.js";
import { type FileEvent, fileEventTypes, fileOfSnapshot } from "../events/file-event.js";
import { builder } from "./builder.js";
import { FileRef, FileStatusEnum, fileId } from "./file.js";
import { internalId } from "./ids.js";

// Live file events: subscriptions over server-sent events and graphql-ws on /graphql.

const FileEventTypeEnum = builder.enumType("FileEventType", { values: fileEventTypes });

const FileEventRef = builder.objectRef<FileEvent>("FileEvent").implement({
  description: "Something that happened to a file. Delivered live, to subscribers connected when it happens.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Unique per event (the webhook-id of its webhook deliveries)." }),
    type: t.field({ type: FileEventTypeEnum, resolve: (event) => event.type }),
    occurredAt: t.field({ type: "DateTime", resolve: (event) => new Date(event.occurredAt) }),
    file: t.field({
      type: FileRef,
      description: "The file as the event left it (as it was, for DELETED and UPLOAD_ABORTED).",
      resolve: (event) => fileOfSnapshot(event.file),
    }),
    receivedBytes: t.field({
      type: "SafeInt",
      nullable: true,
      description: "PROGRESS: bytes the server has received so far; UPLOADED: the size.",
      resolve: (event) => event.upload?.receivedBytes ?? null,
    }),
    totalBytes: t.field({
      type: "SafeInt",
      nullable: true,
      description: "The declared or measured size, when known.",
      resolve: (event) => event.upload?.totalBytes ?? null,
    }),
    errorCode: t.string({
      nullable: true,
      description:
        "FAILED: the code of the error the upload got (UNSUPPORTED_MEDIA_TYPE, UPLOAD_INCOMPLETE…); UPLOAD_ABORTED: EXPIRED when the sweeper removed it.",
      resolve: (event) => event.upload?.errorCode ?? null,
    }),
  }),
});

const FileEventFilterInput = builder.inputType("FileEventFilter", {
  fields: (t) => ({
    types: t.field({ type: [FileEventTypeEnum], description: "Only events of these types." }),
    fileIds: t.idList({ description: "Only events of these files." }),
    directoryPrefix: t.string({ description: '"/a/b" matches files in "/a/b" and everything below it.' }),
  }),
});

const UploadProgressRef = builder.objectRef<UploadState>("UploadProgress").implement({
  description:
    "An upload's progress; the last one has status UPLOADED, or FAILED, or is the file's last state when it went.",
  fields: (t) => ({
    fileId: t.id({ resolve: (state) => encodeGlobalID("File", state.fileId) }),
    receivedBytes: t.field({
      type: "SafeInt",
      description: "Bytes the server has received so far.",
      resolve: (state) => state.receivedBytes,
    }),
    totalBytes: t.field({ type: "SafeInt", nullable: true, resolve: (state) => state.totalBytes }),
    status: t.field({ type: FileStatusEnum, resolve: (state) => state.status }),
  }),
});

builder.subscriptionType({});

builder.subscriptionFields((t) => ({
  fileEvents: t.field({
    type: FileEventRef,
    description:
      "Events of the files of a workspace the caller can read, from now on (a NOT_FOUND error for any other workspace). Access is checked again before deliveries: the stream ends with an error once the credentials are revoked or the workspace can no longer be read.",
    args: { workspaceId: t.arg.id({ required: true }), filter: t.arg({ type: FileEventFilterInput }) },
    subscribe: (_root, args, context) =>
      context.events.workspaceEvents(context.subscriber, internalId(String(args.workspaceId), "Workspace"), {
        types: args.filter?.types,
        fileIds: args.filter?.fileIds?.map((id) => fileId(id)),
        directoryPrefix: args.filter?.directoryPrefix,
      }),
    resolve: (event) => event,
  }),
  uploadProgress: t.field({
    type: UploadProgressRef,
    description:
      "The progress of a file's upload as the server receives its bytes (uploads through this API's own signed URLs, or in the request), until it ends. A file no longer PENDING is reported once.",
    args: { fileId: t.arg.id({ required: true }) },
    subscribe: (_root, args, context) => context.events.uploadProgress(context.subscriber, fileId(args.fileId)),
    resolve: (state) => state,
  }),
}));
