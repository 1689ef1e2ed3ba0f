import SchemaBuilder from "@pothos/core";
import ComplexityPlugin from "@pothos/plugin-complexity";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { GraphQLError } from "graphql";
import { DateTimeResolver, JSONResolver, SafeIntResolver } from "graphql-scalars";
import { type FileUpload, GraphQLUpload } from "graphql-upload-minimal";
import type { AuthenticatedContext, Context } from "../context.js";
import { getDatamodel, type PothosPrismaTypes } from "../db/client.js";
import { badUserInput } from "./graphql-errors.js";
import WellFormedTextPlugin from "./well-formed.js";

/** Most IDs one `nodes` query resolves. */
const maxNodeIds = 100;

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PothosPrismaTypes;
  AuthScopes: { authenticated: boolean };
  AuthContexts: { authenticated: AuthenticatedContext };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    SafeInt: { Input: number; Output: number };
    /** GraphQL multipart request spec: the resolver gets a promise of the file's details. */
    Upload: { Input: Promise<FileUpload>; Output: never };
  };
  DefaultFieldNullability: false;
}>({
  // Last, so its check on argument text runs inside the errors plugin's wrapper (src/schema/well-formed.ts).
  plugins: [ScopeAuthPlugin, RelayPlugin, ErrorsPlugin, PrismaPlugin, ComplexityPlugin, WellFormedTextPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (context) => ({ authenticated: context.caller.isAuthenticated() }),
    unauthorizedError: () =>
      new GraphQLError("Sign in to do this: send Authorization: Bearer <API key or token>", {
        extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
      }),
  },
  // Costs for the limit checked before execution (src/graphql-limits.ts): a field costs 1 and a
  // list multiplies what is selected under it by 10, unless the field says otherwise (pages by
  // their size, upload parts by the most a target signs).
  complexity: { defaultComplexity: 1, defaultListMultiplier: 10 },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    nodesQueryOptions: {
      description: `The objects with these IDs, null where one is missing or not readable; at most ${maxNodeIds} IDs.`,
      complexity: (args: { ids: readonly unknown[] }) => ({ field: 1, multiplier: args.ids.length }),
      resolve: (_root, args, _context, _info, resolveNodes) => {
        if (args.ids.length > maxNodeIds) throw badUserInput(`nodes takes at most ${maxNodeIds} ids`);
        return resolveNodes(args.ids);
      },
    },
  },
  errors: { directResult: true },
  prisma: {
    client: (context) => context.db,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    onUnusedQuery: null,
  },
});

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("JSON", JSONResolver);
builder.addScalarType("SafeInt", SafeIntResolver);
builder.addScalarType("Upload", GraphQLUpload);

// Anyone may query: what an anonymous caller sees is decided by the read filter (public
// workspaces). Every mutation needs verified credentials.
builder.queryType({});
builder.mutationType({ authScopes: { authenticated: true } });
