-- AlterTable
ALTER TABLE "File" ADD COLUMN     "pendingForId" TEXT;

-- An overwrite in flight under the previous schema was a PENDING row that would take over the
-- externalId of the file in "replacesId" when completed. The newest such row of each file becomes
-- that file's pending upload: completing it replaces the file's content in place. Older ones stay
-- pending files of their own, which expire. Field changes such a row carried are not applied
-- (overwrites now apply fields at once).
UPDATE "File" AS f SET "pendingForId" = f."replacesId"
WHERE f."replacesId" IS NOT NULL AND f."status" <> 'UPLOADED'
  AND EXISTS (SELECT 1 FROM "File" r WHERE r."id" = f."replacesId")
  AND NOT EXISTS (
    SELECT 1 FROM "File" o
    WHERE o."replacesId" = f."replacesId" AND o."status" <> 'UPLOADED'
      AND (o."createdAt" > f."createdAt" OR (o."createdAt" = f."createdAt" AND o."id" > f."id"))
  );
-- A pending upload is no file of its own: no labels, directories or metadata pairs to find it by.
DELETE FROM "FileLabel" WHERE "fileId" IN (SELECT "id" FROM "File" WHERE "pendingForId" IS NOT NULL);
DELETE FROM "FileAncestor" WHERE "fileId" IN (SELECT "id" FROM "File" WHERE "pendingForId" IS NOT NULL);
DELETE FROM "FileMetadata" WHERE "fileId" IN (SELECT "id" FROM "File" WHERE "pendingForId" IS NOT NULL);

ALTER TABLE "File" DROP COLUMN "pendingExternalId",
DROP COLUMN "replacesId";

-- CreateTable
CREATE TABLE "FileVersion" (
    "id" TEXT NOT NULL,
    "fileId" TEXT NOT NULL,
    "storageKey" TEXT,
    "size" BIGINT NOT NULL,
    "checksumSha256" TEXT NOT NULL,
    "mimeType" TEXT,
    "uploadedAt" TIMESTAMP(3) NOT NULL,
    "replacedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "FileVersion_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "FileVersion_fileId_replacedAt_idx" ON "FileVersion"("fileId", "replacedAt");

-- CreateIndex
CREATE UNIQUE INDEX "File_pendingForId_key" ON "File"("pendingForId");

-- AddForeignKey
ALTER TABLE "File" ADD CONSTRAINT "File_pendingForId_fkey" FOREIGN KEY ("pendingForId") REFERENCES "File"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FileVersion" ADD CONSTRAINT "FileVersion_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File"("id") ON DELETE CASCADE ON UPDATE CASCADE;

