-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_FileMetadata" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "valueHash" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,

    PRIMARY KEY ("fileId", "key"),
    CONSTRAINT "FileMetadata_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
-- Each row takes its file's createdAt.
INSERT INTO "new_FileMetadata" ("fileId", "key", "valueHash", "workspaceId", "createdAt")
SELECT m."fileId", m."key", m."valueHash", m."workspaceId", f."createdAt" FROM "FileMetadata" m JOIN "File" f ON f."id" = m."fileId";
DROP TABLE "FileMetadata";
ALTER TABLE "new_FileMetadata" RENAME TO "FileMetadata";
CREATE INDEX "FileMetadata_workspaceId_key_valueHash_createdAt_fileId_idx" ON "FileMetadata"("workspaceId", "key", "valueHash", "createdAt", "fileId");
CREATE TABLE "new_FileAsset" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "assetId" BIGINT NOT NULL,
    "createdAt" DATETIME NOT NULL,

    PRIMARY KEY ("fileId", "assetId"),
    CONSTRAINT "FileAsset_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_FileAsset" ("assetId", "fileId", "workspaceId", "createdAt")
SELECT a."assetId", a."fileId", a."workspaceId", f."createdAt" FROM "FileAsset" a JOIN "File" f ON f."id" = a."fileId";
DROP TABLE "FileAsset";
ALTER TABLE "new_FileAsset" RENAME TO "FileAsset";
CREATE INDEX "FileAsset_workspaceId_assetId_createdAt_fileId_idx" ON "FileAsset"("workspaceId", "assetId", "createdAt", "fileId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "File_workspaceId_pendingForId_id_idx" ON "File"("workspaceId", "pendingForId", "id");

