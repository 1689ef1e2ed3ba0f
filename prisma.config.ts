// Prisma CLI configuration. The `js` engine runs the schema engine as WebAssembly through a
// driver adapter, so no native engine is downloaded (the machines reach only npm).
import path from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { defineConfig } from "prisma/config";

// The schema's `url = env("DATABASE_URL")` must resolve even for commands that need no
// database (generate, migrate diff); without it the CLI falls back to downloading an engine.
process.env.DATABASE_URL ??= "file:./data/app.db";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  async adapter() {
    return new PrismaBetterSQLite3({ url: process.env.DATABASE_URL });
  },
});
