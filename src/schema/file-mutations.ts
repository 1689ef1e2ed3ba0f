import { type FileVersion, UploadMethod } from "../db/client.js";
import {
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  UploadIncompleteError,
  ValidationError,
} from "../files/errors.js";
import type { FileRecord, FileRow, UploadTarget } from "../files/types.js";
import { DEFAULT_SIGNED_URL_SECONDS, MAX_PARTS } from "../storage/driver.js";
import { builder } from "./builder.js";
import { downloadUrlTtl, FileRef, FileScopeEnum, fileId } from "./file.js";
import { internalId } from "./ids.js";

const UploadMethodEnum = builder.enumType(UploadMethod, {
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

const UploadTargetRef = builder.objectRef<UploadTarget>("UploadTarget").implement({
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

builder.objectField(FileRef, "upload", (t) =>
  t.field({
    type: UploadTargetRef,
    nullable: true,
    description:
      "A freshly signed upload target while the file is PENDING and the caller may write to it, null otherwise. " +
      "For MULTIPART it lists the parts already received and signs URLs only for the missing ones, so an interrupted upload resumes.",
    resolve: (file, _args, context) => context.files.resumeUpload(context.caller, file),
  }),
);

const PendingUploadRef = builder.objectRef<FileRow>("PendingUpload").implement({
  description:
    "New content on its way to an uploaded file (createFile with overwrite and no bytes in the request). The file keeps " +
    "serving its current content until completeUpload verifies these bytes; abortUpload drops them.",
  fields: (t) => ({
    size: t.field({
      type: "SafeInt",
      nullable: true,
      resolve: (pending) => (pending.size === null ? null : Number(pending.size)),
    }),
    checksumSha256: t.exposeString("checksumSha256", { nullable: true }),
    mimeType: t.exposeString("mimeType", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    expiresAt: t.expose("expiresAt", {
      type: "DateTime",
      nullable: true,
      description: "When it is removed unless completed.",
    }),
    upload: t.field({
      type: UploadTargetRef,
      nullable: true,
      description: "A freshly signed target for the bytes when the caller may write to the file, null otherwise.",
      resolve: (pending, _args, context) => context.files.resumeUpload(context.caller, pending),
    }),
  }),
});

builder.objectField(FileRef, "pendingUpload", (t) =>
  t.field({
    type: PendingUploadRef,
    nullable: true,
    description: "An overwrite's new content not completed yet, if any.",
    resolve: (file, _args, context) => context.loaders.pendingUpload.load(file.id),
  }),
);

const FileVersionRef = builder.objectRef<{ version: FileVersion; file: FileRecord }>("FileVersion").implement({
  description: "A content of the file that an overwrite replaced.",
  fields: (t) => ({
    size: t.field({ type: "SafeInt", resolve: ({ version }) => Number(version.size) }),
    checksumSha256: t.string({ resolve: ({ version }) => version.checksumSha256 }),
    mimeType: t.string({ nullable: true, resolve: ({ version }) => version.mimeType }),
    uploadedAt: t.field({ type: "DateTime", resolve: ({ version }) => version.uploadedAt }),
    replacedAt: t.field({ type: "DateTime", resolve: ({ version }) => version.replacedAt }),
    downloadUrl: t.string({
      nullable: true,
      description:
        "A signed URL for these bytes while they are kept (the newest FILE_VERSIONS_KEPT versions), null otherwise.",
      args: { expiresIn: t.arg.int({ defaultValue: DEFAULT_SIGNED_URL_SECONDS }) },
      resolve: ({ version, file }, args, context) =>
        context.files.versionDownloadUrl(file, version, downloadUrlTtl(args.expiresIn)),
    }),
  }),
});

builder.objectField(FileRef, "versions", (t) =>
  t.field({
    type: [FileVersionRef],
    description: "The contents overwrites replaced, newest first (at most 100).",
    resolve: async (file, _args, context) =>
      (await context.loaders.versions.load(file.id)).map((version) => ({ version, file })),
  }),
);

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
      description: "With externalId: replace that file, keeping its content until the new upload completes.",
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
  description: "Fields left out are unchanged; labels and metadata are replaced whole.",
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
