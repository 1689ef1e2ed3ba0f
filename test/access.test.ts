import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const createMutation = `mutation { createFile(input: { workspaceId: "default", name: "a.txt" }) { __typename } }`;

describe("access", () => {
  it("answers 401 UNAUTHENTICATED without a key", async () => {
    const response = await server.graphql(`{ viewer { workspaces { slug } } }`, undefined, { authorization: "" });
    expect(response.status).toBe(401);
    expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("does not create a file without a key", async () => {
    const response = await server.graphql(createMutation, undefined, { authorization: "" });
    expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const listing = await server.graphql<{ files: { totalCount: number } }>(`{ files(workspaceId: "default") { totalCount } }`);
    expect(listing.data.files.totalCount).toBe(0);
  });

  it("answers 401 UNAUTHENTICATED for a wrong key", async () => {
    const response = await server.graphql(createMutation, undefined, { authorization: "Bearer not-the-key" });
    expect(response.status).toBe(401);
    expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(response.data).toBeFalsy();
  });

  it("lets the bootstrap key see workspace default", async () => {
    const response = await server.graphql<{ viewer: { workspaces: { slug: string }[] } }>(`{ viewer { workspaces { slug name } } }`);
    expect(response.data.viewer.workspaces.map((workspace) => workspace.slug)).toEqual(["default"]);
  });

  it("serves introspection without a key so GraphiQL can load", async () => {
    const response = await server.graphql<{ __schema: { queryType: { name: string } } }>(
      `{ __schema { queryType { name } } }`,
      undefined,
      { authorization: "" },
    );
    expect(response.data.__schema.queryType.name).toBe("Query");
  });

  it("serves GraphiQL to a browser at /graphql", async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/graphiql/i);
  });

});
