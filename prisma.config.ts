// Prisma CLI configuration. The `js` engine runs the schema engine as WebAssembly through a
// driver adapter, so no native engine is downloaded (the machines reach only npm).
//
// The CLI is only used through scripts/prisma-providers.ts, for `generate` and for
// `migrate diff` between two datamodels; migrations are applied by our own runner
// (src/db/migrate.ts). Neither command needs a database, but the js engine wants an adapter:
// a SQLite one on a scratch file serves the PostgreSQL schema too and never contacts a server
// (the PostgreSQL adapter would connect, and its schema engine hits prisma/orm#27403).
import os from "node:os";
import path from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { defineConfig } from "prisma/config";

// The schema's `url = env("DATABASE_URL")` must resolve to a URL of the schema's provider even
// for commands that need no database; without it the CLI falls back to downloading an engine.
process.env.DATABASE_URL ??= "file:./data/app.db";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  // PRISMA_SCHEMA selects a derived provider schema (prisma/postgresql/schema.prisma).
  schema: process.env.PRISMA_SCHEMA ?? path.join("prisma", "schema.prisma"),
  async adapter() {
    const url = process.env.DATABASE_URL ?? "";
    return new PrismaBetterSQLite3({
      url: url.startsWith("file:") ? url : `file:${path.join(os.tmpdir(), "prisma-cli-scratch.db")}`,
    });
  },
});
