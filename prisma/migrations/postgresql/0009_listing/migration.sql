-- DropIndex
DROP INDEX "FileMetadata_workspaceId_key_valueHash_fileId_idx";

-- DropIndex
DROP INDEX "FileAsset_workspaceId_assetId_fileId_idx";

-- AlterTable: each row takes its file's createdAt.
ALTER TABLE "FileMetadata" ADD COLUMN     "createdAt" TIMESTAMP(3);
UPDATE "FileMetadata" m SET "createdAt" = f."createdAt" FROM "File" f WHERE f."id" = m."fileId";
ALTER TABLE "FileMetadata" ALTER COLUMN "createdAt" SET NOT NULL;

-- AlterTable: each row takes its file's createdAt.
ALTER TABLE "FileAsset" ADD COLUMN     "createdAt" TIMESTAMP(3);
UPDATE "FileAsset" a SET "createdAt" = f."createdAt" FROM "File" f WHERE f."id" = a."fileId";
ALTER TABLE "FileAsset" ALTER COLUMN "createdAt" SET NOT NULL;

-- CreateIndex
CREATE INDEX "File_workspaceId_pendingForId_id_idx" ON "File"("workspaceId", "pendingForId", "id");

-- CreateIndex
CREATE INDEX "FileMetadata_workspaceId_key_valueHash_createdAt_fileId_idx" ON "FileMetadata"("workspaceId", "key", "valueHash", "createdAt", "fileId");

-- CreateIndex
CREATE INDEX "FileAsset_workspaceId_assetId_createdAt_fileId_idx" ON "FileAsset"("workspaceId", "assetId", "createdAt", "fileId");

