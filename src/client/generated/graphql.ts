/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type CompleteUploadInput = {
  id: string | number;
  parts?: Array<CompletedPart> | null | undefined;
};

export type CompletedPart = {
  etag: string;
  partNumber: number;
};

export type CreateFileInput = {
  /** 1 to 1000 distinct asset ids the file is linked to. */
  assetIds?: Array<number> | null | undefined;
  /** Hex SHA-256; when given, the upload must match it. */
  checksumSha256?: string | null | undefined;
  /** The bytes as standard, padded base64; at most MAX_INLINE_BYTES decoded. */
  content?: string | null | undefined;
  dataSetId?: number | null | undefined;
  description?: string | null | undefined;
  directory?: string | null | undefined;
  /** Required with scope ENTITY, refused with any other scope. */
  entityId?: string | null | undefined;
  /** Your own id, unique in the workspace. */
  externalId?: string | null | undefined;
  /** The bytes, in this request (GraphQL multipart request spec). At most one of file, content, sourceUrl. */
  file?: File | Blob | null | undefined;
  /** The folder the file goes in: its path becomes the file's directory (give this or directory). */
  folderId?: string | number | null | undefined;
  /** A GeoJSON Feature (RFC 7946) whose geometry is a Point, MultiPoint, LineString, MultiLineString, Polygon or MultiPolygon; positions [longitude, latitude(, altitude)]; at most 10000 positions. */
  geoLocation?: unknown;
  labels?: Array<string> | null | undefined;
  /** An object; its values may be any JSON (strings, numbers, booleans, null, arrays, objects). */
  metadata?: unknown;
  mimeType?: string | null | undefined;
  name: string;
  /** With externalId: change that file in place (same id), keeping its content until the new content is verified. Fields left out are kept; a field given as null is cleared (metadata, labels, assetIds and securityCategories to empty). */
  overwrite?: boolean | null | undefined;
  scope?: FileScope | null | undefined;
  /** At most 100 distinct categories, each held by the caller; only callers holding all of them can read or change the file. */
  securityCategories?: Array<number> | null | undefined;
  /** A UUID; required with scope SESSION, refused with any other scope. */
  sessionId?: string | null | undefined;
  /** Bytes; when given, the upload must have exactly this size. */
  size?: number | null | undefined;
  source?: string | null | undefined;
  /** Not before 1970-01-01T00:00:00Z. */
  sourceCreatedTime?: string | null | undefined;
  /** Not before 1970-01-01T00:00:00Z. */
  sourceModifiedTime?: string | null | undefined;
  /** An http(s) URL the server downloads the bytes from. */
  sourceUrl?: string | null | undefined;
  uploadMethod?: UploadMethod | null | undefined;
  /** The workspace's ID, or its slug (e.g. "default"). */
  workspaceId: string | number;
};

export type FileFilter = {
  /** Files linked to at least one of these assets (at most 100). */
  assetIdsAny?: Array<number> | null | undefined;
  createdAfter?: string | null | undefined;
  createdBefore?: string | null | undefined;
  /** Files in one of these data sets (at most 100). */
  dataSetIds?: Array<number> | null | undefined;
  /** Exact directory. */
  directory?: string | null | undefined;
  /** "/a/b" matches "/a/b" and everything below it. */
  directoryPrefix?: string | null | undefined;
  entityId?: string | null | undefined;
  externalIdPrefix?: string | null | undefined;
  /** Files whose geoLocation's bounding box meets this box. */
  geoIntersects?: GeoBoundingBox | null | undefined;
  labelsAll?: Array<string> | null | undefined;
  labelsAny?: Array<string> | null | undefined;
  /** Files whose metadata has each of these keys with exactly that JSON value (objects compared whatever their key order): { "tags": ["a", "b"], "reviewed": true }. At most 16 keys. */
  metadata?: unknown;
  /** Exact type, or "image/*". */
  mimeType?: string | null | undefined;
  /** Case-insensitive. */
  nameContains?: string | null | undefined;
  scope?: FileScope | null | undefined;
  sessionId?: string | null | undefined;
  status?: FileStatus | null | undefined;
  uploadedAfter?: string | null | undefined;
  uploadedBefore?: string | null | undefined;
};

export type FileScope =
  | 'ENTITY'
  | 'SESSION'
  | 'WORKSPACE';

export type FileStatus =
  | 'FAILED'
  | 'PENDING'
  | 'UPLOADED';

/** A box in degrees (WGS 84, as in GeoJSON). minLongitude greater than maxLongitude is a box across the antimeridian. */
export type GeoBoundingBox = {
  maxLatitude: number;
  maxLongitude: number;
  minLatitude: number;
  minLongitude: number;
};

