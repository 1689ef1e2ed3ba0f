-- The closed string sets become enum types. Written by hand from `npm run db:diff`'s output,
-- which drops and re-adds each column (losing its values): here each column is converted in
-- place, so its values are kept and its indexes rebuilt. A value outside its set stops the
-- migration rather than being lost.

-- CreateEnum
CREATE TYPE "PrincipalKind" AS ENUM ('API_KEY', 'OIDC_SUBJECT', 'OIDC_GROUP');

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('ADMIN', 'WRITER', 'READER');

-- CreateEnum
CREATE TYPE "FileStatus" AS ENUM ('PENDING', 'UPLOADED', 'FAILED');

-- CreateEnum
CREATE TYPE "FileScope" AS ENUM ('WORKSPACE', 'ENTITY', 'SESSION');

-- CreateEnum
CREATE TYPE "UploadMethod" AS ENUM ('PUT', 'POST', 'MULTIPART');

-- CreateEnum
CREATE TYPE "WebhookEventType" AS ENUM ('CREATED', 'UPLOADED', 'FAILED', 'UPDATED', 'DELETED', 'UPLOAD_ABORTED');

-- CreateEnum
CREATE TYPE "WebhookDeliveryStatus" AS ENUM ('PENDING', 'DELIVERED', 'FAILED');

-- AlterTable
ALTER TABLE "Principal" ALTER COLUMN "kind" TYPE "PrincipalKind" USING "kind"::"PrincipalKind";

-- AlterTable
ALTER TABLE "Membership" ALTER COLUMN "role" TYPE "Role" USING "role"::"Role";

-- AlterTable: the text default cannot be cast with the column, so it is set again after.
ALTER TABLE "File" ALTER COLUMN "scope" DROP DEFAULT,
ALTER COLUMN "status" TYPE "FileStatus" USING "status"::"FileStatus",
ALTER COLUMN "scope" TYPE "FileScope" USING "scope"::"FileScope",
ALTER COLUMN "uploadMethod" TYPE "UploadMethod" USING "uploadMethod"::"UploadMethod",
ALTER COLUMN "scope" SET DEFAULT 'WORKSPACE';

-- AlterTable
ALTER TABLE "WebhookDelivery" ALTER COLUMN "eventType" TYPE "WebhookEventType" USING "eventType"::"WebhookEventType",
ALTER COLUMN "status" TYPE "WebhookDeliveryStatus" USING "status"::"WebhookDeliveryStatus";
