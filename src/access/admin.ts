import { randomBytes, randomUUID } from "node:crypto";
import type { Db } from "../db/client.js";
import { hashApiKey, type Role } from "./caller.js";

export const roles: readonly Role[] = ["ADMIN", "WRITER", "READER"];

/** Creates a workspace with a unique slug; returns its internal id. */
export async function createWorkspace(db: Db, slug: string, name = slug, isPublic = false): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug)) {
    throw new Error("a workspace slug is 1-63 lower-case letters, digits and dashes, starting with a letter or digit");
  }
  const workspace = await db.workspace.create({ data: { id: randomUUID(), slug, name, public: isPublic } });
  return workspace.id;
}

/**
 * Creates an API key with `role` in the workspace named by slug and returns the key, which is
 * shown only now: the database keeps its hash.
 */
export async function createApiKey(db: Db, workspaceSlug: string, role: Role, label?: string): Promise<string> {
  const workspace = await db.workspace.findUnique({ where: { slug: workspaceSlug } });
  if (workspace === null) throw new Error(`no workspace "${workspaceSlug}"`);
  const key = `fk_${randomBytes(24).toString("base64url")}`;
  const principalId = randomUUID();
  await db.$transaction([
    db.principal.create({ data: { id: principalId, kind: "API_KEY", subject: label ?? null } }),
    db.apiKey.create({ data: { id: randomUUID(), hash: hashApiKey(key), principalId } }),
    db.membership.create({ data: { principalId, workspaceId: workspace.id, role } }),
  ]);
  return key;
}

/** Revokes a key; later requests with it are UNAUTHENTICATED. Returns whether the key existed. */
export async function revokeApiKey(db: Db, key: string): Promise<boolean> {
  const revoked = await db.apiKey.updateMany({ where: { hash: hashApiKey(key), revokedAt: null }, data: { revokedAt: new Date() } });
  return revoked.count > 0;
}
