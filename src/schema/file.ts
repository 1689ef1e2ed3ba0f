import { readableFiles } from "../access/readable.js";
import { FileScope, FileStatus } from "../db/client.js";
import { NotFoundError, ValidationError } from "../files/errors.js";
import { defaultPageSize } from "../files/listing.js";
import { withLabels } from "../files/records.js";
import { textProblem } from "../files/validation.js";
import { DEFAULT_SIGNED_URL_SECONDS, MAX_SIGNED_URL_SECONDS } from "../storage/driver.js";
import { builder } from "./builder.js";
import { badUserInput, notFound } from "./graphql-errors.js";
import { internalId } from "./ids.js";

export const FileStatusEnum = builder.enumType(FileStatus, { name: "FileStatus" });
export const FileScopeEnum = builder.enumType(FileScope, { name: "FileScope" });

const ImageDimensionsRef = builder.objectRef<{ width: number; height: number }>("ImageDimensions").implement({
  fields: (t) => ({ width: t.exposeInt("width"), height: t.exposeInt("height") }),
});

/** A download URL's lifetime from `expiresIn` (DEFAULT_SIGNED_URL_SECONDS when left out), checked. */
export function downloadUrlTtl(expiresIn: number | null | undefined): number {
  const seconds = expiresIn ?? DEFAULT_SIGNED_URL_SECONDS;
  if (seconds < 1 || seconds > MAX_SIGNED_URL_SECONDS)
    throw badUserInput(`expiresIn must be between 1 and ${MAX_SIGNED_URL_SECONDS} seconds`);
  return seconds;
}

