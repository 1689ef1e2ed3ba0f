-- geoIntersects reads the files whose bounding box meets a query box from a GiST index on the
-- box of File's geo columns (a built-in `box`; no PostGIS), instead of quadtree cells, whose
-- candidates outnumbered the matches ten to one. Only files (never an overwrite's pending row)
-- with a location are indexed. `&&` on boxes compares with a tolerance of 1e-6 (a superset of
-- the matches), so the listing checks File's own columns too.
CREATE INDEX "File_geoBox_idx" ON "File" USING gist (
    box(point("geoMinLongitude", "geoMinLatitude"), point("geoMaxLongitude", "geoMaxLatitude"))
) WHERE "pendingForId" IS NULL AND "geoMinLongitude" IS NOT NULL;
