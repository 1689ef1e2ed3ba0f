-- CreateTable
CREATE TABLE "Workspace" (
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "public" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Workspace_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Principal" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "subject" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Principal_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "principalId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Membership" (
    "principalId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "role" TEXT NOT NULL,

    CONSTRAINT "Membership_pkey" PRIMARY KEY ("principalId","workspaceId")
);

-- CreateTable
CREATE TABLE "File" (
    "id" TEXT NOT NULL,
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
    "sourceCreatedTime" TIMESTAMP(3),
    "sourceModifiedTime" TIMESTAMP(3),
    "width" INTEGER,
    "height" INTEGER,
    "storageKey" TEXT NOT NULL,
    "uploadMethod" TEXT NOT NULL,
    "multipartUploadId" TEXT,
    "replacesId" TEXT,
    "pendingExternalId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "uploadedAt" TIMESTAMP(3),
    "expiresAt" TIMESTAMP(3),

    CONSTRAINT "File_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FileLabel" (
    "fileId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "label" TEXT NOT NULL,

    CONSTRAINT "FileLabel_pkey" PRIMARY KEY ("fileId","label")
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

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_principalId_fkey" FOREIGN KEY ("principalId") REFERENCES "Principal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Membership" ADD CONSTRAINT "Membership_principalId_fkey" FOREIGN KEY ("principalId") REFERENCES "Principal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Membership" ADD CONSTRAINT "Membership_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "File" ADD CONSTRAINT "File_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FileLabel" ADD CONSTRAINT "FileLabel_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File"("id") ON DELETE CASCADE ON UPDATE CASCADE;

