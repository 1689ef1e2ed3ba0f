import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../src/access/admin.js";
import { createFileMutation } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const createMutation = `mutation { createFile(input: { workspaceId: "default", name: "a.txt" }) { __typename } }`;
const anonymous = { authorization: "" };

describe("the gate", () => {
  it("answers an anonymous query as the anonymous caller, who sees no private workspace", async () => {
    const response = await server.graphql<{ viewer: { workspaces: { slug: string }[] }; workspace: null }>(
      `{ viewer { workspaces { slug } } workspace(id: "default") { slug } }`,
      undefined,
      anonymous,
    );
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ viewer: { workspaces: [] }, workspace: null });
  });

  it("answers an anonymous mutation with 401 UNAUTHENTICATED and creates nothing", async () => {
    const response = await server.graphql(createMutation, undefined, anonymous);
    expect(response.status).toBe(401);
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
    expect(await server.app.db.file.count()).toBe(0);
  });

  it("answers a wrong key with 401 UNAUTHENTICATED saying the key is not valid", async () => {
    const response = await server.graphql(createMutation, undefined, { authorization: "Bearer not-the-key" });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(response.errors?.[0]?.message).toMatch(/API key is not valid/);
    expect(response.data).toBeFalsy();
  });

  it("answers another authorization scheme with 401 saying what is wrong", async () => {
    const basic = await server.graphql(`{ viewer { workspaces { slug } } }`, undefined, {
      authorization: "Basic dXNlcjpwYXNz",
    });
    expect(basic.status).toBe(401);
    expect(basic.errors?.[0]?.message).toMatch(/must be: Bearer/);
  });

  it("answers a header too large for HTTP with 431, before any of the server's code", async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${"k".repeat(20_000)}` },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(response.status).toBe(431);
  });

  it("lets the bootstrap key see workspace default, as its ADMIN", async () => {
    const response = await server.graphql<{ viewer: { workspaces: { slug: string; viewerRole: string }[] } }>(
      `{ viewer { workspaces { slug viewerRole } } }`,
    );
    expect(response.data.viewer.workspaces).toEqual([{ slug: "default", viewerRole: "ADMIN" }]);
  });

  it("serves GraphiQL's full introspection query without a key, within the document limits", async () => {
    const query = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    });
    const response = await server.graphql<{ __schema: { queryType: { name: string }; types: unknown[] } }>(
      query,
      undefined,
      anonymous,
    );
    expect(response.errors).toBeUndefined();
    expect(response.data.__schema.queryType.name).toBe("Query");
    expect(response.data.__schema.types.length).toBeGreaterThan(20);
  });

  it("serves GraphiQL to a browser at /graphql", async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/graphiql/i);
  });

  it("answers FORBIDDEN with HTTP 403 naming the role, for a READER's write", async () => {
    const reader = await createApiKey(server.app.db, "default", "READER");
    const response = await server.graphql(
      createFileMutation,
      { input: { workspaceId: "default", name: "r.txt" } },
      {
        authorization: `Bearer ${reader}`,
      },
    );
    expect(response.status).toBe(403);
    expect(response.errors).toEqual([
      expect.objectContaining({
        message: "this needs the WRITER role in the workspace",
        extensions: { code: "FORBIDDEN", requiredRole: "WRITER", requestId: response.headers.get("x-request-id") },
      }),
    ]);
  });
});
