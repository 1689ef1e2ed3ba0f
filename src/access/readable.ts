import type { Db, Prisma } from "../db/client.js";
import type { Caller } from "./caller.js";
import type { WorkspaceAccess } from "./policy.js";

// The one read filter. Every read of workspaces and files goes through these conditions, so
// what a caller can see is decided here and nowhere else: the workspaces it is a member of, and
// public ones.

/** The workspaces a caller can read. */
export function readableWorkspaces(caller: Caller): Prisma.WorkspaceWhereInput {
  return { OR: [{ id: { in: caller.memberWorkspaceIds } }, { public: true }] };
}

/**
 * The files a caller can read, in any workspace. A pending upload's row (an overwrite's new
 * content, `pendingForId` set) is part of its file, never a file of its own.
 */
export function readableFiles(caller: Caller): Prisma.FileWhereInput {
  return { pendingForId: null, OR: [{ workspaceId: { in: caller.memberWorkspaceIds } }, { workspace: { is: { public: true } } }] };
}

/** The files a caller can read in a workspace it can read (found by `findReadableWorkspace`). */
export function readableFilesIn(_caller: Caller, workspace: WorkspaceAccess): Prisma.FileWhereInput {
  return { workspaceId: workspace.id, pendingForId: null };
}

/**
 * The workspace `ref` names (internal id or slug) if the caller can read it, else null. A
 * member's workspaces are known from its grants without a query.
 */
export async function findReadableWorkspace(
  db: Db,
  caller: Caller,
  ref: string,
): Promise<(WorkspaceAccess & { slug: string }) | null> {
  const grant = caller.grantFor(ref);
  if (grant !== undefined) return { id: grant.workspaceId, slug: grant.slug, public: grant.public };
  return db.workspace.findFirst({
    where: { AND: [readableWorkspaces(caller), { OR: [{ id: ref }, { slug: ref }] }] },
    select: { id: true, slug: true, public: true },
  });
}

/**
 * The workspace of a file the caller was able to read, as a decision needs it. Such a file is in
 * one of the caller's workspaces, or else (the read filter admitted it) in a public one.
 */
export function workspaceOfReadable(caller: Caller, file: { workspaceId: string }): WorkspaceAccess {
  return { id: file.workspaceId, public: caller.grantFor(file.workspaceId)?.public ?? true };
}
