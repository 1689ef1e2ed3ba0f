-- CreateTable
CREATE TABLE "Workspace" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "public" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Principal" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "subject" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "hash" TEXT NOT NULL,
    "principalId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" DATETIME,
    CONSTRAINT "ApiKey_principalId_fkey" FOREIGN KEY ("principalId") REFERENCES "Principal" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Membership" (
    "principalId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "role" TEXT NOT NULL,

    PRIMARY KEY ("principalId", "workspaceId"),
    CONSTRAINT "Membership_principalId_fkey" FOREIGN KEY ("principalId") REFERENCES "Principal" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Membership_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "File" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "workspaceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "nameFolded" TEXT NOT NULL,
    "mimeType" TEXT,
    "size" BIGINT,
    "checksumSha256" TEXT,
    "status" TEXT NOT NULL,
    "externalId" TEXT,
    "directory" TEXT,
    "description" TEXT,
    "source" TEXT,
    "metadata" TEXT NOT NULL DEFAULT '{}',
    "scope" TEXT NOT NULL DEFAULT 'WORKSPACE',
    "entityId" TEXT,
    "sessionId" TEXT,
    "sourceCreatedTime" DATETIME,
    "sourceModifiedTime" DATETIME,
    "width" INTEGER,
    "height" INTEGER,
    "storageKey" TEXT NOT NULL,
    "uploadMethod" TEXT NOT NULL,
    "multipartUploadId" TEXT,
    "replacesId" TEXT,
    "pendingExternalId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "uploadedAt" DATETIME,
    "expiresAt" DATETIME,
    CONSTRAINT "File_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "FileLabel" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "label" TEXT NOT NULL,

    PRIMARY KEY ("fileId", "label"),
    CONSTRAINT "FileLabel_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "Workspace_slug_key" ON "Workspace"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_hash_key" ON "ApiKey"("hash");

-- CreateIndex
CREATE INDEX "Membership_workspaceId_idx" ON "Membership"("workspaceId");

-- CreateIndex
CREATE INDEX "File_workspaceId_createdAt_id_idx" ON "File"("workspaceId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "File_workspaceId_uploadedAt_id_idx" ON "File"("workspaceId", "uploadedAt", "id");

-- CreateIndex
CREATE INDEX "File_workspaceId_nameFolded_id_idx" ON "File"("workspaceId", "nameFolded", "id");

-- CreateIndex
CREATE INDEX "File_workspaceId_size_id_idx" ON "File"("workspaceId", "size", "id");

-- CreateIndex
CREATE INDEX "File_workspaceId_directory_createdAt_idx" ON "File"("workspaceId", "directory", "createdAt");

-- CreateIndex
CREATE INDEX "File_status_expiresAt_idx" ON "File"("status", "expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "File_workspaceId_externalId_key" ON "File"("workspaceId", "externalId");

-- CreateIndex
CREATE INDEX "FileLabel_workspaceId_label_fileId_idx" ON "FileLabel"("workspaceId", "label", "fileId");

