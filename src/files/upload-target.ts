import { multipartTarget } from "./multipart.js";
import type { FileServiceOptions } from "./service.js";
import { defaultContentType, type FileRow, type UploadTarget } from "./types.js";

/**
 * Where the client sends the bytes of a PENDING upload, valid until `expiresAt`: a signed PUT or
 * POST, or for MULTIPART a URL per part not received yet (src/files/multipart.ts).
 */
export async function uploadTarget(
  options: Pick<FileServiceOptions, "db" | "storage" | "limits">,
  file: FileRow,
  expiresAt: Date,
): Promise<UploadTarget> {
  if (file.uploadMethod === "MULTIPART") return multipartTarget(options, file, expiresAt);
  const { limits, storage } = options;
  const size = file.size === null ? undefined : Number(file.size);
  const maxSize = size ?? Math.min(limits.maxSingleUploadBytes, limits.maxFileBytes);
  const method = file.uploadMethod === "POST" ? "POST" : "PUT";
  const signed = await storage.signUpload({
    key: file.storageKey,
    method,
    contentType: file.mimeType ?? defaultContentType,
    maxSize,
    exactSize: size,
    // Bound where the store verifies it on arrival; everywhere, completeUpload checks it.
    checksumSha256: storage.capabilities.checksumBinding ? (file.checksumSha256 ?? undefined) : undefined,
    expiresAt,
  });
  return { method, ...signed, parts: [], receivedParts: [], partSize: null, expiresAt, maxSize };
}
