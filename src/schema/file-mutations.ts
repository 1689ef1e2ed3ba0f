import {
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  UploadIncompleteError,
  ValidationError,
} from "../files/errors.js";
import type { FileRecord, UploadTarget } from "../files/types.js";
import { builder } from "./builder.js";
import { FileRef, FileScopeEnum, fileId } from "./file.js";
import { internalId } from "./ids.js";
import { UploadMethodEnum, UploadTargetRef } from "./upload-target.js";

const CreateFilePayload = builder.objectRef<{ file: FileRecord; upload: UploadTarget | null }>("CreateFilePayload");
CreateFilePayload.implement({
  isTypeOf: (value) => typeof value === "object" && value !== null && "upload" in value,
  fields: (t) => ({
    file: t.field({ type: FileRef, resolve: (payload) => payload.file }),
    upload: t.field({
      type: UploadTargetRef,
      nullable: true,
      description: "null when the bytes came in the request.",
      resolve: (payload) => payload.upload,
    }),
  }),
});

const FilePayload = builder.objectRef<{ file: FileRecord; kind: "FilePayload" }>("FilePayload");
FilePayload.implement({
  isTypeOf: (value) =>
    typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "FilePayload",
  fields: (t) => ({ file: t.field({ type: FileRef, resolve: (payload) => payload.file }) }),
});

function filePayload(file: FileRecord): { file: FileRecord; kind: "FilePayload" } {
  return { file, kind: "FilePayload" };
}

const CreateFileInput = builder.inputType("CreateFileInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true, description: 'The workspace\'s ID, or its slug (e.g. "default").' }),
    name: t.string({ required: true }),
    mimeType: t.string(),
    size: t.field({ type: "SafeInt", description: "Bytes; when given, the upload must have exactly this size." }),
    checksumSha256: t.string({ description: "Hex SHA-256; when given, the upload must match it." }),
    externalId: t.string({ description: "Your own id, unique in the workspace." }),
    overwrite: t.boolean({
      defaultValue: false,
      description:
        "With externalId: change that file in place (same id), keeping its content until the new content is verified. Fields left out are kept; a field given as null is cleared (metadata, labels, assetIds and securityCategories to empty).",
    }),
    directory: t.string(),
    description: t.string(),
    source: t.string(),
    metadata: t.field({
      type: "JSON",
      description: "An object; its values may be any JSON (strings, numbers, booleans, null, arrays, objects).",
    }),
    labels: t.stringList(),
    assetIds: t.field({ type: ["SafeInt"], description: "1 to 1000 distinct asset ids the file is linked to." }),
    dataSetId: t.field({ type: "SafeInt" }),
    securityCategories: t.field({
      type: ["SafeInt"],
      description:
        "At most 100 distinct categories, each held by the caller; only callers holding all of them can read or change the file.",
    }),
    geoLocation: t.field({
      type: "JSON",
      description:
        "A GeoJSON Feature (RFC 7946) whose geometry is a Point, MultiPoint, LineString, MultiLineString, Polygon or MultiPolygon; positions [longitude, latitude(, altitude)]; at most 10000 positions.",
    }),
    scope: t.field({ type: FileScopeEnum, defaultValue: "WORKSPACE" }),
    entityId: t.string({ description: "Required with scope ENTITY, refused with any other scope." }),
    sessionId: t.string({ description: "A UUID; required with scope SESSION, refused with any other scope." }),
    sourceCreatedTime: t.field({ type: "DateTime", description: "Not before 1970-01-01T00:00:00Z." }),
    sourceModifiedTime: t.field({ type: "DateTime", description: "Not before 1970-01-01T00:00:00Z." }),
    file: t.field({
      type: "Upload",
      description:
        "The bytes, in this request (GraphQL multipart request spec). At most one of file, content, sourceUrl.",
    }),
    content: t.string({ description: "The bytes as standard, padded base64; at most MAX_INLINE_BYTES decoded." }),
    sourceUrl: t.string({ description: "An http(s) URL the server downloads the bytes from." }),
    folderId: t.id({
      description: "The folder the file goes in: its path becomes the file's directory (give this or directory).",
    }),
    uploadMethod: t.field({ type: UploadMethodEnum, defaultValue: "PUT" }),
  }),
});

