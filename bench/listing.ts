// Listing at a million rows: seeds 1,000,000 files in one workspace (raw SQL, not GraphQL),
// then times `files(first: 50)` through the real HTTP server, 200 runs per query, per provider.
// BENCH_PROVIDERS=sqlite,postgresql (default both; PostgreSQL from TEST_POSTGRES_URL),
// BENCH_ROWS (default 1000000), BENCH_RUNS (default 200), BENCH_COUNT_RUNS (default 20: with
// totalCount, which counts every matching row, a run takes tens of milliseconds at this size; the
// p95 of 20 runs is the second slowest, where of the 3 runs earlier notes used it was the slowest).
// BENCH_KEEP=<name> keeps the seeded databases (SQLite in <tmpdir>/files-bench-<name>, PostgreSQL
// database files_bench_<name>) and reuses them on later runs, which then only migrate them (and
// add the security categories to a database kept before the seed had them).
// Each query runs for two callers: one who may read every file (the bootstrap key, holding both
// categories the seed uses) and a reader lacking one of them (BENCH_CALLERS=all,lacking picks).
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { pino } from "pino";
import { createApiKey, grantCategory } from "../src/access/admin.js";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { type Provider, sqlitePath } from "../src/db/client.js";
import { metadataValueHash } from "../src/files/metadata.js";
import {
  createTestDatabase,
  execute,
  postgresAdminUrl,
  postgresDatabaseUrl,
  type TestDatabase,
} from "../test/helpers/database.js";

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const runs = Number(process.env.BENCH_RUNS ?? 200);
const countRuns = Number(process.env.BENCH_COUNT_RUNS ?? 20);
const providers = (process.env.BENCH_PROVIDERS ?? "sqlite,postgresql").split(",") as Provider[];
/** BENCH_QUERIES: run only the queries whose names contain one of these comma-separated parts. */
const only = process.env.BENCH_QUERIES?.split(",");
const apiKey = "bench-key";
const callers = (process.env.BENCH_CALLERS ?? "all,lacking").split(",");
const keep = process.env.BENCH_KEEP;
if (keep !== undefined && !/^[a-z0-9_]+$/.test(keep)) throw new Error("BENCH_KEEP must be lower_snake_case");

/**
 * File i: directory /projects/p{i mod 100}/d{i/100 mod 10} (a project holds 1% of the files),
 * label l{i/100 mod 20} (5% each, independent of the project) and, for every 10th file, "important"; created one second
 * apart, so the default order is the insertion order reversed.
 */
