import { type Db, Prisma, type Provider } from "../db/client.js";
import { type BoundingBox, splitAtAntimeridian } from "./geo.js";

// The spatial index of files' bounding boxes (migration 0013_listing_geo) for `geoIntersects`:
// on SQLite an R*Tree (FileGeoBox, kept by triggers on File), on PostgreSQL a GiST index on the
// `box` of File's geo columns. Both hold files only, never an overwrite's pending row, and both
// return a superset of the files whose box meets a query box (the R*Tree keeps float32 bounds
// rounded outward; PostgreSQL's `&&` compares with a tolerance of 1e-6), so the columns decide.
// The read filter is the caller's to apply.

/** The R*Tree's or the GiST index's condition for a box that does not cross the antimeridian. */
function nearSql(provider: Provider, part: BoundingBox): Prisma.Sql {
  return provider === "sqlite"
    ? Prisma.sql`g."minLongitude" <= ${part.maxLongitude} AND g."maxLongitude" >= ${part.minLongitude}
        AND g."minLatitude" <= ${part.maxLatitude} AND g."maxLatitude" >= ${part.minLatitude}`
    : Prisma.sql`box(point(f."geoMinLongitude", f."geoMinLatitude"), point(f."geoMaxLongitude", f."geoMaxLatitude"))
        && box(point(${part.minLongitude}::float8, ${part.minLatitude}::float8),
               point(${part.maxLongitude}::float8, ${part.maxLatitude}::float8))`;
}

/** File's own columns meet a box that does not cross the antimeridian (what the listing's filter checks). */
function meetsSql(part: BoundingBox): Prisma.Sql {
  return Prisma.sql`(f."geoMinLongitude" <= ${part.maxLongitude} AND f."geoMaxLongitude" >= ${part.minLongitude}
    AND f."geoMinLatitude" <= ${part.maxLatitude} AND f."geoMaxLatitude" >= ${part.minLatitude})`;
}

/**
 * The ids of the files of the workspace the index finds near `box` (a superset of its matches),
 * every one; with `checked`, on PostgreSQL, only those whose columns meet it.
 */
function nearIdsSql(provider: Provider, workspaceId: string, box: BoundingBox, checked = false): Prisma.Sql {
  const parts = splitAtAntimeridian(box);
  if (provider === "sqlite") {
    // The R*Tree answers one box per lookup; a box across the antimeridian is two.
    return Prisma.join(
      parts.map(
        (part) => Prisma.sql`SELECT g."fileId" FROM "FileGeoBox" g
          WHERE ${nearSql(provider, part)} AND g."workspaceId" = ${workspaceId}`,
      ),
      " UNION ",
    );
  }
  // The partial index's own conditions, so the planner can use it.
  return Prisma.sql`SELECT f."id" AS "fileId" FROM "File" f
    WHERE f."workspaceId" = ${workspaceId} AND f."pendingForId" IS NULL AND f."geoMinLongitude" IS NOT NULL
      AND (${Prisma.join(
        parts.map((part) =>
          checked ? Prisma.sql`(${nearSql(provider, part)} AND ${meetsSql(part)})` : nearSql(provider, part),
        ),
        " OR ",
      )})`;
}

/**
 * The ids of at most `limit` files of the workspace the index finds near `box`: every file whose
 * box meets it is among them when fewer than `limit` come back, with perhaps a few that do not.
 * One indexed statement, which stops at `limit`.
 */
export async function filesNearBox(
  db: Pick<Db, "$queryRaw">,
  provider: Provider,
  workspaceId: string,
  box: BoundingBox,
  limit: number,
): Promise<string[]> {
  const rows = await db.$queryRaw<{ fileId: string }[]>`
    SELECT n."fileId" FROM (${nearIdsSql(provider, workspaceId, box)}) AS n LIMIT ${limit}`;
  return rows.map((row) => row.fileId);
}

/**
 * How many files of the workspace have a box meeting `box`, exactly: those the index finds,
 * checked against their columns. Without a read filter: only for a caller who reads every file.
 */
export async function countFilesInBox(
  db: Pick<Db, "$queryRaw">,
  provider: Provider,
  workspaceId: string,
  box: BoundingBox,
): Promise<number> {
  const [row] =
    provider === "sqlite"
      ? await db.$queryRaw<{ files: bigint | number }[]>`
          SELECT count(*) AS "files" FROM "File" f
          WHERE f."id" IN (${nearIdsSql(provider, workspaceId, box)})
            AND (${Prisma.join(splitAtAntimeridian(box).map(meetsSql), " OR ")})`
      : await db.$queryRaw<{ files: bigint | number }[]>`
          SELECT count(*) AS "files" FROM (${nearIdsSql(provider, workspaceId, box, true)}) AS n`;
  return Number(row?.files ?? 0);
}
