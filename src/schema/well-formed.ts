import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from "@pothos/core";
import type { GraphQLFieldResolver } from "graphql";
import { type FieldError, ValidationError } from "../files/errors.js";
import { textProblem } from "../files/validation.js";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The first string in argument values (lists, input objects and JSON, keys included) that fails
 * `textProblem`, with its path. Uploads (promises) and dates are not text and are skipped.
 */
function firstBadText(value: unknown, path: string[]): FieldError | undefined {
  if (typeof value === "string") {
    const message = textProblem(value);
    return message === undefined ? undefined : { path, message };
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const bad = firstBadText(item, [...path, String(index)]);
      if (bad !== undefined) return bad;
    }
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const message = textProblem(key);
      if (message !== undefined) return { path: [...path, key], message: `key ${message}` };
      const bad = firstBadText(item, [...path, key]);
      if (bad !== undefined) return bad;
    }
  }
  return undefined;
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      wellFormedText: WellFormedTextPlugin<Types>;
    }
  }
}

/**
 * Puts every argument of every field through the one check on strings (`textProblem`, in
 * src/files/validation.ts) before its resolver runs, so no malformed text reaches a service or a
 * database (Prisma cannot encode a lone surrogate). The failure is a ValidationError on the
 * argument's path: a union member where the field declares one (it runs inside the errors
 * plugin, and after scope-auth), BAD_USER_INPUT otherwise (src/yoga.ts). Field rules (names,
 * labels…) stay in the domain; this is what holds for all text.
 */
class WellFormedTextPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types["Context"], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types["Context"], object> {
    if (Object.keys(fieldConfig.args).length === 0) return resolver;
    return (source, args, context, info) => {
      const bad = firstBadText(args, []);
      if (bad !== undefined) throw new ValidationError([bad]);
      return resolver(source, args, context, info);
    };
  }
}

const pluginName = "wellFormedText";
SchemaBuilder.registerPlugin(pluginName, WellFormedTextPlugin);
export default pluginName;
