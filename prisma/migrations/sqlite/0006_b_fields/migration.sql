-- New columns are added in place (no table rebuild); JSON is kept as text (see prisma/schema.prisma).
ALTER TABLE "File" ADD COLUMN "assetIds" TEXT NOT NULL DEFAULT '[]';
ALTER TABLE "File" ADD COLUMN "dataSetId" BIGINT;
ALTER TABLE "File" ADD COLUMN "geoLocation" TEXT;
ALTER TABLE "File" ADD COLUMN "geoMinLongitude" REAL;
ALTER TABLE "File" ADD COLUMN "geoMinLatitude" REAL;
ALTER TABLE "File" ADD COLUMN "geoMaxLongitude" REAL;
ALTER TABLE "File" ADD COLUMN "geoMaxLatitude" REAL;

-- CreateTable
CREATE TABLE "FileAsset" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "assetId" BIGINT NOT NULL,

    PRIMARY KEY ("fileId", "assetId"),
    CONSTRAINT "FileAsset_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "FileGeoCell" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "cell" TEXT NOT NULL,

    PRIMARY KEY ("fileId", "cell"),
    CONSTRAINT "FileGeoCell_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "File_workspaceId_dataSetId_createdAt_id_idx" ON "File"("workspaceId", "dataSetId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "FileAsset_workspaceId_assetId_fileId_idx" ON "FileAsset"("workspaceId", "assetId", "fileId");

-- CreateIndex
CREATE INDEX "FileGeoCell_workspaceId_cell_fileId_idx" ON "FileGeoCell"("workspaceId", "cell", "fileId");
