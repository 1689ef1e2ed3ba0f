/**
 * Where a file's bytes are stored: a key of its own, never reused, since the file's id is a fresh
 * UUID. A key names its file, so the upload routes and the sweeper can look it up by primary key.
 */
export function storageKeyOf(workspaceId: string, fileId: string): string {
  return `${workspaceId}/${fileId}`;
}

/** The file id a storage key names, if it is one of ours. */
export function fileIdOfKey(key: string): string | undefined {
  const id = key.split("/").at(-1);
  return id !== undefined && /^[0-9a-f-]{36}$/.test(id) ? id : undefined;
}
