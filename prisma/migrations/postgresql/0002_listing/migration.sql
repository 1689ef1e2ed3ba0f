-- AlterTable
ALTER TABLE "File" ADD COLUMN     "nameSearch" TEXT NOT NULL DEFAULT '';


-- Backfill (hand-written): nameFolded with LIKE's special characters mapped as in
-- src/files/records.ts searchForm(): % -> U+E000, _ -> U+E001, \ -> U+E002.
UPDATE "File" SET "nameSearch" = replace(replace(replace("nameFolded", '%', chr(57344)), '_', chr(57345)), E'\\', chr(57346));

-- Collation (hand-written; the Prisma datamodel cannot express it, so `db:diff` never writes
-- or undoes it): columns compared by prefix ranges and ordered by name sort in code-point
-- order, as SQLite's BINARY collation does, whatever the database's default locale is.
-- src/files/listing.ts startsWith() relies on it. A later migration that changes one of these
-- columns' types must keep COLLATE "C".
ALTER TABLE "File" ALTER COLUMN "nameFolded" TYPE TEXT COLLATE "C";
ALTER TABLE "File" ALTER COLUMN "directory" TYPE TEXT COLLATE "C";
ALTER TABLE "File" ALTER COLUMN "externalId" TYPE TEXT COLLATE "C";
ALTER TABLE "File" ALTER COLUMN "mimeType" TYPE TEXT COLLATE "C";

-- Statistics (hand-written): the planner estimates a directory-prefix range from the column's
-- histogram; with the default 100 buckets a one-project prefix over a million files was
-- estimated at ~130 rows instead of 10,000, so it sorted every match instead of walking the
-- (workspaceId, createdAt, id) index (49 ms against 2 ms). 1000 buckets estimate it closely.
ALTER TABLE "File" ALTER COLUMN "directory" SET STATISTICS 1000;
