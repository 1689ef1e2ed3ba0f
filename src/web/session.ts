// What the page keeps in session storage (this tab, until it closes): the API key and endpoint,
// the chosen workspace, and uploads interrupted by a reload, so they can be resumed.
import type { Api } from "../client/index.js";
import { API_KEY_STORAGE } from "./graphiql-defaults.js";

const ENDPOINT = "graphql-files.endpoint";
const WORKSPACE = "graphql-files.workspace";
const PENDING = "graphql-files.pending";

export interface SignedIn {
  key: string;
  endpoint: string;
}

export function signedIn(): SignedIn | null {
  const key = sessionStorage.getItem(API_KEY_STORAGE);
  const endpoint = sessionStorage.getItem(ENDPOINT);
  return key === null || endpoint === null ? null : { key, endpoint };
}

export function signIn({ key, endpoint }: SignedIn): void {
  sessionStorage.setItem(API_KEY_STORAGE, key);
  sessionStorage.setItem(ENDPOINT, endpoint);
}

export function signOut(): void {
  for (const name of [API_KEY_STORAGE, ENDPOINT, WORKSPACE, PENDING]) sessionStorage.removeItem(name);
}

export function apiOf({ key, endpoint }: SignedIn): Api {
  return { url: endpoint, headers: { authorization: `Bearer ${key}` } };
}

export const chosenWorkspace = {
  get: (): string | null => sessionStorage.getItem(WORKSPACE),
  set: (slug: string): void => sessionStorage.setItem(WORKSPACE, slug),
};

/** An upload whose file is recorded but whose bytes may not all have arrived. */
export interface PendingUpload {
  fileId: string;
  workspace: string;
  name: string;
  size: number;
  lastModified: number;
}

function readPending(): PendingUpload[] {
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(PENDING) ?? "[]");
    return Array.isArray(value) ? (value as PendingUpload[]) : [];
  } catch {
    return [];
  }
}

export const pendingUploads = {
  list: (workspace: string): PendingUpload[] => readPending().filter((upload) => upload.workspace === workspace),
  add(upload: PendingUpload): void {
    sessionStorage.setItem(
      PENDING,
      JSON.stringify([...readPending().filter((other) => other.fileId !== upload.fileId), upload]),
    );
  },
  remove(fileId: string): void {
    sessionStorage.setItem(PENDING, JSON.stringify(readPending().filter((upload) => upload.fileId !== fileId)));
  },
  /** The interrupted upload of this file (same name, size and modification time), if any. */
  find(workspace: string, file: File): PendingUpload | undefined {
    return readPending().find(
      (upload) =>
        upload.workspace === workspace &&
        upload.name === file.name &&
        upload.size === file.size &&
        upload.lastModified === file.lastModified,
    );
  },
};
