-- The closed string sets become Prisma enums. SQLite has no enum type: the columns stay TEXT and
-- the client checks their values, so nothing changes in the tables. What this migration does is
-- what PostgreSQL's cast does: a stored value outside its set stops the migration (a CHECK
-- constraint fails) instead of failing every later read of its row.
CREATE TEMP TABLE "_enum_check" (
    "value" TEXT NOT NULL,
    "allowed" TEXT NOT NULL,
    CHECK (instr("value", ',') = 0 AND instr("allowed", ',' || "value" || ',') > 0)
);
INSERT INTO "_enum_check" SELECT "kind", ',API_KEY,OIDC_SUBJECT,OIDC_GROUP,' FROM "Principal";
INSERT INTO "_enum_check" SELECT "role", ',ADMIN,WRITER,READER,' FROM "Membership";
INSERT INTO "_enum_check" SELECT "status", ',PENDING,UPLOADED,FAILED,' FROM "File";
INSERT INTO "_enum_check" SELECT "scope", ',WORKSPACE,ENTITY,SESSION,' FROM "File";
INSERT INTO "_enum_check" SELECT "uploadMethod", ',PUT,POST,MULTIPART,' FROM "File";
INSERT INTO "_enum_check" SELECT "eventType", ',CREATED,UPLOADED,FAILED,UPDATED,DELETED,UPLOAD_ABORTED,' FROM "WebhookDelivery";
INSERT INTO "_enum_check" SELECT "status", ',PENDING,DELIVERED,FAILED,' FROM "WebhookDelivery";
DROP TABLE "_enum_check";
