-- CreateIndex
CREATE INDEX "File_storageKey_idx" ON "File"("storageKey");

