import { readableWorkspaces } from "../access/readable.js";
import type { Folder } from "../db/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../files/errors.js";
import { defaultPageSize } from "../files/listing.js";
import { textProblem } from "../files/validation.js";
import { builder } from "./builder.js";
import { FileConnectionRef, FileFilterInput, FileOrderInput, FileRef } from "./file.js";
import { badUserInput, notFound } from "./graphql-errors.js";
import { internalId } from "./ids.js";

const FolderRef = builder.prismaNode("Folder", {
  id: { field: "id" },
  // A folder of a workspace the caller cannot read reads as absent.
  nullable: true,
  // A decoded id holding what the database cannot compare (a NUL) names no folder.
  findUnique: (id, context) => ({
    id: textProblem(id) === undefined ? id : "",
    AND: [{ workspace: readableWorkspaces(context.caller) }],
  }),
  description: "A directory path made explicit. Its files are those whose directory is its path.",
  fields: (t) => ({
    workspace: t.relation("workspace"),
    path: t.exposeString("path"),
    name: t.string({
      description: "The last segment of the path.",
      resolve: (folder) => folder.path.slice(folder.path.lastIndexOf("/") + 1),
    }),
    files: t.connection(
      {
        type: FileRef,
        description:
          "The files whose directory is this folder's path (not those below it; filter with directoryPrefix for those).",
        args: { filter: t.arg({ type: FileFilterInput }), orderBy: t.arg({ type: FileOrderInput }) },
        complexity: (args) => ({ field: 1, multiplier: args.first ?? args.last ?? defaultPageSize }),
        resolve: (folder, args, context) =>
          context.files
            .listFiles(
              context.caller,
              folder.workspaceId,
              { ...args.filter, directory: folder.path },
              args.orderBy,
              args,
            )
            .catch((error: unknown) => {
              if (error instanceof ValidationError) throw badUserInput(error.message);
              if (error instanceof NotFoundError) throw notFound(error.message);
              throw error;
            }),
      },
      FileConnectionRef,
    ),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

builder.objectFields(FolderRef, (t) => ({
  parent: t.field({
    type: FolderRef,
    nullable: true,
    description: "The folder holding this one; null at the top.",
    resolve: (folder, _args, context) => context.folders.parent(folder),
  }),
  folders: t.field({
    type: [FolderRef],
    description: "The folders directly in this one, by path.",
    args: { first: t.arg.int({ defaultValue: 100 }) },
    complexity: (args) => ({ field: 1, multiplier: args.first ?? 100 }),
    resolve: (folder, args, context) =>
      context.folders.children(folder, args.first ?? 100).catch((error: unknown) => {
        if (error instanceof ValidationError) throw badUserInput(error.message);
        throw error;
      }),
  }),
}));

const FolderPayload = builder.objectRef<{ folder: Folder; kind: "FolderPayload" }>("FolderPayload").implement({
  isTypeOf: (value) =>
    typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "FolderPayload",
  fields: (t) => ({ folder: t.field({ type: FolderRef, nullable: false, resolve: (payload) => payload.folder }) }),
});

const DeletedFolder = builder.objectRef<{ id: string; kind: "DeletedFolder" }>("DeletedFolder").implement({
  isTypeOf: (value) =>
    typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "DeletedFolder",
  fields: (t) => ({ id: t.exposeID("id") }),
});

const CreateFolderInput = builder.inputType("CreateFolderInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true, description: "The workspace's ID, or its slug." }),
    path: t.string({
      required: true,
      description: 'Absolute path, e.g. "/projects/alpha"; missing parents are created.',
    }),
  }),
});

/** The internal id of a Folder global ID; anything else names no folder. */
function folderId(id: string | number): string {
  const decoded = internalId(String(id), "Folder");
  if (decoded === String(id)) throw new NotFoundError(`folder ${id} was not found`);
  return decoded;
}

builder.queryFields((t) => ({
  folder: t.field({
    type: FolderRef,
    nullable: true,
    description: "The folder with this ID; null when it does not exist or the caller cannot read it.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => context.folders.folder(context.caller, internalId(String(args.id), "Folder")),
  }),
  folderByPath: t.field({
    type: FolderRef,
    nullable: true,
    args: { workspaceId: t.arg.id({ required: true }), path: t.arg.string({ required: true }) },
    resolve: (_root, args, context) =>
      context.folders.folderByPath(context.caller, internalId(String(args.workspaceId), "Workspace"), args.path),
  }),
}));

builder.mutationFields((t) => ({
  createFolder: t.withAuth({ authenticated: true }).field({
    type: FolderPayload,
    description: "Creates the folder at a path with every missing parent; an existing folder is returned as it is.",
    args: { input: t.arg({ type: CreateFolderInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], union: { name: "CreateFolderResult" } },
    resolve: async (_root, { input }, context) => {
      const folder = await context.folders.createFolder(
        context.caller,
        internalId(String(input.workspaceId), "Workspace"),
        input.path,
      );
      return { folder, kind: "FolderPayload" as const };
    },
  }),
  deleteFolder: t.withAuth({ authenticated: true }).field({
    type: DeletedFolder,
    description: "Deletes an empty folder; a ConflictError while it holds folders or files.",
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError, ConflictError], union: { name: "DeleteFolderResult" } },
    resolve: async (_root, args, context) => {
      await context.folders.deleteFolder(context.caller, folderId(args.id));
      return { id: String(args.id), kind: "DeletedFolder" as const };
    },
  }),
}));
