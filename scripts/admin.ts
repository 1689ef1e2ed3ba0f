// Workspaces, API keys and OIDC roles from the command line: `npm run admin -- <command> …`.
import { parseArgs } from "node:util";
import {
  createApiKey,
  createWorkspace,
  grantCategory,
  grantRole,
  listKeys,
  listMembers,
  listWorkspaces,
  type OidcBinding,
  revokeApiKey,
  revokeRole,
} from "../src/access/admin.js";
import { loadConfig } from "../src/config.js";
import { createDb, Role } from "../src/db/client.js";
import { migrate } from "../src/db/migrate.js";

const usage = `usage: npm run admin -- <command>
  create-workspace <slug> [--name <name>] [--public]
  create-key <workspace-slug> [--role ADMIN|WRITER|READER] [--label <text>]   (role defaults to WRITER)
  revoke-key <key>
  grant <workspace-slug> (--subject <sub> | --group <group>) --role ADMIN|WRITER|READER [--issuer <url>]
  revoke <workspace-slug> (--subject <sub> | --group <group>) [--issuer <url>]
  grant-category <workspace-slug> <category> (--subject <sub> | --group <group> | --key-label <label>) [--issuer <url>]
  list-workspaces
  list-members <workspace-slug>
  list-keys <workspace-slug>
--issuer defaults to OIDC_ISSUER.`;

/** A usage mistake: printed with the usage, exit code 2. */
class UsageError extends Error {}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: "string" },
    public: { type: "boolean" },
    role: { type: "string" },
    label: { type: "string" },
    subject: { type: "string" },
    group: { type: "string" },
    issuer: { type: "string" },
    "key-label": { type: "string" },
  },
});

function role(fallback?: Role): Role {
  const value = (values.role ?? fallback ?? "").toUpperCase();
  const found = Object.values(Role).find((candidate) => candidate === value);
  if (found === undefined) throw new UsageError(`--role must be one of ${Object.values(Role).join(", ")}`);
  return found;
}

function binding(defaultIssuer: string | undefined): OidcBinding {
  const issuer = values.issuer ?? defaultIssuer;
  if (issuer === undefined) throw new UsageError("set OIDC_ISSUER or pass --issuer <url>");
  if ((values.subject === undefined) === (values.group === undefined))
    throw new UsageError("give exactly one of --subject or --group");
  return values.subject !== undefined ? { issuer, subject: values.subject } : { issuer, group: values.group ?? "" };
}

const [command, argument, second] = positionals;
const config = loadConfig();
await migrate(config.databaseUrl);
const db = createDb(config.databaseUrl);
try {
  if (command === "create-workspace" && argument) {
    await createWorkspace(db, argument, values.name, values.public ?? false);
    console.log(`created workspace ${argument}`);
  } else if (command === "create-key" && argument) {
    console.log(await createApiKey(db, argument, role("WRITER"), values.label));
  } else if (command === "revoke-key" && argument) {
    console.log((await revokeApiKey(db, argument)) ? "revoked" : "no such key");
  } else if (command === "grant" && argument) {
    const granted = binding(config.oidc?.issuer);
    await grantRole(db, argument, granted, role());
    console.log(`granted ${role()} in ${argument}`);
  } else if (command === "revoke" && argument) {
    console.log((await revokeRole(db, argument, binding(config.oidc?.issuer))) ? "revoked" : "no such member");
  } else if (command === "grant-category" && argument && second) {
    const category = Number(second);
    if (!/^\d+$/.test(second) || !Number.isSafeInteger(category) || category < 1)
      throw new UsageError("<category> must be a whole number from 1");
    const label = values["key-label"];
    const granted = label === undefined ? binding(config.oidc?.issuer) : { keyLabel: label };
    if (label !== undefined && (values.subject !== undefined || values.group !== undefined)) {
      throw new UsageError("give exactly one of --subject, --group or --key-label");
    }
    const changed = await grantCategory(db, argument, category, granted);
    console.log(`granted category ${category} in ${argument} (${changed} membership${changed === 1 ? "" : "s"})`);
  } else if (command === "list-workspaces") {
    for (const workspace of await listWorkspaces(db)) {
      console.log([workspace.slug, workspace.public ? "public" : "private", workspace.name].join("\t"));
    }
  } else if (command === "list-members" && argument) {
    for (const member of await listMembers(db, argument)) {
      console.log(
        [member.role, member.kind, member.subject ?? "", member.issuer ?? "", member.categories.join(",")].join("\t"),
      );
    }
  } else if (command === "list-keys" && argument) {
    for (const key of await listKeys(db, argument)) {
      const state = key.revokedAt === null ? "active" : `revoked ${key.revokedAt.toISOString()}`;
      console.log([key.id, key.role, key.label ?? "", key.createdAt.toISOString(), state].join("\t"));
    }
  } else {
    throw new UsageError(
      command === undefined ? "no command given" : `unknown command or missing argument: ${command}`,
    );
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  if (error instanceof UsageError) console.error(usage);
  process.exitCode = error instanceof UsageError ? 2 : 1;
} finally {
  await db.$disconnect();
}