/** How the client sends a PENDING file's bytes. Which methods a deployment offers depends on its storage driver (STORAGE_DRIVER): local and s3 offer all three, azure offers PUT and MULTIPART. createFile answers a method the deployment does not offer with a ValidationError on uploadMethod naming those it does. */
export type UploadMethod =
  /** The file in parts of `partSize`, each PUT to its own URL, then completeUpload with every part's ETag (every driver; on azure the parts are blocks of a block blob and each part's ETag is given in `etag`). */
  | 'MULTIPART'
  /** A multipart/form-data POST to `url`: `fields` in order, the file last as field "file" (local and s3; not azure). */
  | 'POST'
  /** One PUT of the whole file to `url` with every header in `headers` (every driver). */
  | 'PUT';

export type UploadedFileFieldsFragment = { id: string, name: string, mimeType: string | null, size: number | null, checksumSha256: string | null, status: FileStatus, labels: Array<string>, directory: string | null, createdAt: string, uploadedAt: string | null, dimensions: { width: number, height: number } | null };

export type UploadTargetFieldsFragment = { method: UploadMethod, url: string | null, partSize: number | null, expiresAt: string, headers: Array<{ name: string, value: string }>, fields: Array<{ name: string, value: string }>, parts: Array<{ partNumber: number, url: string, etag: string | null, headers: Array<{ name: string, value: string }> }>, receivedParts: Array<{ partNumber: number, etag: string, size: number }> };

export type CreateFileMutationVariables = Exact<{
  input: CreateFileInput;
}>;


export type CreateFileMutation = { createFile:
    | { __typename: 'ConflictError', code: string, message: string }
    | { __typename: 'CreateFilePayload', file: { id: string, name: string, mimeType: string | null, size: number | null, checksumSha256: string | null, status: FileStatus, labels: Array<string>, directory: string | null, createdAt: string, uploadedAt: string | null, dimensions: { width: number, height: number } | null }, upload: { method: UploadMethod, url: string | null, partSize: number | null, expiresAt: string, headers: Array<{ name: string, value: string }>, fields: Array<{ name: string, value: string }>, parts: Array<{ partNumber: number, url: string, etag: string | null, headers: Array<{ name: string, value: string }> }>, receivedParts: Array<{ partNumber: number, etag: string, size: number }> } | null }
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'PayloadTooLargeError', code: string, message: string, maxSize: number }
    | { __typename: 'UnsupportedMediaTypeError', code: string, message: string }
    | { __typename: 'ValidationError', code: string, message: string, fieldErrors: Array<{ path: Array<string>, message: string }> }
   };

export type CompleteUploadMutationVariables = Exact<{
  input: CompleteUploadInput;
}>;


export type CompleteUploadMutation = { completeUpload:
    | { __typename: 'FilePayload', file: { id: string, name: string, mimeType: string | null, size: number | null, checksumSha256: string | null, status: FileStatus, labels: Array<string>, directory: string | null, createdAt: string, uploadedAt: string | null, dimensions: { width: number, height: number } | null } }
    | { __typename: 'NotFoundError', code: string, message: string }
    | { __typename: 'PayloadTooLargeError', code: string, message: string, maxSize: number }
    | { __typename: 'UnsupportedMediaTypeError', code: string, message: string }
    | { __typename: 'UploadIncompleteError', code: string, message: string }
   };

export type AbortUploadMutationVariables = Exact<{
  id: string | number;
}>;


export type AbortUploadMutation = { abortUpload:
    | { __typename: 'DeletedFile' }
    | { __typename: 'NotFoundError' }
   };

export type PendingUploadQueryVariables = Exact<{
  id: string | number;
}>;


export type PendingUploadQuery = { file: { id: string, name: string, mimeType: string | null, size: number | null, checksumSha256: string | null, status: FileStatus, labels: Array<string>, directory: string | null, createdAt: string, uploadedAt: string | null, upload: { method: UploadMethod, url: string | null, partSize: number | null, expiresAt: string, headers: Array<{ name: string, value: string }>, fields: Array<{ name: string, value: string }>, parts: Array<{ partNumber: number, url: string, etag: string | null, headers: Array<{ name: string, value: string }> }>, receivedParts: Array<{ partNumber: number, etag: string, size: number }> } | null, dimensions: { width: number, height: number } | null } | null };

export type WorkspacesQueryVariables = Exact<{ [key: string]: never; }>;


export type WorkspacesQuery = { viewer: { workspaces: Array<{ id: string, slug: string, name: string }> } | null };

export type FilesQueryVariables = Exact<{
  workspaceId: string | number;
  filter?: FileFilter | null | undefined;
  first?: number | null | undefined;
}>;


export type FilesQuery = { files: { totalCount: number, edges: Array<{ node: { id: string, name: string, mimeType: string | null, size: number | null, status: FileStatus, labels: Array<string>, createdAt: string, downloadUrl: string | null, dimensions: { width: number, height: number } | null } }> } };

