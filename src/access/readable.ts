import { type Db, Prisma } from "../db/client.js";
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
  return {
    pendingForId: null,
    OR: [
      ...caller.memberWorkspaceIds.map((workspaceId) => ({
        workspaceId,
        ...holdsCategories(caller.categoriesIn(workspaceId)),
      })),
      { workspace: { is: { public: true } }, ...holdsCategories([]) },
    ],
  };
}

/** The files a caller can read in a workspace it can read (found by `findReadableWorkspace`). */
export function readableFilesIn(caller: Caller, workspace: WorkspaceAccess): Prisma.FileWhereInput {
  return { workspaceId: workspace.id, pendingForId: null, ...holdsCategories(caller.categoriesIn(workspace.id)) };
}

/**
 * The files of a workspace that `readableFilesIn(caller, workspace)` leaves out for their
 * security categories, as a statement selecting their ids ("fileId"; a file once for each
 * category it has that the caller lacks), or null when there are none. Both read FileCategory's
 * `(workspaceId, category)` index. Its rows belong to files only, never to an overwrite's pending
 * upload (which `readableFilesIn` leaves out as well): a count of the files a caller can read is a
 * count without this filter less the matches among these files (src/files/listing.ts).
 */
export async function hiddenFilesIn(db: Db, caller: Caller, workspace: WorkspaceAccess): Promise<Prisma.Sql | null> {
  const held = caller.categoriesIn(workspace.id);
  const lacking = {
    workspaceId: workspace.id,
    ...(held.length === 0 ? {} : { category: { notIn: held.map(BigInt) } }),
  };
  if ((await db.fileCategory.count({ where: lacking, take: 1 })) === 0) return null;
  const notHeld = held.length === 0 ? Prisma.empty : Prisma.sql` AND c."category" NOT IN (${Prisma.join(held)})`;
  return Prisma.sql`SELECT c."fileId" FROM "FileCategory" c WHERE c."workspaceId" = ${workspace.id}${notHeld}`;
}

/**
 * Files whose security categories are all among `held`: no category of the file outside them
 * (an anti-join on FileCategory's primary key, which files without categories pass at once).
 */
function holdsCategories(held: readonly number[]): Prisma.FileWhereInput {
  return { categories: { none: held.length === 0 ? {} : { category: { notIn: held.map(BigInt) } } } };
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

/**
 * Whether the caller may read a file read by id without the filter (src/files/file-reads.ts):
 * the rule of `readableFiles`, in memory. Its workspace is one the caller is a member of, or a
 * public one, and `canReadFileInHand` holds there (a public workspace's non-member holds no
 * category, as in `readableFiles`).
 */
export function canReadFile(
  caller: Caller,
  file: { workspaceId: string; pendingForId: string | null; securityCategories: string },
  workspacePublic: boolean,
): boolean {
  const member = caller.roleIn(file.workspaceId) !== undefined;
  return (member || workspacePublic) && canReadFileInHand(caller, file);
}

/**
 * Whether the caller may read a file it already has in hand (a live event's snapshot), in a
 * workspace it can read: the same rule as `readableFilesIn`, in memory: not an overwrite's hidden
 * pending upload, and every security category of the file held.
 */
export function canReadFileInHand(caller: Caller, file: FileInHand): boolean {
  return mayReadWithCategories(caller.categoriesIn(file.workspaceId), file);
}

/**
 * Whether a webhook may be told of a file it has in hand (an event's snapshot): the rule of
 * `canReadFileInHand` for a reader holding the webhook's categories in the file's workspace.
 */
export function webhookMayRead(webhook: { securityCategories: string }, file: FileInHand): boolean {
  return mayReadWithCategories(JSON.parse(webhook.securityCategories) as number[], file);
}

/** A file in hand, as the in-memory checks need it. */
type FileInHand = { workspaceId: string; pendingForId: string | null; securityCategories: string };

function mayReadWithCategories(held: readonly number[], file: FileInHand): boolean {
  if (file.pendingForId !== null) return false;
  return (JSON.parse(file.securityCategories) as number[]).every((category) => held.includes(category));
}
