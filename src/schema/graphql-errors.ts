import { GraphQLError } from "graphql";

/** A client mistake in a query, which has no error union to carry it: `extensions.code` BAD_USER_INPUT. */
export function badUserInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });
}

/** Something a non-union field names does not exist or is not the caller's to see: `extensions.code` NOT_FOUND. */
export function notFound(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "NOT_FOUND" } });
}
