import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { createDb, type Db, type Provider } from "../../src/db/client.js";
import { migrate } from "../../src/db/migrate.js";

/**
 * The provider this test run uses: `TEST_DATABASE_PROVIDER=postgresql` runs the suite on
 * PostgreSQL (scripts/test.ts sets it for the second run); SQLite otherwise.
 */
export const testProvider: Provider = process.env.TEST_DATABASE_PROVIDER === "postgresql" ? "postgresql" : "sqlite";

/** A PostgreSQL URL whose user may create databases; test databases are made next to it. */
export const postgresAdminUrl = process.env.TEST_POSTGRES_URL || "postgresql://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  provider: Provider;
  /** DATABASE_URL of the fresh, empty database. */
  url: string;
  /** Removes the database (a no-op for SQLite, whose file goes with its directory). */
  drop(): Promise<void>;
}

/** The URL of database `name` on the server `adminUrl` points at. */
export function postgresDatabaseUrl(name: string, adminUrl = postgresAdminUrl): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresAdminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh empty database for one test server: a SQLite file in `dir`, or a PostgreSQL
 * database `files_test_<random>` created from the admin URL and dropped afterwards.
 */
export async function createTestDatabase(dir: string, provider: Provider = testProvider): Promise<TestDatabase> {
  if (provider === "sqlite") {
    return { provider, url: `file:${path.join(dir, "app.db")}`, drop: async () => undefined };
  }
  const name = `files_test_${randomBytes(6).toString("hex")}`;
  await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
  return {
    provider,
    url: postgresDatabaseUrl(name),
    // FORCE ends connections a crashed test may have left open (PostgreSQL 13+).
    drop: () =>
      withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** A fresh database migrated to this code's schema, with the server's Prisma client on it. */
export interface MigratedDatabase {
  url: string;
  db: Db;
  /** Disconnects the client and removes the database and its directory. */
  close(): Promise<void>;
}

/** A fresh database (createTestDatabase in a new temporary directory named `prefix`…), migrated. */
export async function createMigratedDatabase(prefix: string): Promise<MigratedDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const database = await createTestDatabase(dir);
  await migrate(database.url);
  const db = createDb(database.url);
  return {
    url: database.url,
    db,
    close: async () => {
      await db.$disconnect();
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs one SQL statement on a test database outside Prisma and returns its rows. Parameters
 * are written `$1`, `$2`… for both providers.
 */
export async function execute(url: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  if (url.startsWith("file:")) {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(url.replace(/^file:/, ""));
    try {
      // `$n` becomes `?`, with the parameters repeated in the order they are referred to.
      const ordered: unknown[] = [];
      const statement = db.prepare(
        sql.replace(/\$(\d+)/g, (_match, index: string) => {
          ordered.push(params[Number(index) - 1]);
          return "?";
        }),
      );
      if (statement.reader) return statement.all(...ordered) as Record<string, unknown>[];
      statement.run(...ordered);
      return [];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}