export type DeleteFileMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteFileMutation = { deleteFile:
    | { __typename: 'DeletedFile' }
    | { __typename: 'NotFoundError' }
   };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const UploadedFileFieldsFragmentDoc = new TypedDocumentString(`
    fragment UploadedFileFields on File {
  id
  name
  mimeType
  size
  checksumSha256
  status
  labels
  directory
  dimensions {
    width
    height
  }
  createdAt
  uploadedAt
}
    `, {"fragmentName":"UploadedFileFields"}) as unknown as TypedDocumentString<UploadedFileFieldsFragment, unknown>;
export const UploadTargetFieldsFragmentDoc = new TypedDocumentString(`
    fragment UploadTargetFields on UploadTarget {
  method
  url
  headers {
    name
    value
  }
  fields {
    name
    value
  }
  parts {
    partNumber
    url
    headers {
      name
      value
    }
    etag
  }
  receivedParts {
    partNumber
    etag
    size
  }
  partSize
  expiresAt
}
    `, {"fragmentName":"UploadTargetFields"}) as unknown as TypedDocumentString<UploadTargetFieldsFragment, unknown>;
export const CreateFileDocument = new TypedDocumentString(`
    mutation CreateFile($input: CreateFileInput!) {
  createFile(input: $input) {
    __typename
    ... on CreateFilePayload {
      file {
        ...UploadedFileFields
      }
      upload {
        ...UploadTargetFields
      }
    }
    ... on Error {
      code
      message
    }
    ... on ValidationError {
      fieldErrors {
        path
        message
      }
    }
    ... on PayloadTooLargeError {
      maxSize
    }
  }
}
    fragment UploadedFileFields on File {
  id
  name
  mimeType
  size
  checksumSha256
  status
  labels
  directory
  dimensions {
    width
    height
  }
  createdAt
  uploadedAt
}
fragment UploadTargetFields on UploadTarget {
  method
  url
  headers {
    name
    value
  }
  fields {
    name
    value
  }
  parts {
    partNumber
    url
    headers {
      name
      value
    }
    etag
  }
  receivedParts {
    partNumber
    etag
    size
  }
  partSize
  expiresAt
}`) as unknown as TypedDocumentString<CreateFileMutation, CreateFileMutationVariables>;
export const CompleteUploadDocument = new TypedDocumentString(`
    mutation CompleteUpload($input: CompleteUploadInput!) {
  completeUpload(input: $input) {
    __typename
    ... on FilePayload {
      file {
        ...UploadedFileFields
      }
    }
    ... on Error {
      code
      message
    }
    ... on PayloadTooLargeError {
      maxSize
    }
  }
}
    fragment UploadedFileFields on File {
  id
  name
  mimeType
  size
  checksumSha256
  status
  labels
  directory
  dimensions {
    width
    height
  }
  createdAt
  uploadedAt
}`) as unknown as TypedDocumentString<CompleteUploadMutation, CompleteUploadMutationVariables>;
export const AbortUploadDocument = new TypedDocumentString(`
    mutation AbortUpload($id: ID!) {
  abortUpload(id: $id) {
    __typename
  }
}
    `) as unknown as TypedDocumentString<AbortUploadMutation, AbortUploadMutationVariables>;
export const PendingUploadDocument = new TypedDocumentString(`
    query PendingUpload($id: ID!) {
  file(id: $id) {
    ...UploadedFileFields
    upload {
      ...UploadTargetFields
    }
  }
}
    fragment UploadedFileFields on File {
  id
  name
  mimeType
  size
  checksumSha256
  status
  labels
  directory
  dimensions {
    width
    height
  }
  createdAt
  uploadedAt
}
fragment UploadTargetFields on UploadTarget {
  method
  url
  headers {
    name
    value
  }
  fields {
    name
    value
  }
  parts {
    partNumber
    url
    headers {
      name
      value
    }
    etag
  }
  receivedParts {
    partNumber
    etag
    size
  }
  partSize
  expiresAt
}`) as unknown as TypedDocumentString<PendingUploadQuery, PendingUploadQueryVariables>;
export const WorkspacesDocument = new TypedDocumentString(`
    query Workspaces {
  viewer {
    workspaces {
      id
      slug
      name
    }
  }
}
    `) as unknown as TypedDocumentString<WorkspacesQuery, WorkspacesQueryVariables>;
export const FilesDocument = new TypedDocumentString(`
    query Files($workspaceId: ID!, $filter: FileFilter, $first: Int) {
  files(workspaceId: $workspaceId, filter: $filter, first: $first) {
    totalCount
    edges {
      node {
        id
        name
        mimeType
        size
        status
        labels
        createdAt
        downloadUrl
        dimensions {
          width
          height
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<FilesQuery, FilesQueryVariables>;
export const DeleteFileDocument = new TypedDocumentString(`
    mutation DeleteFile($id: ID!) {
  deleteFile(id: $id) {
    __typename
  }
}
    `) as unknown as TypedDocumentString<DeleteFileMutation, DeleteFileMutationVariables>;