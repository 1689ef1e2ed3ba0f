-- geoIntersects walking the creation order compares the box columns in the index (see File's indexes in prisma/schema.prisma).
-- DropIndex
DROP INDEX "File_workspaceId_createdAt_id_idx";

-- CreateIndex
CREATE INDEX "File_workspaceId_createdAt_id_geoMinLongitude_geoMaxLongitude_geoMinLatitude_geoMaxLatitude_idx" ON "File"("workspaceId", "createdAt", "id", "geoMinLongitude", "geoMaxLongitude", "geoMinLatitude", "geoMaxLatitude");

