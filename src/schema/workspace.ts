import type { Caller } from "../access/caller.js";
import { findReadableWorkspace, readableWorkspaces } from "../access/readable.js";
import { Role } from "../db/client.js";
import { textProblem } from "../files/validation.js";
import { builder } from "./builder.js";
import { internalId } from "./ids.js";

const RoleEnum = builder.enumType(Role, {
  name: "Role",
  description:
    "ADMIN administers the workspace; WRITER creates, completes, changes and deletes files; READER reads and lists them.",
});

export const WorkspaceRef = builder.prismaNode("Workspace", {
  id: { field: "id" },
  // A workspace the caller cannot read reads as absent: `node` answers null.
  nullable: true,
  // A decoded id holding what the database cannot compare (a NUL) names no workspace.
  findUnique: (id, context) => ({
    id: textProblem(id) === undefined ? id : "",
    AND: [readableWorkspaces(context.caller)],
  }),
  fields: (t) => ({
    name: t.exposeString("name"),
    slug: t.exposeString("slug", {
      description: 'Short handle, usable wherever a workspace ID is asked for (e.g. "default").',
    }),
    public: t.exposeBoolean("public", {
      description: "Anyone, signed in or not, may read the files of a public workspace.",
    }),
    viewerRole: t.field({
      type: RoleEnum,
      nullable: true,
      description: "The caller's role here; null when the caller reads this workspace only because it is public.",
      resolve: (workspace, _args, context) => context.caller.roleIn(workspace.id) ?? null,
    }),
  }),
});

const ViewerRef = builder.objectRef<{ caller: Caller }>("Viewer").implement({
  description: "The caller.",
  fields: (t) => ({
    workspaces: t.prismaField({
      type: ["Workspace"],
      description: "The workspaces the caller can read: those it is a member of, and public ones.",
      resolve: (query, viewer, _args, context) =>
        context.db.workspace.findMany({
          ...query,
          where: readableWorkspaces(viewer.caller),
          orderBy: { createdAt: "asc" },
        }),
    }),
  }),
});

builder.queryFields((t) => ({
  workspace: t.prismaField({
    type: "Workspace",
    nullable: true,
    description: "The workspace with this ID or slug; null when it does not exist or the caller cannot read it.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, context) => {
      const workspace = await findReadableWorkspace(
        context.db,
        context.caller,
        internalId(String(args.id), "Workspace"),
      );
      return workspace === null ? null : context.db.workspace.findUnique({ ...query, where: { id: workspace.id } });
    },
  }),
  viewer: t.field({
    type: ViewerRef,
    nullable: true,
    description: "The caller, signed in or anonymous.",
    resolve: (_root, _args, context) => ({ caller: context.caller }),
  }),
}));
