-- AlterTable
ALTER TABLE "Webhook" ADD COLUMN     "securityCategories" TEXT NOT NULL DEFAULT '[]';

