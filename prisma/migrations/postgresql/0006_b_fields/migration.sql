-- AlterTable
ALTER TABLE "File" ADD COLUMN     "assetIds" TEXT NOT NULL DEFAULT '[]',
ADD COLUMN     "dataSetId" BIGINT,
ADD COLUMN     "geoLocation" TEXT,
ADD COLUMN     "geoMaxLatitude" DOUBLE PRECISION,
ADD COLUMN     "geoMaxLongitude" DOUBLE PRECISION,
ADD COLUMN     "geoMinLatitude" DOUBLE PRECISION,
ADD COLUMN     "geoMinLongitude" DOUBLE PRECISION;

-- CreateTable
CREATE TABLE "FileAsset" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "assetId" BIGINT NOT NULL,

    CONSTRAINT "FileAsset_pkey" PRIMARY KEY ("fileId","assetId")
);

-- CreateTable
CREATE TABLE "FileGeoCell" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    -- Quadkeys are found by prefix ranges (src/files/geo.ts): code-point order, as in 0002.
    "cell" TEXT COLLATE "C" NOT NULL,

    CONSTRAINT "FileGeoCell_pkey" PRIMARY KEY ("fileId","cell")
);

-- CreateIndex
CREATE INDEX "FileAsset_workspaceId_assetId_fileId_idx" ON "FileAsset"("workspaceId", "assetId", "fileId");

-- CreateIndex
CREATE INDEX "FileGeoCell_workspaceId_cell_fileId_idx" ON "FileGeoCell"("workspaceId", "cell", "fileId");

-- CreateIndex
CREATE INDEX "File_workspaceId_dataSetId_createdAt_id_idx" ON "File"("workspaceId", "dataSetId", "createdAt", "id");

-- AddForeignKey
ALTER TABLE "FileAsset" ADD CONSTRAINT "FileAsset_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FileGeoCell" ADD CONSTRAINT "FileGeoCell_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File"("id") ON DELETE CASCADE ON UPDATE CASCADE;

