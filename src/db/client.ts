import { mkdirSync } from "node:fs";
import path from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "./generated/sqlite/client.js";

export type Db = PrismaClient;
export type Provider = "sqlite" | "postgresql";

export function providerOf(databaseUrl: string): Provider {
  return /^postgres(ql)?:\/\//.test(databaseUrl) ? "postgresql" : "sqlite";
}

/** Path of the SQLite database file named by a `file:` URL, relative to the working directory. */
export function sqlitePath(databaseUrl: string): string {
  return path.resolve(databaseUrl.replace(/^file:/, "").replace(/\?.*$/, ""));
}

/** Opens the Prisma client for the database the URL names. */
export function createDb(databaseUrl: string): Db {
  const provider = providerOf(databaseUrl);
  if (provider !== "sqlite") throw new Error(`unsupported database provider: ${provider}`);
  const file = sqlitePath(databaseUrl);
  mkdirSync(path.dirname(file), { recursive: true });
  // A writer waits up to 10 s for another connection's lock instead of failing at once.
  return new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: `file:${file}`, timeout: 10_000 }) });
}
