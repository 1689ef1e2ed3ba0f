import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import type { GraphQLArmorCallbackConfiguration } from "@escape.tech/graphql-armor-types";
import { complexityFromQuery } from "@pothos/plugin-complexity";
import { GraphQLError } from "graphql";
import type { GraphQLParams, Plugin } from "graphql-yoga";

/** Bounds every GraphQL document must keep, checked before a resolver runs. */
export interface DocumentLimits {
  /** Tokens in the document; the parser stops at the limit, so a huge document costs little. */
  maxTokens: number;
  /** Nesting of selections. */
  maxDepth: number;
  /** Aliased fields in an operation (fragments counted where they are spread). */
  maxAliases: number;
  /** Directives in the document. */
  maxDirectives: number;
  /** Estimated cost: each field 1, times the page size of the lists above it (src/schema/builder.ts). */
  maxCost: number;
}

/**
 * What a refused document hears: which limit, and `extensions.code`. Like every validation error
 * (GraphQL over HTTP) it answers HTTP 400 to `Accept: application/graphql-response+json` and 200
 * to plain JSON.
 */
function limitError(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { spec: true, status: 400 } } });
}

/**
 * The cost estimate depends on variables (`first: $n`), which validation rules do not see and
 * whose results Yoga caches per document: it runs after validation, on every request.
 */
function costLimit(maxCost: number): Plugin {
  return {
    onValidate({ params, context }) {
      return ({ valid, result, setResult }) => {
        if (!valid) return;
        const variables = (context as { params?: GraphQLParams }).params?.variables ?? {};
        let complexity: number;
        try {
          ({ complexity } = complexityFromQuery(params.documentAST, {
            schema: params.schema,
            ctx: context,
            variables,
          }));
        } catch {
          // Variables that do not fit their types: execution refuses them with its own error.
          return;
        }
        if (complexity > maxCost) {
          setResult([
            ...result,
            limitError(
              `The query's estimated cost is ${complexity}, over the limit of ${maxCost} (GRAPHQL_MAX_COST): ask for smaller pages or fewer fields`,
              "QUERY_TOO_COSTLY",
            ),
          ]);
        }
      };
    },
  };
}

/**
 * Armor's validation rules throw their rejection, which Yoga then answers like an unexpected
 * error; reported instead, it is a validation error with our code (HTTP 400 to clients that
 * accept `application/graphql-response+json`). Its message names the limit and the count found.
 */
function reportAs(code: string): GraphQLArmorCallbackConfiguration {
  return {
    propagateOnRejection: false,
    onReject: [
      (context, error) => context?.reportError(limitError(error.message.replace(/^Syntax Error: /, ""), code)),
    ],
  };
}

/**
 * The Yoga plugins that refuse oversized documents: GraphQL Armor for the shape, Pothos' estimate
 * for the cost. graphql-js itself refuses introspection nested deeper than GraphiQL needs
 * (MaxIntrospectionDepthRule), which the cost estimate does not count.
 */
export function documentLimitPlugins(limits: DocumentLimits): Plugin[] {
  return [
    // Counted while parsing, so the parser gives up at the limit; a parse error names it.
    maxTokensPlugin({ exposeLimits: true, n: limits.maxTokens }),
    maxDepthPlugin({
      exposeLimits: true,
      n: limits.maxDepth,
      ignoreIntrospection: false,
      flattenFragments: true,
      ...reportAs("QUERY_TOO_DEEP"),
    }),
    maxAliasesPlugin({ exposeLimits: true, n: limits.maxAliases, allowList: [], ...reportAs("TOO_MANY_ALIASES") }),
    maxDirectivesPlugin({ exposeLimits: true, n: limits.maxDirectives, ...reportAs("TOO_MANY_DIRECTIVES") }),
    costLimit(limits.maxCost),
  ] as Plugin[];
}
