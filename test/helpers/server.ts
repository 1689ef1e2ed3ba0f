import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { type App, createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { providerOf } from "../../src/db/client.js";
import { createHttpServer, serveApp } from "../../src/http/node-server.js";
import { startAzurite } from "./azurite.js";
import { createTestDatabase, type TestDatabase } from "./database.js";
import { s3TestCredentials, startS3Server } from "./s3-server.js";

export const apiKey = "test-admin-key";

const allDrivers = ["local", "s3", "azure"] as const;
export type TestDriver = (typeof allDrivers)[number];

/**
 * The storage drivers the end-to-end suites run on: all three in one `npm test`, or only the one
 * TEST_STORAGE_DRIVER names.
 */
export const testDrivers: TestDriver[] = allDrivers.filter(
  (driver) => (process.env.TEST_STORAGE_DRIVER ?? driver) === driver,
);

export interface TestServer {
  /** Base URL, e.g. http://127.0.0.1:43123 */
  url: string;
  app: App;
  /** The storage driver the server runs on. */
  driver: TestDriver;
  /** Temporary directory holding the objects (and the SQLite database). */
  dataDir: string;
  /** The server's own fresh database. */
  database: TestDatabase;
  /** Where the local driver keeps objects. */
  objectsDir: string;
  /** Sends a GraphQL request with the admin key (or the given headers). */
  graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export interface GraphQLResponse<T> {
  status: number;
  headers: Headers;
  data: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/**
 * Starts the real server on a free port over a fresh temporary data directory. `env` adds or
 * overrides environment variables (limits, drivers). The server gets a fresh database of the
 * run's provider (helpers/database.ts: SQLite, or PostgreSQL when TEST_DATABASE_PROVIDER says
 * so), removed at close; `env.DATABASE_URL` replaces it with one the caller owns. With driver
 * "s3" an s3rver with a fresh bucket is started on loopback too; the server finds its
 * credentials through the AWS SDK's default chain (the environment), as in production. With
 * "azure" the server gets a fresh container on this test file's Azurite (helpers/azurite.ts).
 * `options.logs` collects the server's log lines from `info` up, as JSON objects.
 */
export async function startServer(
  env: Record<string, string> = {},
  driver: TestDriver = "local",
  options: { logs?: Record<string, unknown>[] } = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "files-test-"));
  const s3 = driver === "s3" ? await startS3Server() : undefined;
  const azure = driver === "azure" ? await startAzurite() : undefined;
  if (s3 !== undefined) {
    process.env.AWS_ACCESS_KEY_ID = s3TestCredentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3TestCredentials.secretAccessKey;
  }
  const objectsDir = path.join(dataDir, "objects");
  const database: TestDatabase =
    env.DATABASE_URL === undefined
      ? await createTestDatabase(dataDir)
      : { provider: providerOf(env.DATABASE_URL), url: env.DATABASE_URL, drop: async () => undefined };
  const server: Server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadConfig({
    DATABASE_URL: database.url,
    STORAGE_LOCAL_DIR: objectsDir,
    PUBLIC_URL: url,
    SIGNING_SECRET: "test-signing-secret",
    BOOTSTRAP_API_KEY: apiKey,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    // Every test talks from 127.0.0.1; the rate-limit tests set their own budgets.
    RATE_LIMIT_PER_MINUTE: "1000000",
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000000",
    ...s3?.env,
    ...azure?.env,
    ...env,
  });
  let app: App;
  try {
    // With `options.logs`, the server's log lines (info and above: the access log too) are collected there.
    const { logs } = options;
    const logger =
      logs === undefined
        ? pino({ level: config.logLevel })
        : pino(
            { level: "info" },
            { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
          );
    app = await createApp(config, logger);
  } catch (error) {
    server.close();
    await database.drop();
    await s3?.close();
    await azure?.close();
    throw error;
  }
  serveApp(server, app, config);

  return {
    url,
    app,
    driver,
    dataDir,
    database,
    objectsDir,
    async graphql<T>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) {
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}`, ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data: T; errors?: GraphQLResponse<T>["errors"] };
      return { status: response.status, headers: response.headers, data: body.data, errors: body.errors };
    },
    async close() {
      await app.closeWebSockets();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
      await s3?.close();
      await azure?.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
