import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { GraphQLError } from "graphql";
import { DateTimeResolver, JSONResolver, SafeIntResolver } from "graphql-scalars";
import { GraphQLUpload, type FileUpload } from "graphql-upload-minimal";
import type { Context } from "../context.js";
import type PrismaTypes from "../db/generated/pothos-types.js";
import { getDatamodel } from "../db/generated/pothos-types.js";

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: { authenticated: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    SafeInt: { Input: number; Output: number };
    /** GraphQL multipart request spec: the resolver gets a promise of the file's details. */
    Upload: { Input: Promise<FileUpload>; Output: never };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin, ErrorsPlugin, PrismaPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (context) => ({ authenticated: context.caller !== null }),
    unauthorizedError: () =>
      new GraphQLError("Send an API key: Authorization: Bearer <key>", {
        extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
      }),
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
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

// Every root field needs a caller; introspection does not, so GraphiQL loads without a key.
builder.queryType({ authScopes: { authenticated: true } });
builder.mutationType({ authScopes: { authenticated: true } });