const CompletedPart = builder.inputType("CompletedPart", {
  fields: (t) => ({ partNumber: t.int({ required: true }), etag: t.string({ required: true }) }),
});
const CompleteUploadInput = builder.inputType("CompleteUploadInput", {
  fields: (t) => ({ id: t.id({ required: true }), parts: t.field({ type: [CompletedPart] }) }),
});

const DeletedFile = builder.objectRef<{ id: string; kind: "DeletedFile" }>("DeletedFile");
DeletedFile.implement({
  isTypeOf: (value) =>
    typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "DeletedFile",
  fields: (t) => ({ id: t.exposeID("id") }),
});

function deletedFile(id: string | number): { id: string; kind: "DeletedFile" } {
  return { id: String(id), kind: "DeletedFile" };
}

/**
 * abortUpload and deleteFile share one result union. The errors plugin builds a union once per
 * result name, so naming the (direct) result the same on both fields yields the same union.
 */
const deleteFileErrors = {
  types: [NotFoundError],
  union: { name: "DeleteFileResult" },
  result: { name: "DeletedFile" },
};

const UpdateFileInput = builder.inputType("UpdateFileInput", {
  description:
    "Fields left out are unchanged; labels and metadata are replaced whole; description, directory, labels and metadata given as null are cleared (the name cannot be).",
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    metadata: t.field({ type: "JSON" }),
    labels: t.stringList(),
    directory: t.string(),
    description: t.string(),
  }),
});

// `withAuth` both refuses anonymous callers (UNAUTHENTICATED) and types the caller as authenticated.
builder.mutationFields((t) => ({
  createFile: t.withAuth({ authenticated: true }).field({
    type: CreateFilePayload,
    args: { input: t.arg({ type: CreateFileInput, required: true }) },
    errors: {
      types: [ValidationError, NotFoundError, ConflictError, PayloadTooLargeError, UnsupportedMediaTypeError],
      union: { name: "CreateFileResult" },
    },
    resolve: (_root, { input }, context) => {
      const file = input.file?.then((upload) => ({ stream: upload.createReadStream(), mimeType: upload.mimetype }));
      // A part named in `map` but never sent rejects when the body ends, possibly before the
      // service reads the file (it writes the row first); the service reports that rejection.
      file?.catch(() => undefined);
      return context.files.createFile(context.caller, {
        ...input,
        workspace: internalId(String(input.workspaceId), "Workspace"),
        folderId: input.folderId == null ? input.folderId : internalId(String(input.folderId), "Folder"),
        file,
      });
    },
  }),
  completeUpload: t.withAuth({ authenticated: true }).field({
    type: FilePayload,
    args: { input: t.arg({ type: CompleteUploadInput, required: true }) },
    errors: {
      types: [NotFoundError, UploadIncompleteError, UnsupportedMediaTypeError, PayloadTooLargeError],
      union: { name: "CompleteUploadResult" },
    },
    resolve: async (_root, { input }, context) =>
      filePayload(await context.files.completeUpload(context.caller, fileId(input.id), input.parts)),
  }),
  updateFile: t.withAuth({ authenticated: true }).field({
    type: FilePayload,
    args: { input: t.arg({ type: UpdateFileInput, required: true }) },
    errors: {
      types: [ValidationError, NotFoundError, ConflictError],
      union: { name: "UpdateFileResult" },
    },
    resolve: async (_root, { input }, context) =>
      filePayload(await context.files.updateFile(context.caller, { ...input, id: fileId(input.id) })),
  }),
  abortUpload: t.withAuth({ authenticated: true }).field({
    type: DeletedFile,
    description: "Removes a pending file and any bytes that arrived for it.",
    args: { id: t.arg.id({ required: true }) },
    errors: deleteFileErrors,
    resolve: async (_root, args, context) => {
      await context.files.abortUpload(context.caller, fileId(args.id));
      return deletedFile(args.id);
    },
  }),
  deleteFile: t.withAuth({ authenticated: true }).field({
    type: DeletedFile,
    description: "Removes the file's record and its bytes.",
    args: { id: t.arg.id({ required: true }) },
    errors: deleteFileErrors,
    resolve: async (_root, args, context) => {
      await context.files.deleteFile(context.caller, fileId(args.id));
      return deletedFile(args.id);
    },
  }),
}));
