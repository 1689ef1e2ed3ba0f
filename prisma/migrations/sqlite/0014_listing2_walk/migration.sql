-- The creation-order index holds pendingForId too, so a walk checking the read filter's
-- `pendingForId IS NULL` and the box columns (geoIntersects' first page, src/files/creation-order.ts)
-- reads the index alone (see File's indexes in prisma/schema.prisma).
-- DropIndex
DROP INDEX "File_workspaceId_createdAt_id_geoMinLongitude_geoMaxLongitude_geoMinLatitude_geoMaxLatitude_idx";

-- CreateIndex
CREATE INDEX "File_workspaceId_createdAt_id_geoMinLongitude_geoMaxLongitude_geoMinLatitude_geoMaxLatitude_pendingForId_idx" ON "File"("workspaceId", "createdAt", "id", "geoMinLongitude", "geoMaxLongitude", "geoMinLatitude", "geoMaxLatitude", "pendingForId");

-- The new index's statistics (the dropped one's went with it): the default order's page reads it.
ANALYZE "File_workspaceId_createdAt_id_geoMinLongitude_geoMaxLongitude_geoMinLatitude_geoMaxLatitude_pendingForId_idx";
