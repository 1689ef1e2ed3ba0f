// Workspaces and API keys from the command line: `npm run admin -- <command> …`.
import { parseArgs } from "node:util";
import { createApiKey, createWorkspace, revokeApiKey, roles } from "../src/access/admin.js";
import type { Role } from "../src/access/caller.js";
import { loadConfig } from "../src/config.js";
import { createDb } from "../src/db/client.js";
import { migrate } from "../src/db/migrate.js";

const usage = `usage: npm run admin -- <command>
  create-workspace <slug> [--name <name>] [--public]
  create-key <workspace-slug> [--role ADMIN|WRITER|READER] [--label <text>]   (role defaults to WRITER)
  revoke-key <key>`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { name: { type: "string" }, public: { type: "boolean" }, role: { type: "string" }, label: { type: "string" } },
});
const [command, argument] = positionals;
const config = loadConfig();
await migrate(config.databaseUrl);
const db = createDb(config.databaseUrl);
try {
  if (command === "create-workspace" && argument) {
    await createWorkspace(db, argument, values.name, values.public ?? false);
    console.log(`created workspace ${argument}`);
  } else if (command === "create-key" && argument) {
    const role = (values.role ?? "WRITER").toUpperCase();
    if (!roles.includes(role as Role)) throw new Error(`--role must be one of ${roles.join(", ")}`);
    console.log(await createApiKey(db, argument, role as Role, values.label));
  } else if (command === "revoke-key" && argument) {
    console.log((await revokeApiKey(db, argument)) ? "revoked" : "no such key");
  } else {
    console.error(usage);
    process.exitCode = 2;
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
