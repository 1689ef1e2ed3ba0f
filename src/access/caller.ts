import { createHash, randomUUID } from "node:crypto";
import type { Db } from "../db/client.js";
import { prismaErrorCode } from "../db/errors.js";

export type Role = "ADMIN" | "WRITER" | "READER";

const rank: Record<Role, number> = { READER: 1, WRITER: 2, ADMIN: 3 };

/** A workspace the caller belongs to, and the role they hold in it. */
export interface MembershipOf {
  workspaceId: string;
  slug: string;
  role: Role;
}

/** Who is calling and what they may do in each workspace. */
export class Caller {
  private readonly memberships: ReadonlyMap<string, MembershipOf>;

  constructor(
    readonly principalId: string,
    memberships: readonly MembershipOf[],
  ) {
    this.memberships = new Map(memberships.map((membership) => [membership.workspaceId, membership]));
  }

  /** Workspaces the caller can read, as internal ids. */
  get readableWorkspaceIds(): string[] {
    return [...this.memberships.keys()];
  }

  can(workspaceId: string, role: Role): boolean {
    const held = this.memberships.get(workspaceId)?.role;
    return held !== undefined && rank[held] >= rank[role];
  }

  /**
   * The internal id of the workspace `ref` names (its id or its slug) when the caller holds
   * `role` in it. A workspace the caller is not a member of is not theirs to know of.
   */
  workspaceId(ref: string, role: Role): string | undefined {
    const membership = this.memberships.get(ref) ?? [...this.memberships.values()].find((m) => m.slug === ref);
    return membership !== undefined && this.can(membership.workspaceId, role) ? membership.workspaceId : undefined;
  }
}

/** Keys are stored as their SHA-256: they are long random strings, so no slow hash is needed. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** The bearer token of an `Authorization` header, or undefined when there is none. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return match?.[1];
}

/**
 * The caller an API key belongs to, or null when the key is unknown or revoked. Every request
 * runs this, so it is one SQL statement (the key with its memberships and their workspaces'
 * slugs) rather than Prisma's nested reads, which compile and run a query per relation.
 */
export async function callerForApiKey(db: Db, key: string): Promise<Caller | null> {
  const rows = await db.$queryRaw<{ principalId: string; workspaceId: string | null; slug: string | null; role: string | null }[]>`
    SELECT k."principalId", m."workspaceId", w."slug", m."role"
    FROM "ApiKey" k
    LEFT JOIN "Membership" m ON m."principalId" = k."principalId"
    LEFT JOIN "Workspace" w ON w."id" = m."workspaceId"
    WHERE k."hash" = ${hashApiKey(key)} AND k."revokedAt" IS NULL`;
  const first = rows[0];
  if (first === undefined) return null;
  const memberships = rows.flatMap(({ workspaceId, slug, role }) =>
    workspaceId === null || slug === null || role === null ? [] : [{ workspaceId, slug, role: role as Role }],
  );
  return new Caller(first.principalId, memberships);
}

export const defaultWorkspaceSlug = "default";

/**
 * Makes `key` an admin of workspace `default`, creating the workspace, the key's principal and
 * the membership as needed. Idempotent, and safe when several instances start at once.
 */
export async function ensureBootstrapKey(db: Db, key: string): Promise<void> {
  // Instances starting together race here. On PostgreSQL both transactions may find no
  // workspace or key and one insert then fails on the unique index (P2002). On SQLite (WAL) a
  // transaction that read before another committed a write cannot write itself
  // (SQLITE_BUSY_SNAPSHOT, which the adapter reports as a timeout, P1008). Either way a fresh
  // attempt sees the other instance's rows.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await bootstrapOnce(db, hashApiKey(key));
    } catch (error) {
      const code = prismaErrorCode(error);
      if ((code !== "P2002" && code !== "P1008") || attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt * Math.random()));
    }
  }
}

async function bootstrapOnce(db: Db, hash: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const workspace = await tx.workspace.upsert({
      where: { slug: defaultWorkspaceSlug },
      create: { id: randomUUID(), slug: defaultWorkspaceSlug, name: "Default" },
      update: {},
    });
    const existing = await tx.apiKey.findUnique({ where: { hash } });
    const principalId = existing?.principalId ?? randomUUID();
    if (existing === null) {
      await tx.principal.create({ data: { id: principalId, kind: "API_KEY", subject: "bootstrap" } });
      await tx.apiKey.create({ data: { id: randomUUID(), hash, principalId } });
    }
    await tx.membership.upsert({
      where: { principalId_workspaceId: { principalId, workspaceId: workspace.id } },
      create: { principalId, workspaceId: workspace.id, role: "ADMIN" },
      update: { role: "ADMIN" },
    });
  });
}
