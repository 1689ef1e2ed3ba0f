import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFile, putBytes } from "./helpers/files.js";
import { startServer, type TestServer } from "./helpers/server.js";

const origin = "https://app.example.com";
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ CORS_ORIGINS: origin });
});
afterAll(() => server.close());

describe("CORS", () => {
  it("answers a preflight for a signed upload URL from an allowed origin", async () => {
    const created = await createFile(server, { name: "cors.txt" });
    const response = await fetch(created.upload!.url!, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "PUT",
        "access-control-request-headers": "content-type,if-none-match",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(origin);
    expect(response.headers.get("access-control-allow-methods")).toContain("PUT");
  });

  it("exposes ETag on an upload so a browser can complete multipart uploads", async () => {
    const created = await createFile(server, { name: "etag.txt" });
    const response = await putBytes(created.upload!, Buffer.from("x"), { origin });
    expect(response.headers.get("access-control-allow-origin")).toBe(origin);
    expect(response.headers.get("access-control-expose-headers")).toContain("ETag");
  });

  it("answers GraphQL requests from an allowed origin", async () => {
    const response = await server.graphql(`{ __typename }`, undefined, { origin });
    expect(response.headers.get("access-control-allow-origin")).toBe(origin);
  });

  it("gives other origins no CORS headers", async () => {
    const response = await server.graphql(`{ __typename }`, undefined, { origin: "https://evil.example" });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});
