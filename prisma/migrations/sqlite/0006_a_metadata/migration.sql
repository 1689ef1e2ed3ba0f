-- Metadata values may be any JSON. File.metadata stays JSON text (see prisma/schema.prisma).

-- CreateTable
CREATE TABLE "FileMetadata" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "valueHash" TEXT NOT NULL,

    PRIMARY KEY ("fileId", "key"),
    CONSTRAINT "FileMetadata_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- One row per pair of the existing files. Their values are all strings (the previous schema
-- allowed no other), whose canonical JSON (RFC 8785) is what json_quote writes; sha256_hex is
-- registered by src/db/migrate.ts.
INSERT INTO "FileMetadata" ("fileId", "workspaceId", "key", "valueHash")
SELECT f."id", f."workspaceId", j."key", sha256_hex(json_quote(j."value"))
FROM "File" f, json_each(f."metadata") j;

-- CreateIndex
CREATE INDEX "FileMetadata_workspaceId_key_valueHash_fileId_idx" ON "FileMetadata"("workspaceId", "key", "valueHash", "fileId");
