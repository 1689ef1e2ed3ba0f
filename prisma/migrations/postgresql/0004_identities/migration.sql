-- AlterTable
ALTER TABLE "Principal" ADD COLUMN     "issuer" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Principal_kind_issuer_subject_key" ON "Principal"("kind", "issuer", "subject");

