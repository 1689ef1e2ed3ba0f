import { builder } from "./builder.js";
import { internalId } from "./ids.js";

export const WorkspaceRef = builder.prismaNode("Workspace", {
  id: { field: "id" },
  // A workspace the caller is not a member of reads as absent.
  findUnique: (id, context) => ({ id, members: { some: { principalId: context.caller?.principalId ?? "" } } }),
  fields: (t) => ({
    name: t.exposeString("name"),
    slug: t.exposeString("slug", { description: 'Short handle, usable wherever a workspace ID is asked for (e.g. "default").' }),
    public: t.exposeBoolean("public"),
  }),
});

const ViewerRef = builder.objectRef<{ principalId: string }>("Viewer").implement({
  fields: (t) => ({
    workspaces: t.prismaField({
      type: ["Workspace"],
      resolve: (query, viewer, _args, context) =>
        context.db.workspace.findMany({
          ...query,
          where: { members: { some: { principalId: viewer.principalId } } },
          orderBy: { createdAt: "asc" },
        }),
    }),
  }),
});

builder.queryFields((t) => ({
  workspace: t.prismaField({
    type: "Workspace",
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, context) => {
      const ref = internalId(String(args.id), "Workspace");
      return context.db.workspace.findFirst({
        ...query,
        where: {
          OR: [{ id: ref }, { slug: ref }],
          members: { some: { principalId: context.caller?.principalId ?? "" } },
        },
      });
    },
  }),
  viewer: t.field({
    type: ViewerRef,
    nullable: true,
    resolve: (_root, _args, context) => (context.caller === null ? null : { principalId: context.caller.principalId }),
  }),
}));
