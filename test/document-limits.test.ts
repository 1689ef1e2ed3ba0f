import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sseSubscription } from "./helpers/events.js";
import { apiKey, startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const anonymous = { authorization: "" };

/** `count` aliased copies of a selection, as one query. */
function aliased(count: number, selection: string): string {
  return `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${selection}`).join(" ")} }`;
}

/** Validation errors answer 400 to clients that accept the GraphQL response media type. */
const graphqlResponse = { ...anonymous, accept: "application/graphql-response+json" };

async function expectRefused(query: string, code: string, message: RegExp): Promise<void> {
  const response = await server.graphql(query, undefined, graphqlResponse);
  expect(response.status).toBe(400);
  expect(response.data).toBeFalsy();
  expect(response.errors?.[0]?.message).toMatch(message);
  if (code !== "") expect(response.errors?.[0]?.extensions?.code).toBe(code);
}

describe("document limits", () => {
  it("refuses the 40,000-alias introspection bomb by its token count, and keeps answering /healthz meanwhile", async () => {
    const bomb = aliased(40_000, "__schema { types { name fields { name type { name } } } }");
    expect(bomb.length).toBeGreaterThan(2_000_000);
    const [refused, health] = await Promise.all([
      server.graphql(bomb, undefined, graphqlResponse),
      fetch(`${server.url}/healthz`).then((response) => response.status),
    ]);
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.message).toMatch(/Token limit of 2000 exceeded/);
    expect(health).toBe(200);
  });

  it("refuses 10,000 aliases the same way", async () => {
    await expectRefused(aliased(10_000, "__typename"), "", /Token limit of 2000 exceeded/);
  });

  it("refuses more aliases than GRAPHQL_MAX_ALIASES, saying so", async () => {
    await expectRefused(aliased(31, "__typename"), "TOO_MANY_ALIASES", /Aliases limit of 30 exceeded, found 31/);
  });

  it("refuses a document nested deeper than GRAPHQL_MAX_DEPTH", async () => {
    const deepest = `{ files(workspaceId: "default", first: 1) { edges { node { upload { parts { headers { name } } } } } } }`;
    expect((await server.graphql(deepest)).errors).toBeUndefined();
    const tooDeep = `{ __schema { types { fields { type ${"{ ofType ".repeat(12)}{ name }${" }".repeat(12)} } } } }`;
    await expectRefused(tooDeep, "QUERY_TOO_DEEP", /Query depth limit of 15 exceeded/);
  });

  it("refuses introspection nested past what GraphiQL needs (the introspection bomb), fragments included", async () => {
    const bomb = `{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }`;
    await expectRefused(bomb, "GRAPHQL_VALIDATION_FAILED", /Maximum introspection depth exceeded/);
    const viaFragments = `{ __schema { types { ...T } } } fragment T on __Type { fields { type { fields { type { fields { name } } } } } }`;
    await expectRefused(viaFragments, "GRAPHQL_VALIDATION_FAILED", /Maximum introspection depth exceeded/);
  });

  it("refuses more directives than the limit", async () => {
    await expectRefused(
      `{ __typename ${"@include(if: true) ".repeat(51)} }`,
      "TOO_MANY_DIRECTIVES",
      /Directives limit of 50 exceeded/,
    );
  });

  it("refuses 1,000 aliases of files(first: 1000) by their cost, even with the alias limit raised", async () => {
    const permissive = await startServer({ GRAPHQL_MAX_ALIASES: "5000", GRAPHQL_MAX_TOKENS: "100000" });
    try {
      const response = await permissive.graphql(
        aliased(1000, `files(workspaceId: "default", first: 1000) { edges { node { id name } } }`),
        undefined,
        {
          accept: "application/graphql-response+json",
        },
      );
      expect(response.status).toBe(400);
      expect(response.errors?.[0]?.extensions?.code).toBe("QUERY_TOO_COSTLY");
      expect(response.errors?.[0]?.message).toMatch(
        /estimated cost is \d+, over the limit of 500000 \(GRAPHQL_MAX_COST\)/,
      );
    } finally {
      await permissive.close();
    }
  });

  it("counts a page by the size a variable asks for", async () => {
    const query = `query ($n: Int) { files(workspaceId: "default", first: $n) { edges { node { id upload { parts { url } } } } } }`;
    expect((await server.graphql(query, { n: 100 })).errors?.[0]?.extensions?.code).toBe("QUERY_TOO_COSTLY");
    const small = `query ($n: Int) { files(workspaceId: "default", first: $n) { edges { node { id name size labels } } } }`;
    expect((await server.graphql(small, { n: 1000 })).errors).toBeUndefined();
  });

  it("estimates a query again with each request's variables: one caller's refusal does not stand for the next", async () => {
    // A query text no other test sends, so the first request here is its first.
    const query = `query Pages($n: Int) { files(workspaceId: "default", first: $n) { edges { node { id upload { parts { url } } } } } }`;
    expect((await server.graphql(query, { n: 100 })).errors?.[0]?.extensions?.code).toBe("QUERY_TOO_COSTLY");
    expect((await server.graphql(query, { n: 1 })).errors).toBeUndefined();
    expect((await server.graphql(query, { n: 100 })).errors?.[0]?.extensions?.code).toBe("QUERY_TOO_COSTLY");
  });

  it("estimates the operation a request names, not the document's first", async () => {
    const query = `query Cheap { __typename }
      query Costly { files(workspaceId: "default", first: 100) { edges { node { id upload { parts { url } } } } } }`;
    const run = async (operationName: string) => {
      const response = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ query, operationName }),
      });
      return (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    };
    expect((await run("Cheap")).errors).toBeUndefined();
    const costly = await run("Costly");
    expect(costly.data).toBeFalsy();
    expect(costly.errors?.[0]?.extensions?.code).toBe("QUERY_TOO_COSTLY");
  });

  it("refuses a subscription by its cost too", async () => {
    const parts = "file { upload { parts { url headers { name value } } } }";
    const query = `subscription { fileEvents(workspaceId: "default") { a: ${parts} b: ${parts} c: ${parts} } }`;
    const events = sseSubscription(server.url, query, {}, { authorization: `Bearer ${apiKey}` });
    try {
      const first = (await events.next()).value;
      expect(first?.errors?.[0]?.extensions?.code).toBe("QUERY_TOO_COSTLY");
    } finally {
      await events.return?.();
    }
  });
});
