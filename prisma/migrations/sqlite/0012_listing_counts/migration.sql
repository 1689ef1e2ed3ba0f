-- CreateTable
CREATE TABLE "WorkspaceFileCount" (
    "workspaceId" TEXT NOT NULL PRIMARY KEY,
    "files" INTEGER NOT NULL
);

-- CreateIndex
CREATE INDEX "FileCategory_workspaceId_category_idx" ON "FileCategory"("workspaceId", "category");


-- Each workspace's count of files (rows without pendingForId), kept by these triggers whatever
-- writes File (the service, the sweeper, cascades); then counted once from the rows there are.
CREATE TRIGGER "File_count_insert" AFTER INSERT ON "File" WHEN NEW."pendingForId" IS NULL
BEGIN
  INSERT INTO "WorkspaceFileCount" ("workspaceId", "files") VALUES (NEW."workspaceId", 1)
    ON CONFLICT ("workspaceId") DO UPDATE SET "files" = "files" + 1;
END;

CREATE TRIGGER "File_count_delete" AFTER DELETE ON "File" WHEN OLD."pendingForId" IS NULL
BEGIN
  UPDATE "WorkspaceFileCount" SET "files" = "files" - 1 WHERE "workspaceId" = OLD."workspaceId";
END;

CREATE TRIGGER "File_count_update" AFTER UPDATE OF "pendingForId", "workspaceId" ON "File"
  WHEN (OLD."pendingForId" IS NULL) <> (NEW."pendingForId" IS NULL) OR OLD."workspaceId" <> NEW."workspaceId"
BEGIN
  UPDATE "WorkspaceFileCount" SET "files" = "files" - 1
    WHERE "workspaceId" = OLD."workspaceId" AND OLD."pendingForId" IS NULL;
  INSERT INTO "WorkspaceFileCount" ("workspaceId", "files") SELECT NEW."workspaceId", 1 WHERE NEW."pendingForId" IS NULL
    ON CONFLICT ("workspaceId") DO UPDATE SET "files" = "files" + 1;
END;

INSERT INTO "WorkspaceFileCount" ("workspaceId", "files")
  SELECT "workspaceId", count(*) FROM "File" WHERE "pendingForId" IS NULL GROUP BY "workspaceId";

ANALYZE "FileCategory";
