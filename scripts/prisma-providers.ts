// Derives the provider-specific Prisma schemas from the one source, prisma/schema.prisma, and
// runs the Prisma CLI on them. The CLI runs offline through the WebAssembly schema engine
// (see prisma.config.ts), which needs a DATABASE_URL of the schema's provider even when no
// database is contacted; nothing here connects to a database.
//
//   tsx scripts/prisma-providers.ts generate        derived schemas + a client per provider
//   tsx scripts/prisma-providers.ts diff <name>     a new migration per provider from the datamodel diff
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const providers = ["sqlite", "postgresql"] as const;
export type SchemaProvider = (typeof providers)[number];

const root = fileURLToPath(new URL("..", import.meta.url));
export const sourceSchemaFile = path.join(root, "prisma", "schema.prisma");
/** The source schema as it was when the newest migrations were written by `diff`. */
export const migratedSchemaFile = path.join(root, "prisma", "migrations", "schema.prisma");
const migrationsDir = (provider: SchemaProvider) => path.join(root, "prisma", "migrations", provider);

/** Where the schema the CLI uses for a provider lives: the source itself for SQLite. */
export function schemaFileOf(provider: SchemaProvider): string {
  return provider === "sqlite" ? sourceSchemaFile : path.join(root, "prisma", provider, "schema.prisma");
}

const placeholderUrl: Record<SchemaProvider, (dir: string) => string> = {
  sqlite: (dir) => `file:${path.join(dir, "placeholder.db")}`,
  postgresql: () => "postgresql://placeholder@127.0.0.1:5432/placeholder",
};

/**
 * The schema text for a provider, from the source text: the datasource provider swapped, the
 * client written to src/db/generated/<provider>, and the Pothos types left to the source (they
 * are typed against the SQLite client; both clients share the datamodel).
 */
export function deriveSchema(source: string, provider: SchemaProvider): string {
  if (provider === "sqlite") return source;
  const withoutPothos = source.replace(/\ngenerator pothos \{[^}]*\}\n/, "\n");
  const derived = withoutPothos
    .replace(/provider = "sqlite"/, `provider = "${provider}"`)
    .replace(/output\s*=\s*"\.\.\/src\/db\/generated\/sqlite"/, `output     = "../../src/db/generated/${provider}"`)
    .replace(
      /^\/\/ The one source schema\.[^\n]*\n(\/\/[^\n]*\n)*/,
      `// Derived from prisma/schema.prisma by scripts/prisma-providers.ts (npm run generate). Do not edit.\n`,
    );
  if (derived === withoutPothos || !derived.includes(`provider = "${provider}"`)) {
    throw new Error(`could not derive the ${provider} schema: prisma/schema.prisma no longer has the expected shape`);
  }
  return derived;
}

function prisma(provider: SchemaProvider, args: string[], schemaFile: string): string {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "prisma-cli-"));
  try {
    return execFileSync("npx", ["prisma", ...args], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, DATABASE_URL: placeholderUrl[provider](scratch), PRISMA_SCHEMA: schemaFile },
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function writeDerivedSchemas(): void {
  const source = readFileSync(sourceSchemaFile, "utf8");
  for (const provider of providers) {
    if (provider === "sqlite") continue;
    mkdirSync(path.dirname(schemaFileOf(provider)), { recursive: true });
    writeFileSync(schemaFileOf(provider), deriveSchema(source, provider));
  }
}

function generate(): void {
  writeDerivedSchemas();
  for (const provider of providers) {
    process.stdout.write(prisma(provider, ["generate", "--schema", schemaFileOf(provider)], schemaFileOf(provider)));
  }
}

/** Writes migration `<next number>_<name>` for every provider whose SQL changes. */
function diff(name: string): void {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`migration name must be lower_snake_case, got "${name}"`);
  writeDerivedSchemas();
  const scratch = mkdtempSync(path.join(os.tmpdir(), "prisma-diff-"));
  try {
    const previous = readFileSync(migratedSchemaFile, "utf8");
    const current = readFileSync(sourceSchemaFile, "utf8");
    for (const provider of providers) {
      const from = path.join(scratch, `${provider}-from.prisma`);
      const to = path.join(scratch, `${provider}-to.prisma`);
      writeFileSync(from, deriveSchema(previous, provider));
      writeFileSync(to, deriveSchema(current, provider));
      const sql = prisma(
        provider,
        ["migrate", "diff", "--from-schema-datamodel", from, "--to-schema-datamodel", to, "--script"],
        to,
      );
      if (!/^\s*(CREATE|ALTER|DROP|PRAGMA|INSERT|UPDATE|DELETE)/m.test(sql)) {
        console.log(`${provider}: no change`);
        continue;
      }
      const dir = migrationsDir(provider);
      const numbers = readdirSync(dir)
        .map((entry) => Number.parseInt(entry, 10))
        .filter(Number.isFinite);
      const folder = path.join(dir, `${String(Math.max(0, ...numbers) + 1).padStart(4, "0")}_${name}`);
      mkdirSync(folder);
      writeFileSync(path.join(folder, "migration.sql"), sql);
      console.log(`${provider}: wrote ${path.relative(root, folder)}/migration.sql`);
    }
    writeFileSync(migratedSchemaFile, current);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [command, name] = process.argv.slice(2);
  if (command === "generate") generate();
  else if (command === "diff" && name !== undefined) diff(name);
  else {
    console.error("usage: tsx scripts/prisma-providers.ts generate | diff <migration_name>");
    process.exit(2);
  }
  if (!existsSync(migratedSchemaFile))
    console.warn(`${migratedSchemaFile} is missing: copy the schema of the newest migration there`);
}