export const FileRef = builder.prismaNode("File", {
  id: { field: "id" },
  // Files Pothos loads itself (`node`, `nodes`) come with their labels, as the services' do.
  include: withLabels,
  // `node`/`nodes` of a missing file, or one the caller cannot read, is null, never its data.
  nullable: true,
  // A decoded id holding what the database cannot compare (a NUL) names no file.
  findUnique: (id, context) => ({ id: textProblem(id) === undefined ? id : "", AND: [readableFiles(context.caller)] }),
  fields: (t) => ({
    workspace: t.relation("workspace"),
    name: t.exposeString("name"),
    mimeType: t.exposeString("mimeType", { nullable: true }),
    size: t.field({
      type: "SafeInt",
      nullable: true,
      description: "Declared at create, measured once uploaded.",
      resolve: (file) => (file.size === null ? null : Number(file.size)),
    }),
    checksumSha256: t.exposeString("checksumSha256", { nullable: true }),
    status: t.expose("status", { type: FileStatusEnum }),
    uploaded: t.boolean({ resolve: (file) => file.status === FileStatus.UPLOADED }),
    externalId: t.exposeString("externalId", { nullable: true }),
    directory: t.exposeString("directory", { nullable: true }),
    description: t.exposeString("description", { nullable: true }),
    source: t.exposeString("source", { nullable: true }),
    metadata: t.field({
      type: "JSON",
      description: "An object; its values may be any JSON.",
      resolve: (file) => JSON.parse(file.metadata) as unknown,
    }),
    labels: t.stringList({ resolve: (file) => file.labels.map((row) => row.label).sort() }),
    assetIds: t.field({
      type: ["SafeInt"],
      nullable: true,
      description: "The assets the file is linked to, in the order given; empty when none.",
      resolve: (file) => JSON.parse(file.assetIds) as number[],
    }),
    securityCategories: t.field({
      type: ["SafeInt"],
      nullable: true,
      description: "Only callers holding every one of these categories can read or change the file; empty when none.",
      resolve: (file) => JSON.parse(file.securityCategories) as number[],
    }),
    dataSetId: t.field({
      type: "SafeInt",
      nullable: true,
      resolve: (file) => (file.dataSetId === null ? null : Number(file.dataSetId)),
    }),
    geoLocation: t.field({
      type: "JSON",
      nullable: true,
      description: "A GeoJSON Feature (RFC 7946).",
      resolve: (file) => (file.geoLocation === null ? null : (JSON.parse(file.geoLocation) as unknown)),
    }),
    scope: t.expose("scope", { type: FileScopeEnum }),
    entityId: t.exposeString("entityId", { nullable: true }),
    sessionId: t.exposeString("sessionId", { nullable: true }),
    sourceCreatedTime: t.expose("sourceCreatedTime", { type: "DateTime", nullable: true }),
    sourceModifiedTime: t.expose("sourceModifiedTime", { type: "DateTime", nullable: true }),
    dimensions: t.field({
      type: ImageDimensionsRef,
      nullable: true,
      description: "Width and height in pixels for images, read from the image header.",
      resolve: (file) =>
        file.width === null || file.height === null ? null : { width: file.width, height: file.height },
    }),
    downloadUrl: t.string({
      nullable: true,
      description: "A signed URL for the bytes, valid for expiresIn seconds; null until uploaded.",
      args: { expiresIn: t.arg.int({ defaultValue: DEFAULT_SIGNED_URL_SECONDS }) },
      resolve: (file, args, context) => context.files.downloadUrl(file, downloadUrlTtl(args.expiresIn)),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    uploadedAt: t.expose("uploadedAt", { type: "DateTime", nullable: true }),
  }),
});

/** The internal id of a File global ID; anything else names no file. */
export function fileId(id: string | number): string {
  const decoded = internalId(String(id), "File");
  if (decoded === String(id)) throw new NotFoundError(`file ${id} was not found`);
  return decoded;
}

const GeoBoundingBoxInput = builder.inputType("GeoBoundingBox", {
  description:
    "A box in degrees (WGS 84, as in GeoJSON). minLongitude greater than maxLongitude is a box across the antimeridian.",
  fields: (t) => ({
    minLongitude: t.float({ required: true }),
    minLatitude: t.float({ required: true }),
    maxLongitude: t.float({ required: true }),
    maxLatitude: t.float({ required: true }),
  }),
});

export const FileFilterInput = builder.inputType("FileFilter", {
  fields: (t) => ({
    status: t.field({ type: FileStatusEnum }),
    directory: t.string({ description: "Exact directory." }),
    directoryPrefix: t.string({ description: '"/a/b" matches "/a/b" and everything below it.' }),
    mimeType: t.string({ description: 'Exact type, or "image/*".' }),
    labelsAny: t.stringList(),
    labelsAll: t.stringList(),
    externalIdPrefix: t.string(),
    nameContains: t.string({ description: "Case-insensitive." }),
    createdAfter: t.field({ type: "DateTime" }),
    createdBefore: t.field({ type: "DateTime" }),
    uploadedAfter: t.field({ type: "DateTime" }),
    uploadedBefore: t.field({ type: "DateTime" }),
    scope: t.field({ type: FileScopeEnum }),
    entityId: t.string(),
    sessionId: t.string(),
    assetIdsAny: t.field({
      type: ["SafeInt"],
      description: "Files linked to at least one of these assets (at most 100).",
    }),
    dataSetIds: t.field({ type: ["SafeInt"], description: "Files in one of these data sets (at most 100)." }),
    geoIntersects: t.field({
      type: GeoBoundingBoxInput,
      description: "Files whose geoLocation's bounding box meets this box.",
    }),
    metadata: t.field({
      type: "JSON",
      description:
        'Files whose metadata has each of these keys with exactly that JSON value (objects compared whatever their key order): { "tags": ["a", "b"], "reviewed": true }. At most 16 keys.',
    }),
  }),
});

const FileOrderField = builder.enumType("FileOrderField", {
  values: ["CREATED_AT", "UPLOADED_AT", "NAME", "SIZE"] as const,
});
const OrderDirection = builder.enumType("OrderDirection", { values: ["ASC", "DESC"] as const });
export const FileOrderInput = builder.inputType("FileOrder", {
  description: "Default: CREATED_AT DESC. Files without a value for the field (not uploaded yet) come last.",
  fields: (t) => ({
    field: t.field({ type: FileOrderField, required: true }),
    direction: t.field({ type: OrderDirection, required: true }),
  }),
});

/** The connection of files, shared by `files` and `Folder.files`. */
export const FileConnectionRef = builder.connectionObject(
  {
    type: FileRef,
    name: "FileConnection",
    // The page's multiplier is on the field that lists: its edges count once.
    edgesField: { complexity: { field: 1, multiplier: 1 } },
    fields: (t) => ({
      totalCount: t.int({
        description: "Files matching the filter, on every page.",
        resolve: (connection) => (connection as unknown as { totalCount: () => Promise<number> }).totalCount(),
      }),
    }),
  },
  { name: "FileEdge" },
);

builder.queryFields((t) => ({
  file: t.field({
    type: FileRef,
    nullable: true,
    description: "The file with this ID; null when it does not exist or the caller cannot read it.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => context.files.file(context.caller, internalId(String(args.id), "File")),
  }),
  fileByExternalId: t.field({
    type: FileRef,
    nullable: true,
    args: { workspaceId: t.arg.id({ required: true }), externalId: t.arg.string({ required: true }) },
    resolve: (_root, args, context) =>
      context.files.fileByExternalId(
        context.caller,
        internalId(String(args.workspaceId), "Workspace"),
        args.externalId,
      ),
  }),
  files: t.connection(
    {
      type: FileRef,
      description: "The files of a workspace the caller can read (a NOT_FOUND error for any other workspace).",
      args: {
        workspaceId: t.arg.id({ required: true }),
        filter: t.arg({ type: FileFilterInput }),
        orderBy: t.arg({ type: FileOrderInput }),
      },
      // A page costs what is selected in it once per file it may hold.
      complexity: (args) => ({ field: 1, multiplier: args.first ?? args.last ?? defaultPageSize }),
      resolve: (_root, args, context) =>
        context.files
          .listFiles(context.caller, internalId(String(args.workspaceId), "Workspace"), args.filter, args.orderBy, args)
          .catch((error: unknown) => {
            if (error instanceof ValidationError) throw badUserInput(error.message);
            if (error instanceof NotFoundError) throw notFound(error.message);
            throw error;
          }),
    },
    FileConnectionRef,
  ),
}));
