-- Columns added in place (no table rebuild).
ALTER TABLE "Membership" ADD COLUMN "categories" TEXT NOT NULL DEFAULT '[]';
ALTER TABLE "File" ADD COLUMN "securityCategories" TEXT NOT NULL DEFAULT '[]';

-- CreateTable
CREATE TABLE "FileCategory" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "category" BIGINT NOT NULL,

    PRIMARY KEY ("fileId", "category"),
    CONSTRAINT "FileCategory_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
