import { GraphQLError } from "graphql";

/** A client mistake in a query, which has no error union to carry it: `extensions.code` BAD_USER_INPUT. */
export function badUserInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });
}
