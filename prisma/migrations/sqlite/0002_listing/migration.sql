-- AlterTable
ALTER TABLE "File" ADD COLUMN "nameSearch" TEXT NOT NULL DEFAULT '';

-- Backfill (hand-written): nameFolded with LIKE's special characters mapped as in
-- src/files/records.ts searchForm(): % -> U+E000, _ -> U+E001, \ -> U+E002.
UPDATE "File" SET "nameSearch" = replace(replace(replace("nameFolded", '%', char(57344)), '_', char(57345)), '\', char(57346));