function seedSql(provider: Provider, workspaceId: string): string[] {
  const numbers =
    provider === "postgresql"
      ? `SELECT i FROM generate_series(1, ${rows}) AS s(i)`
      : `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${rows}) SELECT i FROM s`;
  const createdAt =
    provider === "postgresql"
      ? `timestamp '2026-01-01' + i * interval '1 second'`
      : `strftime('%Y-%m-%dT%H:%M:%S.000+00:00', 1767225600 + i, 'unixepoch')`;
  // Integer division on both providers.
  const div = (a: string, b: number) => `(${a} / ${b})`;
  const id = provider === "postgresql" ? `'f' || lpad(i::text, 8, '0')` : `'f' || substr('0000000' || i, -8, 8)`;
  return [
    `INSERT INTO "File" ("id", "workspaceId", "name", "nameFolded", "nameSearch", "mimeType", "size", "status", "directory",
       "storageKey", "uploadMethod", "createdAt", "updatedAt", "uploadedAt")
     SELECT ${id}, '${workspaceId}', 'file-' || i || '.txt', 'file-' || i || '.txt', 'file-' || i || '.txt', 'text/plain', i * 10,
       'UPLOADED', '/projects/p' || (i % 100) || '/d' || (${div("i", 100)} % 10), 'bench/' || i, 'PUT',
       ${createdAt}, ${createdAt}, ${createdAt}
     FROM (${numbers}) AS n`,
    // Each file's directory and its ancestors but "/", as the service writes them.
    ...[
      "'/projects'",
      "'/projects/p' || (i % 100)",
      `'/projects/p' || (i % 100) || '/d' || (${div("i", 100)} % 10)`,
    ].map(
      (directory) => `INSERT INTO "FileAncestor" ("fileId", "workspaceId", "directory", "createdAt")
       SELECT ${id}, '${workspaceId}', ${directory}, ${createdAt} FROM (${numbers}) AS n`,
    ),
    `INSERT INTO "FileLabel" ("fileId", "workspaceId", "label")
     SELECT ${id}, '${workspaceId}', 'l' || (${div("i", 100)} % 20) FROM (${numbers}) AS n`,
    `INSERT INTO "FileLabel" ("fileId", "workspaceId", "label")
     SELECT ${id}, '${workspaceId}', 'important' FROM (${numbers}) AS n WHERE i % 10 = 0`,
    // Metadata { project: "p{i mod 100}" } (1% a value), as FileMetadata rows of the value's hash.
    `UPDATE "File" SET "metadata" = '{"project":"p' || (CAST(substr("id", 2) AS INTEGER) % 100) || '"}'`,
    `INSERT INTO "FileMetadata" ("fileId", "workspaceId", "key", "valueHash", "createdAt")
     SELECT ${id}, '${workspaceId}', 'project', CASE i % 100 ${projectHashes} END, ${createdAt} FROM (${numbers}) AS n`,
    // Asset {i mod 1000} + 1 (0.1% an asset), data set {i mod 50} + 1 (2% a data set).
    `INSERT INTO "FileAsset" ("fileId", "workspaceId", "assetId", "createdAt")
     SELECT ${id}, '${workspaceId}', i % 1000 + 1, ${createdAt} FROM (${numbers}) AS n`,
    `UPDATE "File" SET "dataSetId" = CAST(substr("id", 2) AS INTEGER) % 50 + 1`,
    ...categorySql(provider, workspaceId),
  ];
}

/**
 * Security categories, deterministic and independent of the other conditions' moduli: file i is in
 * category 1 when i mod 97 = 0 (1.03%: the lacking caller's hidden files) and in category 2 when
 * i mod 101 = 1 (0.99%: held by both callers); 103 files are in both. Ends with the statistics.
 */
function categorySql(provider: Provider, workspaceId: string): string[] {
  const number = `CAST(substr("id", 2) AS INTEGER)`;
  const rowsOf = (category: number, condition: string) =>
    `INSERT INTO "FileCategory" ("fileId", "workspaceId", "category")
     SELECT "id", '${workspaceId}', ${category} FROM "File" WHERE ${condition}`;
  return [
    rowsOf(1, `${number} % 97 = 0`),
    rowsOf(2, `${number} % 101 = 1`),
    `UPDATE "File" SET "securityCategories" = CASE WHEN ${number} % 101 <> 1 THEN '[1]'
       WHEN ${number} % 97 <> 0 THEN '[2]' ELSE '[1,2]' END WHERE ${number} % 97 = 0 OR ${number} % 101 = 1`,
    provider === "postgresql" ? `VACUUM ANALYZE` : `ANALYZE`,
  ];
}

/** CASE branches: the FileMetadata hash of the value "p{n}" for each n. */
const projectHashes = Array.from({ length: 100 }, (_, n) => `WHEN ${n} THEN '${metadataValueHash(`p${n}`)}'`).join(" ");

/**
 * Every 10th file has a point geoLocation spread over the globe (a fixed pseudo-random walk),
 * written in batches with its bounding box as the service writes them (the spatial index follows).
 */
function* geoBatches(): Generator<unknown[][]> {
  let state = 7;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  let files: unknown[][] = [];
  for (let i = 10; i <= rows; i += 10) {
    const longitude = Math.round((next() * 360 - 180) * 1e4) / 1e4;
    const latitude = Math.round((next() * 180 - 90) * 1e4) / 1e4;
    const id = `f${String(i).padStart(8, "0")}`;
    const feature = JSON.stringify({
      type: "Feature",
      properties: null,
      geometry: { type: "Point", coordinates: [longitude, latitude] },
    });
    files.push([id, feature, longitude, latitude]);
    if (files.length === 1000) {
      yield files;
      files = [];
    }
  }
  if (files.length > 0) yield files;
}

