-- Metadata values may be any JSON. File.metadata stays JSON text (see prisma/schema.prisma).

-- CreateTable
CREATE TABLE "FileMetadata" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "valueHash" TEXT NOT NULL,

    CONSTRAINT "FileMetadata_pkey" PRIMARY KEY ("fileId","key")
);

-- One row per pair of the existing files. Their values are all strings (the previous schema
-- allowed no other), whose canonical JSON (RFC 8785) is the JSON text PostgreSQL writes for them.
INSERT INTO "FileMetadata" ("fileId", "workspaceId", "key", "valueHash")
SELECT f."id", f."workspaceId", m."key", encode(sha256(convert_to(m."value"::text, 'UTF8')), 'hex')
FROM "File" f, jsonb_each(f."metadata"::jsonb) m;

-- CreateIndex
CREATE INDEX "FileMetadata_workspaceId_key_valueHash_fileId_idx" ON "FileMetadata"("workspaceId", "key", "valueHash", "fileId");

-- AddForeignKey
ALTER TABLE "FileMetadata" ADD CONSTRAINT "FileMetadata_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File"("id") ON DELETE CASCADE ON UPDATE CASCADE;
