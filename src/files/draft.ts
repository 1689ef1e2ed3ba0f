/**
 * A createFile request checked and resolved into what its row will hold (a FileDraft), before
 * anything is written: the workspace the caller may create in, the folder, the fields, the
 * declared size against the limits and the upload method, the type against the allow-list.
 */
import { randomUUID } from "node:crypto";
import type { Caller } from "../access/caller.js";
import { type Action, authorize, type WorkspaceAccess } from "../access/policy.js";
import { findReadableWorkspace, readableFilesIn } from "../access/readable.js";
import type { Db, Prisma } from "../db/client.js";
import { NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from "./errors.js";
import { type ByteSource, sourceLimit } from "./ingest.js";
import { storageKeyOf } from "./keys.js";
import { mimeTypeAllowed } from "./mime.js";
import { buildFileData, fileName, labelRows } from "./records.js";
import type { FileServiceOptions } from "./service.js";
import type { CreateFileRequest, FileRecord, UploadMethod } from "./types.js";
import { checkDeclaredSize, unheldCategoryErrors, validateFileFields } from "./validation.js";

/** A validated create request: its row's columns (no status yet), labels, and the file whose externalId it takes over. */
export interface FileDraft {
  row: ReturnType<typeof buildFileData> &
    ReturnType<typeof fileName> & { id: string; workspaceId: string; storageKey: string; uploadMethod: UploadMethod };
  labels: string[];
  /** The labels when the request gives them (an overwrite keeps the file's labels otherwise). */
  labelsGiven: string[] | undefined;
  /** Whether an existing file with the externalId is to be overwritten rather than refused. */
  overwrite: boolean;
  /** The read filter of the caller in the workspace: an overwritten file must pass it. */
  readable: Prisma.FileWhereInput;
}

/** Validates a create request and resolves what its row will hold; writes nothing. */
export async function draftFile(
  options: Pick<FileServiceOptions, "db" | "storage" | "limits">,
  caller: Caller,
  request: CreateFileRequest,
  source: ByteSource | undefined,
): Promise<FileDraft> {
  const { limits, storage } = options;
  const workspace = await workspaceFor(options.db, caller, request.workspace, "file:create");
  const workspaceId = workspace.id;
  if (request.folderId != null) request = { ...request, directory: await folderPath(options.db, workspaceId, request) };
  const fieldErrors = validateFileFields(request, limits, ["input"], { requireName: true });
  if (fieldErrors.length > 0) throw new ValidationError(fieldErrors);
  // A caller gives a file only categories it holds: it could not read the file otherwise.
  const unheld = unheldCategoryErrors(request.securityCategories ?? [], caller.categoriesIn(workspaceId), [
    "input",
    "securityCategories",
  ]);
  if (unheld.length > 0) throw new ValidationError(unheld);
  const tooLarge = checkDeclaredSize(request.size ?? undefined, limits);
  if (tooLarge !== undefined) {
    throw new PayloadTooLargeError(
      `size is over the largest file accepted (${tooLarge.maxSize} bytes)`,
      tooLarge.maxSize,
    );
  }
  const method = request.uploadMethod ?? "PUT";
  if (source !== undefined) {
    const limit = sourceLimit(source, undefined, limits);
    if (request.size != null && request.size > limit) {
      throw new PayloadTooLargeError(`a file sent as ${source.kind} takes at most ${limit} bytes`, limit);
    }
  } else if (!storage.capabilities.uploadMethods.includes(method)) {
    const available = storage.capabilities.uploadMethods.join(", ");
    throw ValidationError.field(
      ["input", "uploadMethod"],
      `uploadMethod ${method} is not available with this deployment's ${storage.name} storage; use one of ${available}`,
    );
  } else if (method === "MULTIPART" && request.size == null) {
    throw ValidationError.field(["input", "size"], "size is required for MULTIPART uploads: it decides the parts");
  } else if (method !== "MULTIPART" && request.size != null && request.size > limits.maxSingleUploadBytes) {
    // A large PUT/POST is refused rather than switched to MULTIPART: the client would then get
    // a target of a shape it did not ask for (parts instead of a url).
    throw new PayloadTooLargeError(
      `a single ${method} upload takes at most ${limits.maxSingleUploadBytes} bytes; use uploadMethod MULTIPART`,
      limits.maxSingleUploadBytes,
    );
  }
  if (request.mimeType != null && !mimeTypeAllowed(request.mimeType, limits.allowedMimeTypes)) {
    throw new UnsupportedMediaTypeError(`files of type ${request.mimeType} are not accepted here`);
  }

  const id = randomUUID();
  const storageKey = storageKeyOf(workspaceId, id);
  const row = {
    ...buildFileData(request),
    ...fileName(request.name),
    id,
    workspaceId,
    storageKey,
    uploadMethod: method,
  };
  const labels = labelRows(workspaceId, request.labels).map(({ label }) => label);
  return {
    row,
    labels,
    labelsGiven: request.labels === undefined ? undefined : labels,
    overwrite: request.overwrite === true,
    readable: readableFilesIn(caller, workspace),
  };
}

/** The path of the folder `folderId` names in the workspace: the file's directory. */
async function folderPath(db: Db, workspaceId: string, { folderId, directory }: CreateFileRequest): Promise<string> {
  if (directory != null) {
    throw ValidationError.field(["input", "folderId"], "give folderId or directory, not both");
  }
  const folder = await db.folder.findFirst({
    where: { id: folderId ?? "", workspaceId },
    select: { path: true },
  });
  if (folder === null) throw new NotFoundError(`folderId ${folderId} names no folder of this workspace`);
  return folder.path;
}

/**
 * The workspace named by internal id or slug, if the caller may do `action` in it. One it
 * cannot read is NotFoundError, never a hint that it exists; one it can read but not act in is
 * ForbiddenError (src/access/policy.ts).
 */
async function workspaceFor(db: Db, caller: Caller, ref: string, action: Action): Promise<WorkspaceAccess> {
  const workspace = await findReadableWorkspace(db, caller, ref);
  const notFound = () => new NotFoundError(`workspace ${ref} was not found`);
  if (workspace === null) throw notFound();
  authorize(caller, action, workspace, notFound);
  return workspace;
}

/** The file an in-request upload is creating, as it would be read while its bytes arrive (it has no row yet). */
export function pendingRecord({ row, labels }: FileDraft, createdAt: Date): FileRecord {
  return {
    ...row,
    mimeType: row.mimeType ?? null,
    size: row.size ?? null,
    checksumSha256: row.checksumSha256 ?? null,
    externalId: row.externalId ?? null,
    directory: row.directory ?? null,
    description: row.description ?? null,
    source: row.source ?? null,
    metadata: row.metadata ?? "{}",
    scope: row.scope ?? "WORKSPACE",
    entityId: row.entityId ?? null,
    sessionId: row.sessionId ?? null,
    sourceCreatedTime: row.sourceCreatedTime ?? null,
    sourceModifiedTime: row.sourceModifiedTime ?? null,
    assetIds: row.assetIds ?? "[]",
    securityCategories: row.securityCategories ?? "[]",
    dataSetId: row.dataSetId ?? null,
    geoLocation: row.geoLocation ?? null,
    geoMinLongitude: row.geoMinLongitude ?? null,
    geoMinLatitude: row.geoMinLatitude ?? null,
    geoMaxLongitude: row.geoMaxLongitude ?? null,
    geoMaxLatitude: row.geoMaxLatitude ?? null,
    status: "PENDING",
    width: null,
    height: null,
    multipartUploadId: null,
    pendingForId: null,
    createdAt,
    updatedAt: createdAt,
    uploadedAt: null,
    expiresAt: null,
    labels: labels.map((label) => ({ label })),
  };
}
