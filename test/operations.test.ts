import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProvider } from "./helpers/database.js";
import { uploadFile } from "./helpers/files.js";
import { apiKey, startServer, type TestServer } from "./helpers/server.js";

const metricsToken = "metrics-secret-token";
const logs: Record<string, unknown>[] = [];
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ METRICS_TOKEN: metricsToken, RATE_LIMIT_ANONYMOUS_PER_MINUTE: "3" }, "local", { logs });
});
afterAll(() => server.close());

const accessLines = () => logs.filter((line) => line.msg === "request");

describe("access log", () => {
  it("logs one line per request with its route, status, sizes, duration, principal and operation", async () => {
    const response = await server.graphql(`query Listing { files(workspaceId: "default") { totalCount } }`);
    const requestId = response.headers.get("x-request-id");
    await expect.poll(() => accessLines().find((line) => line.requestId === requestId)).toBeDefined();
    const line = accessLines().find((entry) => entry.requestId === requestId);
    expect(line).toMatchObject({
      level: 30,
      method: "POST",
      route: "/graphql",
      status: 200,
      operations: ["query Listing"],
      completed: true,
    });
    expect(line?.principal).toMatch(/^key:[\w-]+$/);
    expect(line?.bytesIn).toBeGreaterThan(50);
    expect(line?.bytesOut).toBeGreaterThan(20);
    expect(typeof line?.durationMs).toBe("number");
  });

  it("never logs keys, tokens or URL signatures", async () => {
    const file = await uploadFile(server, { workspaceId: "default", name: "log.txt" }, Buffer.from("logged"));
    const download = new URL(file.downloadUrl ?? "");
    expect(download.search).not.toBe("");
    expect((await fetch(download)).status).toBe(200);
    await expect.poll(() => accessLines().some((line) => String(line.route).startsWith("/downloads/"))).toBe(true);
    const text = JSON.stringify(logs);
    expect(text).not.toContain(apiKey);
    for (const value of download.searchParams.values()) expect(text).not.toContain(value);
    expect(accessLines().find((line) => String(line.route).startsWith("/downloads/"))?.route).toBe(download.pathname);
  });
});

describe("/metrics", () => {
  it("needs METRICS_TOKEN when it is set", async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(401);
  });

  it("reports GraphQL operations by name, HTTP requests and rate-limit refusals", async () => {
    await server.graphql(`query Counted { viewer { workspaces { slug } } }`);
    for (let i = 0; i < 4; i += 1) await server.graphql(`{ __typename }`, undefined, { authorization: "" });
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(
      /graphql_envelop_request_duration_count\{[^}]*operationName="Counted"[^}]*operationType="query"[^}]*\} 1/,
    );
    expect(text).toMatch(/http_request_duration_seconds_count\{route="\/graphql",method="POST",status="200"\} \d+/);
    expect(text).toMatch(/rate_limit_refusals_total\{budget="anonymous"\} [1-9]/);
  });

  it("reports uploads by outcome, method and driver, their bytes and durations, and the bytes downloads served", async () => {
    const metrics = async () =>
      (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    const count = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
    const completed = /uploads_total\{outcome="completed",method="PUT",driver="local",code=""\} (\d+)/;
    const bytes = /upload_bytes_total\{method="PUT",driver="local"\} (\d+)/;
    const served = /download_bytes_total (\d+)/;
    const before = await metrics();
    const file = await uploadFile(server, { workspaceId: "default", name: "counted.txt" }, Buffer.from("twelve bytes"));
    const { data } = await server.graphql<{ file: { downloadUrl: string } }>(
      `query ($id: ID!) { file(id: $id) { downloadUrl } }`,
      { id: file.id },
    );
    expect(await (await fetch(data.file.downloadUrl)).text()).toBe("twelve bytes");
    const after = await metrics();
    expect(count(after, completed)).toBe(count(before, completed) + 1);
    expect(count(after, bytes)).toBe(count(before, bytes) + 12);
    // The download's bytes are counted when its response closes on the server, a moment after
    // the client has read them.
    await expect.poll(async () => count(await metrics(), served)).toBeGreaterThan(count(before, served) + 12);
    expect(after).toMatch(/uploads_total\{outcome="started",method="PUT",driver="local",code=""\} [1-9]/);
    expect(after).toMatch(/upload_duration_seconds_count\{outcome="completed",method="PUT",driver="local"\} [1-9]/);
  });

  it("reports SQL statement durations, and the PostgreSQL pool on PostgreSQL", async () => {
    const metrics = async () =>
      (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    const selects = (text: string) =>
      Number(/db_statement_duration_seconds_count\{kind="SELECT"\} (\d+)/.exec(text)?.[1] ?? 0);
    const before = selects(await metrics());
    await server.graphql(`query { viewer { workspaces { slug } } }`);
    const after = await metrics();
    expect(selects(after)).toBeGreaterThan(before);
    if (testProvider === "postgresql") {
      expect(after).toMatch(/db_pool_connections\{state="total"\} [1-9]/);
      expect(after).toMatch(/db_pool_connections\{state="waiting"\} 0/);
    } else {
      expect(after).not.toMatch(/db_pool_connections/);
    }
  });
});
