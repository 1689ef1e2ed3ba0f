// `npm run db:migrate`: applies pending migrations to DATABASE_URL, as the server does at start.
import { migrate } from "../src/db/migrate.js";

const applied = await migrate(process.env.DATABASE_URL || "file:./data/app.db");
console.log(applied.length > 0 ? `applied ${applied.join(", ")}` : "the database is up to date");
