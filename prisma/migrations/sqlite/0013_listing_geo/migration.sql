-- geoIntersects reads the files whose bounding box meets a query box from an R*Tree (SQLite's
-- spatial index) instead of quadtree cells, whose candidates outnumbered the matches ten to one.
-- An R*Tree row's key is an integer, which File's text id is not, so FileGeoBoxKey numbers the
-- files with a location (an INTEGER PRIMARY KEY, which VACUUM keeps, unlike a table's rowid).
-- The R*Tree stores float32 bounds rounded outward: it returns a superset of the matches, which
-- the listing checks against File's own columns. Only files (never an overwrite's pending row)
-- with a location have rows, kept by these triggers whatever writes File.
CREATE TABLE "FileGeoBoxKey" (
    "key" INTEGER NOT NULL PRIMARY KEY,
    "fileId" TEXT NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE "FileGeoBox" USING rtree(
    "key", "minLongitude", "maxLongitude", "minLatitude", "maxLatitude", +"workspaceId", +"fileId"
);

CREATE TRIGGER "File_geo_insert" AFTER INSERT ON "File"
  WHEN NEW."pendingForId" IS NULL AND NEW."geoMinLongitude" IS NOT NULL
BEGIN
  INSERT INTO "FileGeoBoxKey" ("fileId") VALUES (NEW."id");
  INSERT INTO "FileGeoBox" VALUES (last_insert_rowid(), NEW."geoMinLongitude", NEW."geoMaxLongitude",
    NEW."geoMinLatitude", NEW."geoMaxLatitude", NEW."workspaceId", NEW."id");
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
  INSERT INTO "FileGeoBoxKey" ("fileId") SELECT NEW."id"
    WHERE NEW."pendingForId" IS NULL AND NEW."geoMinLongitude" IS NOT NULL;
  INSERT INTO "FileGeoBox" SELECT last_insert_rowid(), NEW."geoMinLongitude", NEW."geoMaxLongitude",
    NEW."geoMinLatitude", NEW."geoMaxLatitude", NEW."workspaceId", NEW."id"
    WHERE NEW."pendingForId" IS NULL AND NEW."geoMinLongitude" IS NOT NULL;
END;

INSERT INTO "FileGeoBoxKey" ("fileId")
  SELECT "id" FROM "File" WHERE "pendingForId" IS NULL AND "geoMinLongitude" IS NOT NULL;
INSERT INTO "FileGeoBox"
  SELECT k."key", f."geoMinLongitude", f."geoMaxLongitude", f."geoMinLatitude", f."geoMaxLatitude", f."workspaceId", f."id"
  FROM "FileGeoBoxKey" k JOIN "File" f ON f."id" = k."fileId";
