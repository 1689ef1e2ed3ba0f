-- AlterTable
ALTER TABLE "Membership" ADD COLUMN     "categories" TEXT NOT NULL DEFAULT '[]';

-- AlterTable
ALTER TABLE "File" ADD COLUMN     "securityCategories" TEXT NOT NULL DEFAULT '[]';

-- CreateTable
CREATE TABLE "FileCategory" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "category" BIGINT NOT NULL,

    CONSTRAINT "FileCategory_pkey" PRIMARY KEY ("fileId","category")
);

-- AddForeignKey
ALTER TABLE "FileCategory" ADD CONSTRAINT "FileCategory_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File"("id") ON DELETE CASCADE ON UPDATE CASCADE;

