import { randomBytes, randomUUID } from "node:crypto";
import { type Db, PrincipalKind, type Role } from "../db/client.js";
import { hashApiKey } from "./grants.js";

// What `npm run admin` does: workspaces, API keys, and the roles of OIDC subjects and groups.

/** Creates a workspace with a unique slug; returns its internal id. */
export async function createWorkspace(db: Db, slug: string, name = slug, isPublic = false): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug)) {
    throw new Error("a workspace slug is 1-63 lower-case letters, digits and dashes, starting with a letter or digit");
  }
  const workspace = await db.workspace.create({ data: { id: randomUUID(), slug, name, public: isPublic } });
  return workspace.id;
}

async function workspaceId(db: Db, slug: string): Promise<string> {
  const workspace = await db.workspace.findUnique({ where: { slug }, select: { id: true } });
  if (workspace === null) throw new Error(`no workspace "${slug}"`);
  return workspace.id;
}

/**
 * Creates an API key with `role` in the workspace named by slug and returns the key, which is
 * shown only now: the database keeps its hash.
 */
export async function createApiKey(db: Db, workspaceSlug: string, role: Role, label?: string): Promise<string> {
  const id = await workspaceId(db, workspaceSlug);
  const key = `fk_${randomBytes(24).toString("base64url")}`;
  const principalId = randomUUID();
  await db.$transaction([
    db.principal.create({ data: { id: principalId, kind: PrincipalKind.API_KEY, subject: label ?? null } }),
    db.apiKey.create({ data: { id: randomUUID(), hash: hashApiKey(key), principalId } }),
    db.membership.create({ data: { principalId, workspaceId: id, role } }),
  ]);
  return key;
}

/** Revokes a key; later requests with it are UNAUTHENTICATED. Returns whether the key existed. */
export async function revokeApiKey(db: Db, key: string): Promise<boolean> {
  const revoked = await db.apiKey.updateMany({
    where: { hash: hashApiKey(key), revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return revoked.count > 0;
}

/** An OIDC subject (`sub`) or identity-provider group of an issuer. */
export type OidcBinding = { issuer: string } & ({ subject: string } | { group: string });

function principalOf(binding: OidcBinding): { kind: PrincipalKind; issuer: string; subject: string } {
  return "subject" in binding
    ? { kind: PrincipalKind.OIDC_SUBJECT, issuer: binding.issuer, subject: binding.subject }
    : { kind: PrincipalKind.OIDC_GROUP, issuer: binding.issuer, subject: binding.group };
}

/** Gives an OIDC subject or group `role` in a workspace, replacing the role it held there. */
export async function grantRole(db: Db, workspaceSlug: string, binding: OidcBinding, role: Role): Promise<void> {
  const id = await workspaceId(db, workspaceSlug);
  const identity = principalOf(binding);
  const principal = await db.principal.upsert({
    where: { kind_issuer_subject: identity },
    create: { id: randomUUID(), ...identity },
    update: {},
  });
  await db.membership.upsert({
    where: { principalId_workspaceId: { principalId: principal.id, workspaceId: id } },
    create: { principalId: principal.id, workspaceId: id, role },
    update: { role },
  });
}

/** Takes an OIDC subject's or group's role in a workspace away. Returns whether it had one. */
export async function revokeRole(db: Db, workspaceSlug: string, binding: OidcBinding): Promise<boolean> {
  const id = await workspaceId(db, workspaceSlug);
  const removed = await db.membership.deleteMany({ where: { workspaceId: id, principal: principalOf(binding) } });
  return removed.count > 0;
}

/** Who a security category is granted to: an OIDC subject or group, or the API keys with a label. */
export type CategoryBinding = OidcBinding | { keyLabel: string };

/**
 * Adds a security category to the memberships a binding has in a workspace (every key with the
 * label, for `keyLabel`); returns how many memberships changed. The binding must be a member.
 */
export async function grantCategory(
  db: Db,
  workspaceSlug: string,
  category: number,
  binding: CategoryBinding,
): Promise<number> {
  if (!Number.isSafeInteger(category) || category < 1) throw new Error("a category is a whole number from 1 to 2^53-1");
  const id = await workspaceId(db, workspaceSlug);
  const principal =
    "keyLabel" in binding ? { kind: PrincipalKind.API_KEY, subject: binding.keyLabel } : principalOf(binding);
  const memberships = await db.membership.findMany({
    where: { workspaceId: id, principal },
    select: { principalId: true, categories: true },
  });
  if (memberships.length === 0) throw new Error(`no such member of "${workspaceSlug}": grant it a role first`);
  for (const membership of memberships) {
    const categories = JSON.parse(membership.categories) as number[];
    if (categories.includes(category)) continue;
    await db.membership.update({
      where: { principalId_workspaceId: { principalId: membership.principalId, workspaceId: id } },
      data: { categories: JSON.stringify([...categories, category].sort((a, b) => a - b)) },
    });
  }
  return memberships.length;
}

export async function listWorkspaces(db: Db): Promise<{ slug: string; name: string; public: boolean }[]> {
  return db.workspace.findMany({ select: { slug: true, name: true, public: true }, orderBy: { slug: "asc" } });
}

/** Who holds a role in a workspace: keys (by label), OIDC subjects and groups, with their security categories. */
export async function listMembers(
  db: Db,
  workspaceSlug: string,
): Promise<{ kind: string; issuer: string | null; subject: string | null; role: string; categories: number[] }[]> {
  const id = await workspaceId(db, workspaceSlug);
  const members = await db.membership.findMany({
    where: { workspaceId: id },
    select: {
      role: true,
      categories: true,
      principal: { select: { kind: true, issuer: true, subject: true, createdAt: true } },
    },
  });
  return members
    .sort((a, b) => a.principal.createdAt.getTime() - b.principal.createdAt.getTime())
    .map(({ role, categories, principal }) => ({
      kind: principal.kind,
      issuer: principal.issuer,
      subject: principal.subject,
      role,
      categories: JSON.parse(categories) as number[],
    }));
}

/** The API keys with a role in a workspace (never the keys themselves: only their ids and labels). */
export async function listKeys(
  db: Db,
  workspaceSlug: string,
): Promise<{ id: string; label: string | null; role: string; createdAt: Date; revokedAt: Date | null }[]> {
  const id = await workspaceId(db, workspaceSlug);
  const keys = await db.apiKey.findMany({
    where: { principal: { memberships: { some: { workspaceId: id } } } },
    select: {
      id: true,
      createdAt: true,
      revokedAt: true,
      principal: { select: { subject: true, memberships: { where: { workspaceId: id }, select: { role: true } } } },
    },
    orderBy: { createdAt: "asc" },
  });
  return keys.map((key) => ({
    id: key.id,
    label: key.principal.subject,
    role: key.principal.memberships[0]?.role ?? "",
    createdAt: key.createdAt,
    revokedAt: key.revokedAt,
  }));
}
