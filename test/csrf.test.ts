import { Client, fetchExchange, gql } from "@urql/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKey, startServer, type TestServer } from "./helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const fileCount = () => server.app.db.file.count();
const createMutation = `mutation { createFile(input: { workspaceId: "default", name: "forged.txt" }) { __typename } }`;

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

describe("CSRF prevention", () => {
  it("runs urql's default client, which sends queries as GET without a CSRF header", async () => {
    const methods: string[] = [];
    const client = new Client({
      url: `${server.url}/graphql`,
      exchanges: [fetchExchange],
      fetchOptions: { headers: { authorization: `Bearer ${apiKey}` } },
      fetch: (input, init) => {
        methods.push(init?.method ?? "GET");
        return fetch(input, init);
      },
    });
    const result = await client.query(gql`{ viewer { workspaces { slug } } }`, {}).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data).toEqual({ viewer: { workspaces: [{ slug: "default" }] } });
    expect(methods).toEqual(["GET"]);
  });

  it("refuses a mutation over GET with 405 and a code, creating nothing", async () => {
    const before = await fileCount();
    const response = await fetch(`${server.url}/graphql?query=${encodeURIComponent(createMutation)}`, {
      headers: { authorization: `Bearer ${apiKey}`, accept: "application/json" },
    });
    const body = (await response.json()) as GraphQLBody;
    expect(response.status).toBe(405);
    expect(body.errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
    expect(await fileCount()).toBe(before);
  });

  for (const contentType of ["text/plain", "application/x-www-form-urlencoded"]) {
    it(`refuses a ${contentType} POST without a CSRF header with code CSRF_HEADER_REQUIRED`, async () => {
      const before = await fileCount();
      const response = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": contentType },
        body: JSON.stringify({ query: createMutation }),
      });
      const body = (await response.json()) as GraphQLBody;
      expect(response.status).toBe(400);
      expect(body.errors?.[0]?.extensions?.code).toBe("CSRF_HEADER_REQUIRED");
      expect(body.errors?.[0]?.message).toContain("x-graphql-csrf");
      expect(await fileCount()).toBe(before);
    });
  }

  it("refuses a POST without a content type and without a CSRF header", async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}` },
      body: new Blob([JSON.stringify({ query: createMutation })]),
    });
    const body = (await response.json()) as GraphQLBody;
    expect(response.status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe("CSRF_HEADER_REQUIRED");
  });

  it("accepts a JSON POST without a CSRF header (browsers preflight it)", async () => {
    const response = await server.graphql<{ viewer: { workspaces: unknown[] } }>(`{ viewer { workspaces { slug } } }`);
    expect(response.status).toBe(200);
    expect(response.data.viewer.workspaces).toHaveLength(1);
  });
});
