import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { type Provider, providerOf, sqlitePath } from "./client.js";

const migrationsRoot = fileURLToPath(new URL("../../prisma/migrations/", import.meta.url));

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

/** The migrations this code knows for a provider, in the order they apply. */
export function knownMigrations(provider: Provider): Migration[] {
  const dir = path.join(migrationsRoot, provider);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

/** Raised when the database cannot be brought to this code's schema. */
class MigrationError extends Error {
  override name = "MigrationError";
}

/**
 * Compares what the database has applied with what this code knows: refuses a database that is
 * newer than the code (it has migrations the code lacks) or whose applied migrations differ.
 * Returns the migrations still to apply.
 */
function pendingMigrations(known: Migration[], applied: { name: string; checksum: string }[]): Migration[] {
  const knownByName = new Map(known.map((migration) => [migration.name, migration]));
  for (const row of applied) {
    const migration = knownByName.get(row.name);
    if (migration === undefined) {
      throw new MigrationError(
        `the database has migration ${row.name}, which this code does not know: it is newer than this code; upgrade the server`,
      );
    }
    if (migration.checksum !== row.checksum) {
      throw new MigrationError(`migration ${row.name} was changed after it was applied`);
    }
  }
  const appliedNames = new Set(applied.map((row) => row.name));
  return known.filter((migration) => !appliedNames.has(migration.name));
}

/**
 * Brings the database to this code's schema and returns the names of the migrations it applied.
 * Safe to run from several processes at once. `migrations` defaults to every migration this code
 * knows for the provider (tests pass fewer to build an older release's database).
 */
export async function migrate(databaseUrl: string, migrations?: Migration[]): Promise<string[]> {
  const provider = providerOf(databaseUrl);
  const known = migrations ?? knownMigrations(provider);
  return provider === "sqlite" ? migrateSqlite(databaseUrl, known) : migratePostgres(databaseUrl, known);
}

/** Any fixed number, the same in every instance: the advisory lock that serializes migrations. */
const migrationLockKey = 72_707_369;

/**
 * One instance applies, the others wait: a session-level advisory lock is held from reading
 * `_migrations` to the last commit, so a second instance blocks on the lock and then finds
 * nothing pending. Each migration runs in its own transaction with its `_migrations` row.
 */
async function migratePostgres(databaseUrl: string, known: Migration[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [migrationLockKey]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS "_migrations" ("name" TEXT PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TEXT NOT NULL)`,
    );
    const applied = await client.query<{ name: string; checksum: string }>(
      `SELECT "name", "checksum" FROM "_migrations"`,
    );
    const pending = pendingMigrations(known, applied.rows);
    for (const migration of pending) {
      await client.query("BEGIN");
      try {
        await client.query(migration.sql);
        await client.query(`INSERT INTO "_migrations" ("name", "checksum", "appliedAt") VALUES ($1, $2, $3)`, [
          migration.name,
          migration.checksum,
          new Date().toISOString(),
        ]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    return pending.map((migration) => migration.name);
  } finally {
    // Closing the session releases the advisory lock too, even when unlocking fails.
    await client.query("SELECT pg_advisory_unlock($1)", [migrationLockKey]).catch(() => undefined);
    await client.end();
  }
}

function migrateSqlite(databaseUrl: string, known: Migration[]): string[] {
  const file = sqlitePath(databaseUrl);
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { timeout: 30_000 });
  try {
    // WAL lets readers go on while a writer commits; the setting is stored in the file.
    db.pragma("journal_mode = WAL");
    // Prisma writes SQLite table changes as "create new table, copy, drop old": with foreign
    // keys enforced, dropping the old table would cascade-delete the rows referring to it.
    // The pragma is ignored inside a transaction, so it is set here; foreign_key_check below
    // verifies the result before commit.
    db.pragma("foreign_keys = OFF");
    // SQLite has no SHA-256 of its own; migration 0006_a_metadata hashes metadata values with it.
    db.function("sha256_hex", { deterministic: true }, (text: unknown) =>
      createHash("sha256").update(String(text), "utf8").digest("hex"),
    );
    db.exec(
      `CREATE TABLE IF NOT EXISTS "_migrations" ("name" TEXT PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TEXT NOT NULL)`,
    );
    // BEGIN IMMEDIATE takes the write lock up front: a second process waits here, then sees
    // the migrations the first applied.
    const run = db.transaction(() => {
      const applied = db.prepare(`SELECT "name", "checksum" FROM "_migrations"`).all() as {
        name: string;
        checksum: string;
      }[];
      const pending = pendingMigrations(known, applied);
      const record = db.prepare(`INSERT INTO "_migrations" ("name", "checksum", "appliedAt") VALUES (?, ?, ?)`);
      for (const migration of pending) {
        try {
          db.exec(migration.sql);
        } catch (error) {
          throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
        }
        const violations = db.pragma("foreign_key_check") as unknown[];
        if (violations.length > 0) {
          throw new MigrationError(
            `migration ${migration.name} leaves ${violations.length} rows with broken foreign keys`,
          );
        }
        record.run(migration.name, migration.checksum, new Date().toISOString());
      }
      return pending.map((migration) => migration.name);
    });
    return run.immediate();
  } finally {
    db.close();
  }
}
