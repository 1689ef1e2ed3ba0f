-- DropIndex
DROP INDEX "File_workspaceId_directory_createdAt_idx";

-- CreateTable
CREATE TABLE "FileAncestor" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "directory" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "FileAncestor_pkey" PRIMARY KEY ("fileId","directory")
);

-- CreateIndex
CREATE INDEX "FileAncestor_workspaceId_directory_createdAt_fileId_idx" ON "FileAncestor"("workspaceId", "directory", "createdAt", "fileId");

-- CreateIndex
CREATE INDEX "File_workspaceId_directory_createdAt_id_idx" ON "File"("workspaceId", "directory", "createdAt", "id");

-- AddForeignKey
ALTER TABLE "FileAncestor" ADD CONSTRAINT "FileAncestor_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Backfill (hand-written): each file's directory and its ancestors but "/", as
-- src/files/records.ts ancestorRows() writes them.
WITH RECURSIVE "up" ("fileId", "workspaceId", "directory", "createdAt") AS (
    SELECT "id", "workspaceId", "directory", "createdAt" FROM "File" WHERE "directory" IS NOT NULL AND "directory" <> '/'
    UNION ALL
    SELECT "fileId", "workspaceId", regexp_replace("directory", '/[^/]*$', ''), "createdAt"
    FROM "up" WHERE strpos(substr("directory", 2), '/') > 0
)
INSERT INTO "FileAncestor" ("fileId", "workspaceId", "directory", "createdAt") SELECT * FROM "up";
