-- geoIntersects reads the files whose bounding box meets a query box from a GiST index on the
-- box of File's geo columns (a built-in `box`; no PostGIS), instead of quadtree cells, whose
-- candidates outnumbered the matches ten to one. Only files (never an overwrite's pending row)
-- with a location are indexed. `&&` on boxes compares with a tolerance of 1e-6 (a superset of
-- the matches), so the listing checks File's own columns too: the index includes them, with the
-- workspace and the id, so a box's candidates and its count are read from the index alone
-- (EXPLAIN ANALYZE at 1,000,000 files, 11,468 in a 90° box: count 5.5 ms, index-only).
CREATE INDEX "File_geoBox_idx" ON "File" USING gist (
    box(point("geoMinLongitude", "geoMinLatitude"), point("geoMaxLongitude", "geoMaxLatitude"))
) INCLUDE ("workspaceId", "id", "geoMinLongitude", "geoMaxLongitude", "geoMinLatitude", "geoMaxLatitude")
  WHERE "pendingForId" IS NULL AND "geoMinLongitude" IS NOT NULL;

-- The quadtree cells the spatial index replaces.
-- DropForeignKey
ALTER TABLE "FileGeoCell" DROP CONSTRAINT "FileGeoCell_fileId_fkey";

-- DropTable
DROP TABLE "FileGeoCell";

