// `npm run db:backup -- <file>`: a consistent copy of the SQLite database while the server runs
// (SQLite's online backup API, through better-sqlite3). PostgreSQL: use pg_dump.
import Database from "better-sqlite3";
import { loadConfig } from "../src/config.js";
import { providerOf, sqlitePath } from "../src/db/client.js";

const target = process.argv[2];
const { databaseUrl } = loadConfig();
if (target === undefined) {
  console.error("usage: npm run db:backup -- <file>");
  process.exit(2);
}
if (providerOf(databaseUrl) !== "sqlite") {
  console.error("DATABASE_URL is PostgreSQL: back it up with pg_dump");
  process.exit(2);
}
const db = new Database(sqlitePath(databaseUrl), { readonly: true, fileMustExist: true });
try {
  const { totalPages } = await db.backup(target);
  console.log(`backed up ${sqlitePath(databaseUrl)} to ${target} (${totalPages} pages)`);
} finally {
  db.close();
}