/** The PostgreSQL statement writing one batch of geoLocations (the spatial index follows). */
function geoStatement(batch: unknown[][]): [string, unknown[]] {
  let n = 0;
  const values = batch.map(() => `($${++n}, $${++n}, $${++n}, $${++n})`).join(", ");
  return [
    `UPDATE "File" f SET "geoLocation" = v.g, "geoMinLongitude" = v.x::float8, "geoMaxLongitude" = v.x::float8,
         "geoMinLatitude" = v.y::float8, "geoMaxLatitude" = v.y::float8 FROM (VALUES ${values}) AS v(id, g, x, y) WHERE f."id" = v.id`,
    batch.flat(),
  ];
}

async function seed(provider: Provider, url: string, workspaceId: string): Promise<void> {
  const statements = seedSql(provider, workspaceId);
  if (provider === "postgresql") {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const sql of statements.slice(0, -1)) await client.query(sql);
    for (const batch of geoBatches()) await client.query(...geoStatement(batch));
    await client.query(statements.at(-1) ?? "");
    await client.end();
    return;
  }
  const db = new Database(sqlitePath(url));
  const geo = db.prepare(
    `UPDATE "File" SET "geoLocation" = ?, "geoMinLongitude" = ?, "geoMaxLongitude" = ?, "geoMinLatitude" = ?, "geoMaxLatitude" = ? WHERE "id" = ?`,
  );
  db.transaction(() => {
    for (const sql of statements.slice(0, -1)) db.exec(sql);
    for (const batch of geoBatches()) for (const [id, feature, x, y] of batch) geo.run(feature, x, x, y, y, id);
  })();
  db.exec(statements.at(-1) ?? "");
  db.close();
}

const queries: Record<string, Record<string, unknown>> = {
  "default order": {},
  "directoryPrefix /projects/p42 (1%)": { directoryPrefix: "/projects/p42" },
  "labelsAny [l7] (5%)": { labelsAny: ["l7"] },
  "directoryPrefix + labelsAny (0.05%)": { directoryPrefix: "/projects/p42", labelsAny: ["l7"] },
  "metadata {project: p42} (1%)": { metadata: { project: "p42" } },
  "assetIdsAny [42] (0.1%)": { assetIdsAny: [42] },
  "assetIdsAny [1..10] (1%)": { assetIdsAny: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
  "dataSetIds [7] (2%)": { dataSetIds: [7] },
  "dataSetIds [7, 8, 9] (6%)": { dataSetIds: [7, 8, 9] },
  "geoIntersects 10° box (~0.02%)": {
    geoIntersects: { minLongitude: 10, minLatitude: 10, maxLongitude: 20, maxLatitude: 20 },
  },
  "geoIntersects 90° box (~1.2%)": {
    geoIntersects: { minLongitude: 0, minLatitude: 0, maxLongitude: 90, maxLatitude: 90 },
  },
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** A fresh database, or with BENCH_KEEP the kept one (created when missing), and whether it is kept. */
async function benchDatabase(provider: Provider): Promise<{ dataDir: string; database: TestDatabase }> {
  if (keep === undefined) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "files-bench-"));
    return { dataDir, database: await createTestDatabase(dataDir, provider) };
  }
  const dataDir = path.join(os.tmpdir(), `files-bench-${keep}`);
  await mkdir(dataDir, { recursive: true });
  if (provider === "sqlite")
    return {
      dataDir,
      database: { provider, url: `file:${path.join(dataDir, "app.db")}`, drop: async () => undefined },
    };
  const name = `files_bench_${keep}`;
  const exists = await execute(postgresAdminUrl, "SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  if (exists.length === 0) await execute(postgresAdminUrl, `CREATE DATABASE "${name}"`);
  return { dataDir, database: { provider, url: postgresDatabaseUrl(name), drop: async () => undefined } };
}

