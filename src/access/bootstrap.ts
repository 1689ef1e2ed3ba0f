import { randomUUID } from "node:crypto";
import { type Db, PrincipalKind } from "../db/client.js";
import { prismaErrorCode } from "../db/errors.js";
import { hashApiKey } from "./grants.js";

/** The workspace BOOTSTRAP_API_KEY administers. */
const bootstrapWorkspaceSlug = "default";

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
      where: { slug: bootstrapWorkspaceSlug },
      create: { id: randomUUID(), slug: bootstrapWorkspaceSlug, name: "Default" },
      update: {},
    });
    const existing = await tx.apiKey.findUnique({ where: { hash } });
    const principalId = existing?.principalId ?? randomUUID();
    if (existing === null) {
      await tx.principal.create({ data: { id: principalId, kind: PrincipalKind.API_KEY, subject: "bootstrap" } });
      await tx.apiKey.create({ data: { id: randomUUID(), hash, principalId } });
    }
    await tx.membership.upsert({
      where: { principalId_workspaceId: { principalId, workspaceId: workspace.id } },
      create: { principalId, workspaceId: workspace.id, role: "ADMIN" },
      update: { role: "ADMIN" },
    });
  });
}
