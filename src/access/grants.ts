import { createHash } from "node:crypto";
import { type Db, PrincipalKind, Prisma, type Role } from "../db/client.js";
import { rawRows } from "../db/raw.js";
import type { Grant } from "./caller.js";
import type { KeyGrants } from "./grant-cache.js";

// The grants of a principal: one SQL statement each (the bindings with their workspaces' slugs
// and public flags) rather than Prisma's nested reads, which compile and run a statement per
// relation. An API key's are kept for a moment (src/access/grant-cache.ts); a revoked key or a
// changed role takes effect on the next request of every instance the change is announced to.

/** Keys are stored as their SHA-256: they are long random strings, so no slow hash is needed. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

interface GrantRow {
  workspaceId: string | null;
  slug: string | null;
  public: unknown;
  role: Role | null;
  categories: string | null;
}

function toGrants(rows: readonly GrantRow[]): Grant[] {
  return rows.flatMap(({ workspaceId, slug, role, public: isPublic, categories }) =>
    workspaceId === null || slug === null || role === null
      ? []
      : [
          {
            workspaceId,
            slug,
            role,
            // SQLite answers booleans as 0/1 (a bigint through the adapter), PostgreSQL as booleans.
            public: isPublic === true || Number(isPublic) === 1,
            categories: JSON.parse(categories ?? "[]") as number[],
          },
        ],
  );
}

/** The principal and grants of an API key, or null when the key is unknown or revoked. */
export async function apiKeyGrants(db: Db, key: string): Promise<KeyGrants | null> {
  const rows = await rawRows<GrantRow & { principalId: string }>(
    db,
    Prisma.sql`
      SELECT k."principalId", m."workspaceId", w."slug", w."public", m."role", m."categories"
      FROM "ApiKey" k
      LEFT JOIN "Membership" m ON m."principalId" = k."principalId"
      LEFT JOIN "Workspace" w ON w."id" = m."workspaceId"
      WHERE k."hash" = ${hashApiKey(key)} AND k."revokedAt" IS NULL`,
  );
  const first = rows[0];
  return first === undefined ? null : { principalId: first.principalId, grants: toGrants(rows) };
}

/** The grants bound to an OIDC subject and to any of its identity-provider groups. */
export async function oidcGrants(db: Db, issuer: string, subject: string, groups: readonly string[]): Promise<Grant[]> {
  const byGroup =
    groups.length === 0
      ? Prisma.empty
      : Prisma.sql` OR (p."kind" = ${PrincipalKind.OIDC_GROUP} AND p."subject" IN (${Prisma.join(groups)}))`;
  const rows = await db.$queryRaw<GrantRow[]>`
    SELECT m."workspaceId", w."slug", w."public", m."role", m."categories"
    FROM "Principal" p
    JOIN "Membership" m ON m."principalId" = p."id"
    JOIN "Workspace" w ON w."id" = m."workspaceId"
    WHERE p."issuer" = ${issuer}
      AND ((p."kind" = ${PrincipalKind.OIDC_SUBJECT} AND p."subject" = ${subject})${byGroup})`;
  return toGrants(rows);
}
