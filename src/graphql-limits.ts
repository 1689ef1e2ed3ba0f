import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import type { GraphQLArmorCallbackConfiguration } from "@escape.tech/graphql-armor-types";
import { complexityFromQuery } from "@pothos/plugin-complexity";
import {
  BREAK,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  Kind,
  type OperationDefinitionNode,
  TypeInfo,
  type ValueNode,
  visit,
  visitWithTypeInfo,
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

/**
 * What a refused document hears: which limit, and `extensions.code`. Like every validation error
 * (GraphQL over HTTP) it answers HTTP 400 to `Accept: application/graphql-response+json` and 200
 * to plain JSON.
 */
function limitError(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { spec: true, status: 400 } } });
}

/** `document` with only `operation` and the fragments. */
function operationAlone(document: DocumentNode, operation: OperationDefinitionNode): DocumentNode {
  const fragments = document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION);
  return { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] };
}

/** Whether an argument's value is, or holds, a variable. */
function holdsVariable(value: ValueNode): boolean {
  if (value.kind === Kind.VARIABLE) return true;
  if (value.kind === Kind.LIST) return value.values.some(holdsVariable);
  if (value.kind === Kind.OBJECT) return value.fields.some((field) => holdsVariable(field.value));
  return false;
}

/**
 * Whether an operation's estimate may depend on its variables: some field whose cost is computed
 * from its arguments (a page's `first`, `nodes`' ids) is given a variable in them. Conservative:
 * every such field in the document counts, fragments the operation does not spread included.
 */
function costReadsVariables(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let reads = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const cost = typeInfo.getFieldDef()?.extensions?.complexity;
        if (typeof cost !== "function") return;
        if (!node.arguments?.some((argument) => holdsVariable(argument.value))) return;
        reads = true;
        return BREAK;
      },
    }),
  );
  return reads;
}

/**
 * Estimates of operations that read no variable, by document and operation name: the same on
 * every request that runs them, and Yoga hands every request of a query text the same parsed
 * document. An estimate depends on the document and the variables only (no cost function reads
 * the context), so nothing of a caller's is kept.
 */
const fixedCosts = new WeakMap<DocumentNode, Map<string | null, number>>();

/** Documents whose estimate reads variables (costReadsVariables): estimated on every request, checked once. */
const variableCosts = new WeakSet<DocumentNode>();

/**
 * The estimated cost of the operation a request runs (`operationName`'s, not the document's
 * first: another could be cheap), or undefined when there is no such operation or the variables
 * do not fit their types (execution refuses both with its own error).
 */
function estimatedCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null,
  variables: Record<string, unknown>,
): number | undefined {
  const known = fixedCosts.get(document)?.get(operationName);
  if (known !== undefined) return known;
  const operation = getOperationAST(document, operationName);
  if (operation == null) return undefined;
  let complexity: number;
  try {
    ({ complexity } = complexityFromQuery(operationAlone(document, operation), { schema, variables }));
  } catch {
    return undefined;
  }
  if (variableCosts.has(document)) return complexity;
  if (costReadsVariables(schema, document)) {
    variableCosts.add(document);
    return complexity;
  }
  const costs = fixedCosts.get(document) ?? new Map<string | null, number>();
  costs.set(operationName, complexity);
  fixedCosts.set(document, costs);
  return complexity;
}

/**
 * The cost estimate depends on variables (`first: $n`), which validation rules do not see. It is
 * checked just before execution, on every request, not in a validation hook: Yoga keeps a
 * document's validation result for every later request of that text (its validation cache), so
 * a verdict given with one request's variables would stand for all (one caller's refused
 * `first: 1000` refused everyone's `first: 10` of the same query).
 */
function costLimit(maxCost: number): Plugin {
  const check = ({
    args,
    setResultAndStopExecution,
  }: {
    args: ExecutionArgs;
    setResultAndStopExecution: (result: ExecutionResult) => void;
  }): void => {
    const complexity = estimatedCost(
      args.schema,
      args.document,
      args.operationName ?? null,
      (args.variableValues as Record<string, unknown> | null | undefined) ?? {},
    );
    if (complexity === undefined || complexity <= maxCost) return;
    setResultAndStopExecution({
      errors: [
        limitError(
          `The query's estimated cost is ${complexity}, over the limit of ${maxCost} (GRAPHQL_MAX_COST): ask for smaller pages or fewer fields`,
          "QUERY_TOO_COSTLY",
        ),
      ],
    });
  };
  return { onExecute: check, onSubscribe: check };
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