async function benchProvider(provider: Provider): Promise<void> {
  const { dataDir, database } = await benchDatabase(provider);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadConfig({
    DATABASE_URL: database.url,
    STORAGE_LOCAL_DIR: path.join(dataDir, "objects"),
    PUBLIC_URL: url,
    SIGNING_SECRET: "bench",
    BOOTSTRAP_API_KEY: apiKey,
    RATE_LIMIT_PER_MINUTE: "100000000",
    LOG_LEVEL: "silent",
  });
  const open = () => createApp(config, pino({ level: "silent" }));
  let app = await open();
  server.on("request", (request, response) => app.handler(request, response));
  try {
    const workspace = await app.db.workspace.findUniqueOrThrow({ where: { slug: "default" } });
    let started = performance.now();
    const files = Number((await execute(database.url, `SELECT count(*) AS files FROM "File"`))[0]?.files ?? 0);
    if (files === 0) {
      await seed(provider, database.url, workspace.id);
      console.log(`${provider}: seeded ${rows} files in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } else {
      console.log(`${provider}: reusing the ${files} files kept as BENCH_KEEP=${keep}`);
      if ((await app.db.fileCategory.count({ take: 1 })) === 0) {
        for (const sql of categorySql(provider, workspace.id)) await execute(database.url, sql);
        console.log(`${provider}: added the security categories to the kept files`);
      }
    }
    // Measured on connections opened after the seed's statistics: a SQLite connection open during
    // the seed keeps the empty tables' statistics, and its periodic optimize (src/db/sqlite-statistics.ts)
    // then writes sampled ones (2,001 files a workspace), with which a 10° box's page walked the
    // creation order (80 ms instead of 10).
    await app.close();
    app = await open();
    // The bootstrap key (Principal subject "bootstrap") holds both categories; a reader only the second.
    await grantCategory(app.db, "default", 1, { keyLabel: "bootstrap" });
    await grantCategory(app.db, "default", 2, { keyLabel: "bootstrap" });
    const lackingKey = await createApiKey(app.db, "default", "READER", "bench-lacking");
    await grantCategory(app.db, "default", 2, { keyLabel: "bench-lacking" });
    const keys: Record<string, string> = { all: apiKey, lacking: lackingKey };
    for (const [caller, key] of Object.entries(keys)) {
      if (!callers.includes(caller)) continue;
      for (const totalCount of [false, true]) {
        for (const [name, filter] of Object.entries(queries)) {
          if (only !== undefined && !only.some((part) => name.includes(part))) continue;
          const query = `query ($filter: FileFilter) { files(workspaceId: "default", first: 50, filter: $filter) {
          ${totalCount ? "totalCount" : ""} edges { cursor node { ${process.env.BENCH_FIELDS ?? "id name mimeType size status directory labels createdAt uploadedAt"} } }
          pageInfo { hasNextPage endCursor } } }`;
          const times: number[] = [];
          let count = 0;
          let total = 0;
          const repetitions = totalCount ? countRuns : runs;
          for (let run = 0; run < repetitions + 5; run += 1) {
            started = performance.now();
            const response = await fetch(`${url}/graphql`, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
              body: JSON.stringify({ query, variables: { filter } }),
            });
            const body = (await response.json()) as {
              data?: { files: { edges: unknown[]; totalCount?: number } };
              errors?: unknown;
            };
            if (body.errors !== undefined || body.data === undefined) throw new Error(JSON.stringify(body.errors));
            count = body.data.files.edges.length;
            total = body.data.files.totalCount ?? 0;
            // The first runs warm caches and the JIT; they are not counted.
            if (run >= 5) times.push(performance.now() - started);
          }
          times.sort((a, b) => a - b);
          console.log(
            `${provider.padEnd(10)} ${caller.padEnd(7)} ${(totalCount ? "with totalCount" : "no totalCount").padEnd(16)} ${name.padEnd(38)}` +
              ` p50 ${percentile(times, 50).toFixed(1).padStart(7)} ms  p95 ${percentile(times, 95).toFixed(1).padStart(7)} ms` +
              `  (${repetitions} runs, ${count} rows${totalCount ? `, totalCount ${total}` : ""})`,
          );
        }
      }
    }
  } finally {
    server.closeAllConnections();
    server.close();
    await app.close();
    if (keep === undefined) {
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
}

for (const provider of providers) await benchProvider(provider);
