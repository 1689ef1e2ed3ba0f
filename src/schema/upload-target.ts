// What createFile and File.upload answer: where and how a client sends a file's bytes.
import { UploadMethod } from "../db/client.js";
import type { UploadTarget } from "../files/types.js";
import { MAX_PARTS } from "../storage/driver.js";
import { builder } from "./builder.js";

export const UploadMethodEnum = builder.enumType(UploadMethod, {
  name: "UploadMethod",
  description:
    "How the client sends a PENDING file's bytes. Which methods a deployment offers depends on its storage driver " +
    "(STORAGE_DRIVER): local and s3 offer all three, azure offers PUT and MULTIPART. createFile answers a method the " +
    "deployment does not offer with a ValidationError on uploadMethod naming those it does.",
  values: {
    PUT: { description: "One PUT of the whole file to `url` with every header in `headers` (every driver)." },
    POST: {
      description:
        'A multipart/form-data POST to `url`: `fields` in order, the file last as field "file" (local and s3; not azure).',
    },
    MULTIPART: {
      description:
        "The file in parts of `partSize`, each PUT to its own URL, then completeUpload with every part's ETag " +
        "(every driver; on azure the parts are blocks of a block blob and each part's ETag is given in `etag`).",
    },
  },
});

const KeyValueRef = builder.objectRef<{ name: string; value: string }>("KeyValue").implement({
  fields: (t) => ({ name: t.exposeString("name"), value: t.exposeString("value") }),
});

const UploadPartRef = builder.objectRef<UploadTarget["parts"][number]>("UploadPart").implement({
  fields: (t) => ({
    partNumber: t.exposeInt("partNumber"),
    url: t.exposeString("url"),
    headers: t.field({ type: [KeyValueRef], resolve: (part) => part.headers }),
    etag: t.exposeString("etag", {
      nullable: true,
      description:
        "The ETag to give completeUpload for this part when the store's answer to the PUT carries none: on azure, " +
        "the part's block id (Put Block answers without an ETag). Null where the PUT's ETag response header is the part's ETag (local, s3).",
    }),
  }),
});

const ReceivedPartRef = builder.objectRef<UploadTarget["receivedParts"][number]>("ReceivedPart").implement({
  description: "A part of a MULTIPART upload the store has received.",
  fields: (t) => ({
    partNumber: t.exposeInt("partNumber"),
    etag: t.exposeString("etag", { description: "Pass it back in completeUpload's parts." }),
    size: t.expose("size", { type: "SafeInt" }),
  }),
});

export const UploadTargetRef = builder.objectRef<UploadTarget>("UploadTarget").implement({
  description: "Where and how to send a file's bytes; call completeUpload afterwards.",
  fields: (t) => ({
    method: t.field({ type: UploadMethodEnum, resolve: (target) => target.method }),
    url: t.exposeString("url", { nullable: true, description: "PUT or POST target (null for MULTIPART)." }),
    headers: t.field({
      type: [KeyValueRef],
      description: "Headers the client must send with the PUT.",
      resolve: (target) => target.headers,
    }),
    fields: t.field({
      type: [KeyValueRef],
      description: 'Form fields for POST, in order; the file goes last as field "file".',
      resolve: (target) => target.fields,
    }),
    parts: t.field({
      type: [UploadPartRef],
      // Each part is a URL signed on the spot: counted at the most a target can have.
      complexity: { field: 1, multiplier: MAX_PARTS },
      description:
        "MULTIPART only: the parts still to send, each with a freshly signed URL. PUT each, and keep its ETag response header (or the part's `etag` where given).",
      resolve: (target) => target.parts,
    }),
    receivedParts: t.field({
      type: [ReceivedPartRef],
      complexity: { field: 1, multiplier: MAX_PARTS },
      description:
        "MULTIPART only: the parts already received (for resuming); complete with these and the ones you send.",
      resolve: (target) => target.receivedParts,
    }),
    partSize: t.expose("partSize", { type: "SafeInt", nullable: true }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    maxSize: t.expose("maxSize", { type: "SafeInt", nullable: true }),
  }),
});
