import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import { complexityFromQuery } from "@pothos/plugin-complexity";
import {
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLNamedType,
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type SelectionSetNode,
  type ValidationRule,
} from "graphql";
import type { Plugin } from "graphql-yoga";

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

/** What a refused document hears: which limit, and `extensions.code`. */
function limitError(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}

/**
 * The cost estimate depends on variables (`first: $n`), so it runs when the operation is about
 * to execute rather than as a validation rule, whose results Yoga caches per document.
 */
function costLimit(maxCost: number): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const { complexity } = complexityFromQuery(args.document, {
        schema: args.schema,
        ctx: args.contextValue as object,
        variables: (args.variableValues ?? {}) as Record<string, unknown>,
      });
      if (complexity > maxCost) {
        setResultAndStopExecution({
          errors: [
            limitError(
              `The query's estimated cost is ${complexity}, over the limit of ${maxCost} (GRAPHQL_MAX_COST): ask for smaller pages or fewer fields`,
              "QUERY_TOO_COSTLY",
            ),
          ],
        });
      }
    },
  };
}

/**
 * Lists of the introspection types that may nest in one path: GraphiQL's query nests three
 * (`types { fields { args } }`). Each nesting multiplies the answer by the schema's size, and the
 * cost estimate does not count introspection, so `types { fields { type { fields { … } } } }`
 * would be a bomb within any depth limit that lets GraphiQL in.
 */
const maxIntrospectionLists = 3;

/** The introspection fields that answer lists of types, fields, arguments, values or directives. */
const introspectionLists = new Set(["types", "fields", "inputFields", "interfaces", "possibleTypes", "enumValues", "args", "directives"]);

/** Refuses operations whose introspection lists nest deeper than `maxIntrospectionLists`, fragments included. */
const introspectionNesting: ValidationRule = (context) => {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  /** The deepest nesting of introspection lists under a selection set of `type`. */
  const nesting = (selectionSet: SelectionSetNode, type: GraphQLNamedType | undefined, seen: ReadonlySet<string>): number => {
    let deepest = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment === undefined || seen.has(fragment.name.value)) continue;
        const condition = context.getSchema().getType(fragment.typeCondition.name.value) ?? undefined;
        deepest = Math.max(deepest, nesting(fragment.selectionSet, condition, new Set([...seen, fragment.name.value])));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? context.getSchema().getType(selection.typeCondition.name.value) : type;
        deepest = Math.max(deepest, nesting(selection.selectionSet, condition ?? undefined, seen));
      } else if (selection.selectionSet !== undefined) {
        const name = selection.name.value;
        const field =
          name === "__schema"
            ? context.getSchema().getType("__Schema")
            : name === "__type"
              ? context.getSchema().getType("__Type")
              : type !== undefined && (isObjectType(type) || isInterfaceType(type))
                ? getNamedType(type.getFields()[name]?.type)
                : undefined;
        const isList = type?.name.startsWith("__") === true && introspectionLists.has(name);
        deepest = Math.max(deepest, (isList ? 1 : 0) + nesting(selection.selectionSet, field, seen));
      }
    }
    return deepest;
  };
  return {
    OperationDefinition(operation) {
      const root = context.getSchema().getRootType(operation.operation) ?? undefined;
      const depth = nesting(operation.selectionSet, root, new Set());
      if (depth > maxIntrospectionLists) {
        context.reportError(
          limitError(`Introspection nests ${depth} lists of types or fields, over the limit of ${maxIntrospectionLists}`, "QUERY_TOO_DEEP"),
        );
      }
    },
  };
};

/** The Yoga plugins that refuse oversized documents (GraphQL Armor for the shape, Pothos' estimate for the cost). */
export function documentLimitPlugins(limits: DocumentLimits): Plugin[] {
  // Armor's rejections are GraphQL errors naming the limit; they reach clients unmasked.
  const armor = { exposeLimits: true } as const;
  return [
    maxTokensPlugin({ ...armor, n: limits.maxTokens }),
    maxDepthPlugin({ ...armor, n: limits.maxDepth, ignoreIntrospection: false, flattenFragments: true }),
    maxAliasesPlugin({ ...armor, n: limits.maxAliases, allowList: [] }),
    maxDirectivesPlugin({ ...armor, n: limits.maxDirectives }),
    { onValidate: ({ addValidationRule }) => addValidationRule(introspectionNesting) },
    costLimit(limits.maxCost),
  ] as Plugin[];
}
