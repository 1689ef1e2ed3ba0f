-- CreateTable
CREATE TABLE "WorkspaceFileCount" (
    "workspaceId" TEXT NOT NULL,
    "files" INTEGER NOT NULL,

    CONSTRAINT "WorkspaceFileCount_pkey" PRIMARY KEY ("workspaceId")
);

-- CreateIndex
CREATE INDEX "FileCategory_workspaceId_category_idx" ON "FileCategory"("workspaceId", "category");


-- Each workspace's count of files (rows without pendingForId), kept by these triggers whatever
-- writes File (the service, the sweeper, cascades); then counted once from the rows there are.
-- Inserts and deletes are counted per statement (a bulk insert updates each workspace's row
-- once); a change of pendingForId per row, since a trigger with transition tables cannot be
-- limited to columns.
CREATE FUNCTION "file_count_statement"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    UPDATE "WorkspaceFileCount" c SET "files" = c."files" - d."n"
      FROM (SELECT "workspaceId", count(*) AS "n" FROM "old_rows" WHERE "pendingForId" IS NULL GROUP BY "workspaceId") d
      WHERE c."workspaceId" = d."workspaceId";
  ELSE
    INSERT INTO "WorkspaceFileCount" ("workspaceId", "files")
      SELECT "workspaceId", count(*) FROM "new_rows" WHERE "pendingForId" IS NULL GROUP BY "workspaceId"
      ON CONFLICT ("workspaceId") DO UPDATE SET "files" = "WorkspaceFileCount"."files" + EXCLUDED."files";
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION "file_count_row"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD."pendingForId" IS NULL THEN
    UPDATE "WorkspaceFileCount" SET "files" = "files" - 1 WHERE "workspaceId" = OLD."workspaceId";
  END IF;
  IF NEW."pendingForId" IS NULL THEN
    INSERT INTO "WorkspaceFileCount" ("workspaceId", "files") VALUES (NEW."workspaceId", 1)
      ON CONFLICT ("workspaceId") DO UPDATE SET "files" = "WorkspaceFileCount"."files" + 1;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "File_count_insert" AFTER INSERT ON "File" REFERENCING NEW TABLE AS "new_rows"
  FOR EACH STATEMENT EXECUTE FUNCTION "file_count_statement"();
CREATE TRIGGER "File_count_delete" AFTER DELETE ON "File" REFERENCING OLD TABLE AS "old_rows"
  FOR EACH STATEMENT EXECUTE FUNCTION "file_count_statement"();
CREATE TRIGGER "File_count_update" AFTER UPDATE OF "pendingForId", "workspaceId" ON "File" FOR EACH ROW
  WHEN ((OLD."pendingForId" IS NULL) <> (NEW."pendingForId" IS NULL) OR OLD."workspaceId" <> NEW."workspaceId")
  EXECUTE FUNCTION "file_count_row"();

INSERT INTO "WorkspaceFileCount" ("workspaceId", "files")
  SELECT "workspaceId", count(*) FROM "File" WHERE "pendingForId" IS NULL GROUP BY "workspaceId";

ANALYZE "FileCategory";
