// Applies the database migrations (`npm run db:migrate`); the server also does this at start.
import { loadConfig } from "../src/config.js";
import { migrate } from "../src/db/migrate.js";

const applied = await migrate(loadConfig().databaseUrl);
console.log(applied.length === 0 ? "database is up to date" : `applied ${applied.join(", ")}`);
