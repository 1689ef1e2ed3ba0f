/**
 * Folders: directory paths made explicit. A folder is created with its parents (as `mkdir -p`),
 * found by id or path, and deleted only while it holds no folder and no file the caller can read. The files in a folder are those whose
 * `directory` is its path, whether they were created with `folderId` or with `directory`.
 */
import { randomUUID } from "node:crypto";
import type { Caller } from "../access/caller.js";
import { authorize } from "../access/policy.js";
import { findReadableWorkspace, readableFilesIn, readableWorkspaces } from "../access/readable.js";
import type { Db, Folder } from "../db/client.js";
import { isUniqueViolation, prismaErrorCode } from "../db/errors.js";
import { ConflictError, NotFoundError, ValidationError } from "./errors.js";
import { directoryProblem, normalizeDirectory } from "./validation.js";

/** Most subfolders `Folder.folders` lists at once. */
const maxFolderPage = 1000;

export class FolderService {
  constructor(private readonly db: Db) {}

  /** The folder with this id if the caller can read its workspace, else null. */
  folder(caller: Caller, id: string): Promise<Folder | null> {
    return this.db.folder.findFirst({ where: { id, workspace: readableWorkspaces(caller) } });
  }

  /** The folder at `path` in a workspace the caller can read, else null. */
  async folderByPath(caller: Caller, workspaceRef: string, path: string): Promise<Folder | null> {
    const workspace = await findReadableWorkspace(this.db, caller, workspaceRef);
    if (workspace === null) return null;
    return this.db.folder.findUnique({
      where: { workspaceId_path: { workspaceId: workspace.id, path: normalizeDirectory(path) } },
    });
  }

  /** The folders directly in a folder, by path. */
  children(folder: Folder, first: number): Promise<Folder[]> {
    if (first < 0 || first > maxFolderPage)
      throw ValidationError.field(["first"], `must be between 0 and ${maxFolderPage}`);
    return this.db.folder.findMany({ where: { parentId: folder.id }, orderBy: { path: "asc" }, take: first });
  }

  /** The folder's parent, null at the top. */
  parent(folder: Folder): Promise<Folder | null> {
    return folder.parentId === null
      ? Promise.resolve(null)
      : this.db.folder.findUnique({ where: { id: folder.parentId } });
  }

  /**
   * The folder at `path` in a workspace the caller may write to, created with every missing
   * parent; an existing folder is returned as it is.
   */
  async createFolder(caller: Caller, workspaceRef: string, path: string): Promise<Folder> {
    const workspace = await findReadableWorkspace(this.db, caller, workspaceRef);
    const notFound = () => new NotFoundError(`workspace ${workspaceRef} was not found`);
    if (workspace === null) throw notFound();
    authorize(caller, "folder:create", workspace, notFound);
    const normalized = normalizeDirectory(path);
    const problem = normalized === "/" ? "must name a folder below the root" : directoryProblem(normalized);
    if (problem !== undefined) throw ValidationError.field(["input", "path"], problem);
    const segments = normalized.slice(1).split("/");
    let parent: Folder | null = null;
    for (let depth = 1; depth <= segments.length; depth += 1) {
      parent = await this.ensure(workspace.id, `/${segments.slice(0, depth).join("/")}`, parent?.id ?? null);
    }
    return parent as Folder;
  }

  /** The folder at `path`, inserted if missing; a concurrent insert of the same folder wins. */
  private async ensure(workspaceId: string, path: string, parentId: string | null): Promise<Folder> {
    const where = { workspaceId_path: { workspaceId, path } };
    const existing = await this.db.folder.findUnique({ where });
    if (existing !== null) return existing;
    try {
      return await this.db.folder.create({ data: { id: randomUUID(), workspaceId, path, parentId } });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return this.db.folder.findUniqueOrThrow({ where });
    }
  }

  /**
   * Deletes an empty folder: ConflictError while it holds subfolders or files (in it or below it;
   * FileAncestor lists every file under a path).
   */
  async deleteFolder(caller: Caller, id: string): Promise<void> {
    const folder = await this.folder(caller, id);
    const notFound = () => new NotFoundError(`folder ${id} was not found`);
    if (folder === null) throw notFound();
    const workspace = { id: folder.workspaceId, public: caller.grantFor(folder.workspaceId)?.public ?? true };
    authorize(caller, "folder:delete", workspace, notFound);
    // Only files the caller can read keep the folder: a refusal for files it cannot see would
    // tell it they exist. Those files stay where they are (a folder is a path made explicit,
    // its files are not in it), and a folder created at the path again shows them.
    const [child, file] = await Promise.all([
      this.db.folder.findFirst({ where: { parentId: folder.id }, select: { id: true } }),
      this.db.fileAncestor.findFirst({
        where: {
          workspaceId: folder.workspaceId,
          directory: folder.path,
          file: { is: readableFilesIn(caller, workspace) },
        },
        select: { fileId: true },
      }),
    ]);
    if (child !== null) throw new ConflictError(`folder ${folder.path} holds folders: delete them first`);
    if (file !== null) throw new ConflictError(`folder ${folder.path} holds files: move or delete them first`);
    try {
      await this.db.folder.delete({ where: { id: folder.id } });
    } catch (error) {
      // A subfolder created meanwhile keeps it (the parent foreign key restricts the delete).
      if (prismaErrorCode(error) === "P2003")
        throw new ConflictError(`folder ${folder.path} holds folders: delete them first`);
      if (prismaErrorCode(error) !== "P2025") throw error;
    }
  }
}
