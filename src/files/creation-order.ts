import { type Db, Prisma } from "../db/client.js";
import { rawRows } from "../db/raw.js";
import { type BoundingBox, splitAtAntimeridian } from "./geo.js";

// The newest (or oldest) files that one condition of a filter matches, after a cursor if given,
// as one raw statement whose plan does not depend on a row estimate, for a page of a listing in
// creation order. Two conditions need it:
// - `assetIdsAny` of several assets: each asset's files are an ordered range of FileAsset's
//   `(workspaceId, assetId, createdAt, fileId)` index, so the first files of each range, merged,
//   are the first files of all. Walking File's creation order instead probes FileAsset for every
//   file (on PostgreSQL a heap fetch each: 34,000 of them for a 1% filter, 100 ms and more).
// - `geoIntersects` of a box too large for its cells to name few files: File's creation-order
//   index holds the box columns, so the walk compares them in the index. PostgreSQL multiplies
//   the four range conditions' selectivities (each about 10%: 90% of files have no location) and
//   expects a handful of rows where a 90° box has 11,468; it then scanned the whole table and
//   sorted (EXPLAIN ANALYZE: 1.1 s, 230 ms of it compiling with JIT). The comparisons here are
//   on `column + 0`, expressions it has no statistics for, which it rates at a third each: the
//   walk is then the cheaper plan, as it is.
// The listing reads its page among these ids with the whole filter and the read filter
// (src/files/listing.ts), and uses it only when it is sure to be the page (`pageAmong`).

/** Files the first page's candidates are read from, and how. */
export type OrderedCondition = { kind: "assets"; assetIds: readonly bigint[] } | { kind: "box"; box: BoundingBox };

/** A position in creation order: the listing's cursor (createdAt, then id). */
export interface CreationCursor {
  createdAt: Date;
  id: string;
}

/**
 * The ids of at most `limit` files of the workspace that `condition` matches, first in the
 * listing's order (createdAt then id, `sort`) strictly after `after` when given, and whether
 * they are all of them (fewer came back). Overwrites' pending rows are left out; the read filter
 * is the caller's to apply.
 */
export async function firstMatching(
  db: Pick<Db, "$queryRaw">,
  workspaceId: string,
  condition: OrderedCondition,
  sort: "asc" | "desc",
  limit: number,
  after?: CreationCursor,
): Promise<{ ids: string[]; all: boolean }> {
  const direction = Prisma.raw(sort === "asc" ? "ASC" : "DESC");
  // A row comparison, which both databases read as a range of the creation-order index.
  const beyond = (createdAt: string, id: string) =>
    after === undefined
      ? Prisma.empty
      : Prisma.sql`AND (${Prisma.raw(createdAt)}, ${Prisma.raw(id)}) ${Prisma.raw(sort === "asc" ? ">" : "<")} (${after.createdAt}, ${after.id})`;
  // The assets' statement runs on the driver (src/db/raw.ts: Prisma's pipeline cost about as much
  // as the statement); the box's goes through Prisma, which wrote the box columns: it parses a
  // float parameter to within a unit in the last place (153.00215638743592 became
  // 153.0021563874359), the same way when writing and when comparing, so a box touching a file's
  // corner finds it only when both go through Prisma.
  const rows =
    condition.kind === "assets"
      ? await rawRows<{ fileId: string }>(
          db,
          Prisma.sql`
          SELECT DISTINCT u."fileId", u."createdAt" FROM (${Prisma.join(
            condition.assetIds.map(
              (assetId) => Prisma.sql`
                SELECT * FROM (
                  SELECT a."fileId", a."createdAt" FROM "FileAsset" a
                  WHERE a."workspaceId" = ${workspaceId} AND a."assetId" = ${assetId}
                    ${beyond('a."createdAt"', 'a."fileId"')}
                  ORDER BY a."createdAt" ${direction}, a."fileId" ${direction} LIMIT ${limit}
                ) AS "range"`,
            ),
            " UNION ALL ",
          )}) AS u
          ORDER BY u."createdAt" ${direction}, u."fileId" ${direction} LIMIT ${limit}`,
        )
      : await db.$queryRaw<{ fileId: string }[]>`
          SELECT f."id" AS "fileId" FROM "File" f
          WHERE f."workspaceId" = ${workspaceId} AND f."pendingForId" IS NULL AND (${Prisma.join(
            splitAtAntimeridian(condition.box).map(
              (part) => Prisma.sql`(f."geoMinLongitude" + 0 <= ${part.maxLongitude}
                AND f."geoMaxLongitude" + 0 >= ${part.minLongitude}
                AND f."geoMinLatitude" + 0 <= ${part.maxLatitude}
                AND f."geoMaxLatitude" + 0 >= ${part.minLatitude})`,
            ),
            " OR ",
          )}) ${beyond('f."createdAt"', 'f."id"')}
          ORDER BY f."createdAt" ${direction}, f."id" ${direction} LIMIT ${limit}`;
  return { ids: rows.map((row) => row.fileId), all: rows.length < limit };
}
