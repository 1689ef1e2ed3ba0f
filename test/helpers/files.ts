import { createHash } from "node:crypto";
import type { TestServer } from "./server.js";

export const fileFields = `id name mimeType size checksumSha256 status uploaded externalId directory description source
  metadata labels assetIds dataSetId geoLocation scope entityId sessionId sourceCreatedTime sourceModifiedTime dimensions { width height }
  downloadUrl createdAt updatedAt uploadedAt`;

const errorFields = `... on Error { __typename message code }
  ... on PayloadTooLargeError { maxSize }`;

export const createFileMutation = `mutation ($input: CreateFileInput!) {
  createFile(input: $input) {
    __typename
    ... on ValidationError { fieldErrors { path message } }
    ... on CreateFilePayload {
      file { ${fileFields} }
      upload { method url headers { name value } fields { name value } expiresAt maxSize partSize
        parts { partNumber url headers { name value } etag } receivedParts { partNumber etag size } }
    }
    ${errorFields}
  }
}`;

export const completeUploadMutation = `mutation ($input: CompleteUploadInput!) {
  completeUpload(input: $input) {
    __typename
    ... on FilePayload { file { ${fileFields} } }
    ${errorFields}
  }
}`;

export interface FileResult {
  id: string;
  name: string;
  mimeType: string | null;
  size: number | null;
  checksumSha256: string | null;
  status: string;
  uploaded: boolean;
  externalId: string | null;
  directory: string | null;
  labels: string[];
  metadata: Record<string, string>;
  dimensions: { width: number; height: number } | null;
  downloadUrl: string | null;
  [field: string]: unknown;
}

export interface UploadTargetResult {
  method: string;
  url: string | null;
  headers: { name: string; value: string }[];
  fields: { name: string; value: string }[];
  expiresAt: string;
  maxSize: number | null;
  partSize: number | null;
  parts: { partNumber: number; url: string; headers: { name: string; value: string }[]; etag: string | null }[];
  receivedParts: { partNumber: number; etag: string; size: number }[];
}

export interface MutationResult {
  __typename: string;
  file?: FileResult;
  upload?: UploadTargetResult | null;
  message?: string;
  code?: string;
  fieldErrors?: { path: string[]; message: string }[];
  maxSize?: number;
}

export async function createFile(server: TestServer, input: Record<string, unknown>): Promise<MutationResult> {
  const response = await server.graphql<{ createFile: MutationResult }>(createFileMutation, {
    input: { workspaceId: "default", ...input },
  });
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data.createFile;
}

export async function completeUpload(server: TestServer, id: string, parts?: unknown[]): Promise<MutationResult> {
  const response = await server.graphql<{ completeUpload: MutationResult }>(completeUploadMutation, {
    input: { id, parts },
  });
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data.completeUpload;
}

/** PUTs bytes to a signed target with the headers it lists. */
export async function putBytes(
  target: UploadTargetResult,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<Response> {
  const required = Object.fromEntries(target.headers.map((header) => [header.name, header.value]));
  delete required["Content-Length"];
  // A copy typed as backed by an ArrayBuffer, which is what fetch's body type asks for.
  return fetch(target.url ?? "", { method: "PUT", headers: { ...required, ...headers }, body: Uint8Array.from(body) });
}

/** Creates a file, PUTs the bytes and completes it; returns the completed file. */
export async function uploadFile(
  server: TestServer,
  input: Record<string, unknown>,
  body: Uint8Array,
): Promise<FileResult> {
  const created = await createFile(server, input);
  if (created.__typename !== "CreateFilePayload" || !created.upload || !created.file) {
    throw new Error(`createFile failed: ${JSON.stringify(created)}`);
  }
  const put = await putBytes(created.upload, body);
  if (!put.ok) throw new Error(`PUT failed with ${put.status}: ${await put.text()}`);
  const completed = await completeUpload(server, created.file.id);
  if (completed.__typename !== "FilePayload" || !completed.file)
    throw new Error(`completeUpload failed: ${JSON.stringify(completed)}`);
  return completed.file;
}

/** The storage key of a file, by its global ID. */
export async function storageKeyOf(server: TestServer, globalId: string): Promise<string> {
  const id = Buffer.from(globalId, "base64")
    .toString("utf8")
    .replace(/^File:/, "");
  const row = await server.app.db.file.findUniqueOrThrow({ where: { id }, select: { storageKey: true } });
  return row.storageKey;
}

/** Whether the store holds an object for the file, whatever the driver. */
export async function hasStoredObject(server: TestServer, globalId: string): Promise<boolean> {
  return (await server.app.storage.headObject(await storageKeyOf(server, globalId))) !== null;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
