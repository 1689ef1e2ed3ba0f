-- geoIntersects reads the files whose bounding box meets a query box from an R*Tree (SQLite's
-- spatial index) instead of quadtree cells, whose candidates outnumbered the matches ten to one.
-- Its first dimension is the workspace, numbered by FileGeoWorkspace (reading a column stored
-- beside the R*Tree costs a lookup per entry: counting a 90° box's 11,468 files by such a
-- workspace column took 40 ms, by the dimension 1 ms). An entry's key is an integer, which
-- File's text id is not, so FileGeoBoxKey numbers the files with a location (INTEGER PRIMARY
-- KEYs, which VACUUM keeps, unlike a table's rowid). The R*Tree stores float32 bounds rounded
-- outward: it returns a superset of the matches, which the listing checks against File's own
-- columns (src/files/geo-index.ts). Only files (never an overwrite's pending row) with a location
-- have entries, kept by these triggers whatever writes File.
CREATE TABLE "FileGeoWorkspace" (
    "key" INTEGER NOT NULL PRIMARY KEY,
    "workspaceId" TEXT NOT NULL UNIQUE
);

CREATE TABLE "FileGeoBoxKey" (
    "key" INTEGER NOT NULL PRIMARY KEY,
    "fileId" TEXT NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE "FileGeoBox" USING rtree(
    "key", "minWorkspace", "maxWorkspace", "minLongitude", "maxLongitude", "minLatitude", "maxLatitude", +"fileId"
);

CREATE TRIGGER "File_geo_insert" AFTER INSERT ON "File"
  WHEN NEW."pendingForId" IS NULL AND NEW."geoMinLongitude" IS NOT NULL
BEGIN
  INSERT OR IGNORE INTO "FileGeoWorkspace" ("workspaceId") VALUES (NEW."workspaceId");
  INSERT INTO "FileGeoBoxKey" ("fileId") VALUES (NEW."id");
  INSERT INTO "FileGeoBox" SELECT last_insert_rowid(), w."key", w."key", NEW."geoMinLongitude", NEW."geoMaxLongitude",
    NEW."geoMinLatitude", NEW."geoMaxLatitude", NEW."id"
    FROM "FileGeoWorkspace" w WHERE w."workspaceId" = NEW."workspaceId";
END;

CREATE TRIGGER "File_geo_delete" AFTER DELETE ON "File" WHEN OLD."geoMinLongitude" IS NOT NULL
BEGIN
  DELETE FROM "FileGeoBox" WHERE "key" = (SELECT "key" FROM "FileGeoBoxKey" WHERE "fileId" = OLD."id");
  DELETE FROM "FileGeoBoxKey" WHERE "fileId" = OLD."id";
END;

CREATE TRIGGER "File_geo_update" AFTER UPDATE OF "geoMinLongitude", "geoMaxLongitude", "geoMinLatitude",
  "geoMaxLatitude", "pendingForId", "workspaceId" ON "File"
BEGIN
  DELETE FROM "FileGeoBox" WHERE "key" = (SELECT "key" FROM "FileGeoBoxKey" WHERE "fileId" = OLD."id");
  DELETE FROM "FileGeoBoxKey" WHERE "fileId" = OLD."id";
  INSERT OR IGNORE INTO "FileGeoWorkspace" ("workspaceId") SELECT NEW."workspaceId"
    WHERE NEW."pendingForId" IS NULL AND NEW."geoMinLongitude" IS NOT NULL;
  INSERT INTO "FileGeoBoxKey" ("fileId") SELECT NEW."id"
    WHERE NEW."pendingForId" IS NULL AND NEW."geoMinLongitude" IS NOT NULL;
  INSERT INTO "FileGeoBox" SELECT last_insert_rowid(), w."key", w."key", NEW."geoMinLongitude", NEW."geoMaxLongitude",
    NEW."geoMinLatitude", NEW."geoMaxLatitude", NEW."id"
    FROM "FileGeoWorkspace" w WHERE w."workspaceId" = NEW."workspaceId"
      AND NEW."pendingForId" IS NULL AND NEW."geoMinLongitude" IS NOT NULL;
END;

INSERT INTO "FileGeoWorkspace" ("workspaceId")
  SELECT DISTINCT "workspaceId" FROM "File" WHERE "pendingForId" IS NULL AND "geoMinLongitude" IS NOT NULL;
INSERT INTO "FileGeoBoxKey" ("fileId")
  SELECT "id" FROM "File" WHERE "pendingForId" IS NULL AND "geoMinLongitude" IS NOT NULL;
INSERT INTO "FileGeoBox"
  SELECT k."key", w."key", w."key", f."geoMinLongitude", f."geoMaxLongitude", f."geoMinLatitude", f."geoMaxLatitude", f."id"
  FROM "FileGeoBoxKey" k JOIN "File" f ON f."id" = k."fileId" JOIN "FileGeoWorkspace" w ON w."workspaceId" = f."workspaceId";

-- The quadtree cells the spatial index replaces.
-- DropTable
PRAGMA foreign_keys=off;
DROP TABLE "FileGeoCell";
PRAGMA foreign_keys=on;

