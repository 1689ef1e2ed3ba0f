// `npm test`: the whole suite on SQLite, then again on PostgreSQL (each test server creates and
// drops its own database there). TEST_POSTGRES_URL names the PostgreSQL server (default
// postgresql://postgres@127.0.0.1:5432/postgres; its user must be allowed to CREATE DATABASE).
// When it is unreachable the PostgreSQL run is skipped with a message, or fails under CI=true.
// Extra arguments go to vitest (`npm test -- test/flow.test.ts`).
import { spawnSync } from "node:child_process";
import pg from "pg";

const adminUrl = process.env.TEST_POSTGRES_URL || "postgresql://postgres@127.0.0.1:5432/postgres";
const args = process.argv.slice(2);
const ci = /^(1|true)$/i.test(process.env.CI ?? "");

function vitest(provider: "sqlite" | "postgresql"): boolean {
  console.log(`\n=== test run on ${provider} ===\n`);
  const result = spawnSync("npx", ["vitest", "run", ...args], {
    stdio: "inherit",
    env: { ...process.env, TEST_DATABASE_PROVIDER: provider, TEST_POSTGRES_URL: adminUrl },
  });
  return result.status === 0;
}

async function postgresUnreachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const redacted = adminUrl.replace(/\/\/[^@/]*@/, "//…@");
const results: string[] = [];
const sqliteOk = vitest("sqlite");
results.push(`SQLite: ${sqliteOk ? "passed" : "FAILED"}`);
let postgresOk = true;
const reason = await postgresUnreachable();
if (reason === undefined) {
  postgresOk = vitest("postgresql");
  results.push(`PostgreSQL (${redacted}): ${postgresOk ? "passed" : "FAILED"}`);
} else if (ci) {
  postgresOk = false;
  results.push(`PostgreSQL: FAILED: ${redacted} is unreachable (${reason}) and CI=true requires it`);
} else {
  results.push(`PostgreSQL run skipped: ${redacted} is unreachable (${reason}); set TEST_POSTGRES_URL to run it`);
}
console.log(`\n=== summary ===\n${results.join("\n")}`);
process.exit(sqliteOk && postgresOk ? 0 : 1);
