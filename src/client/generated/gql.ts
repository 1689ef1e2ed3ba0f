/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment UploadedFileFields on File {\n    id\n    name\n    mimeType\n    size\n    checksumSha256\n    status\n    labels\n    directory\n    dimensions {\n      width\n      height\n    }\n    createdAt\n    uploadedAt\n  }\n": typeof types.UploadedFileFieldsFragmentDoc,
    "\n  fragment UploadTargetFields on UploadTarget {\n    method\n    url\n    headers {\n      name\n      value\n    }\n    fields {\n      name\n      value\n    }\n    parts {\n      partNumber\n      url\n      headers {\n        name\n        value\n      }\n      etag\n    }\n    receivedParts {\n      partNumber\n      etag\n      size\n    }\n    partSize\n    expiresAt\n  }\n": typeof types.UploadTargetFieldsFragmentDoc,
    "\n  mutation CreateFile($input: CreateFileInput!) {\n    createFile(input: $input) {\n      __typename\n      ... on CreateFilePayload {\n        file {\n          ...UploadedFileFields\n        }\n        upload {\n          ...UploadTargetFields\n        }\n      }\n      ... on Error {\n        code\n        message\n      }\n      ... on ValidationError {\n        fieldErrors {\n          path\n          message\n        }\n      }\n      ... on PayloadTooLargeError {\n        maxSize\n      }\n    }\n  }\n": typeof types.CreateFileDocument,
    "\n  mutation CompleteUpload($input: CompleteUploadInput!) {\n    completeUpload(input: $input) {\n      __typename\n      ... on FilePayload {\n        file {\n          ...UploadedFileFields\n        }\n      }\n      ... on Error {\n        code\n        message\n      }\n      ... on PayloadTooLargeError {\n        maxSize\n      }\n    }\n  }\n": typeof types.CompleteUploadDocument,
    "\n  mutation AbortUpload($id: ID!) {\n    abortUpload(id: $id) {\n      __typename\n    }\n  }\n": typeof types.AbortUploadDocument,
    "\n  query PendingUpload($id: ID!) {\n    file(id: $id) {\n      ...UploadedFileFields\n      upload {\n        ...UploadTargetFields\n      }\n    }\n  }\n": typeof types.PendingUploadDocument,
    "\n  query Workspaces {\n    viewer {\n      workspaces {\n        id\n        slug\n        name\n      }\n    }\n  }\n": typeof types.WorkspacesDocument,
    "\n  query Files($workspaceId: ID!, $filter: FileFilter, $first: Int) {\n    files(workspaceId: $workspaceId, filter: $filter, first: $first) {\n      totalCount\n      edges {\n        node {\n          id\n          name\n          mimeType\n          size\n          status\n          labels\n          createdAt\n          downloadUrl\n          dimensions {\n            width\n            height\n          }\n        }\n      }\n    }\n  }\n": typeof types.FilesDocument,
    "\n  mutation DeleteFile($id: ID!) {\n    deleteFile(id: $id) {\n      __typename\n    }\n  }\n": typeof types.DeleteFileDocument,
};
const documents: Documents = {
    "\n  fragment UploadedFileFields on File {\n    id\n    name\n    mimeType\n    size\n    checksumSha256\n    status\n    labels\n    directory\n    dimensions {\n      width\n      height\n    }\n    createdAt\n    uploadedAt\n  }\n": types.UploadedFileFieldsFragmentDoc,
    "\n  fragment UploadTargetFields on UploadTarget {\n    method\n    url\n    headers {\n      name\n      value\n    }\n    fields {\n      name\n      value\n    }\n    parts {\n      partNumber\n      url\n      headers {\n        name\n        value\n      }\n      etag\n    }\n    receivedParts {\n      partNumber\n      etag\n      size\n    }\n    partSize\n    expiresAt\n  }\n": types.UploadTargetFieldsFragmentDoc,
    "\n  mutation CreateFile($input: CreateFileInput!) {\n    createFile(input: $input) {\n      __typename\n      ... on CreateFilePayload {\n        file {\n          ...UploadedFileFields\n        }\n        upload {\n          ...UploadTargetFields\n        }\n      }\n      ... on Error {\n        code\n        message\n      }\n      ... on ValidationError {\n        fieldErrors {\n          path\n          message\n        }\n      }\n      ... on PayloadTooLargeError {\n        maxSize\n      }\n    }\n  }\n": types.CreateFileDocument,
    "\n  mutation CompleteUpload($input: CompleteUploadInput!) {\n    completeUpload(input: $input) {\n      __typename\n      ... on FilePayload {\n        file {\n          ...UploadedFileFields\n        }\n      }\n      ... on Error {\n        code\n        message\n      }\n      ... on PayloadTooLargeError {\n        maxSize\n      }\n    }\n  }\n": types.CompleteUploadDocument,
    "\n  mutation AbortUpload($id: ID!) {\n    abortUpload(id: $id) {\n      __typename\n    }\n  }\n": types.AbortUploadDocument,
    "\n  query PendingUpload($id: ID!) {\n    file(id: $id) {\n      ...UploadedFileFields\n      upload {\n        ...UploadTargetFields\n      }\n    }\n  }\n": types.PendingUploadDocument,
    "\n  query Workspaces {\n    viewer {\n      workspaces {\n        id\n        slug\n        name\n      }\n    }\n  }\n": types.WorkspacesDocument,
    "\n  query Files($workspaceId: ID!, $filter: FileFilter, $first: Int) {\n    files(workspaceId: $workspaceId, filter: $filter, first: $first) {\n      totalCount\n      edges {\n        node {\n          id\n          name\n          mimeType\n          size\n          status\n          labels\n          createdAt\n          downloadUrl\n          dimensions {\n            width\n            height\n          }\n        }\n      }\n    }\n  }\n": types.FilesDocument,
    "\n  mutation DeleteFile($id: ID!) {\n    deleteFile(id: $id) {\n      __typename\n    }\n  }\n": types.DeleteFileDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment UploadedFileFields on File {\n    id\n    name\n    mimeType\n    size\n    checksumSha256\n    status\n    labels\n    directory\n    dimensions {\n      width\n      height\n    }\n    createdAt\n    uploadedAt\n  }\n"): typeof import('./graphql.js').UploadedFileFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment UploadTargetFields on UploadTarget {\n    method\n    url\n    headers {\n      name\n      value\n    }\n    fields {\n      name\n      value\n    }\n    parts {\n      partNumber\n      url\n      headers {\n        name\n        value\n      }\n      etag\n    }\n    receivedParts {\n      partNumber\n      etag\n      size\n    }\n    partSize\n    expiresAt\n  }\n"): typeof import('./graphql.js').UploadTargetFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateFile($input: CreateFileInput!) {\n    createFile(input: $input) {\n      __typename\n      ... on CreateFilePayload {\n        file {\n          ...UploadedFileFields\n        }\n        upload {\n          ...UploadTargetFields\n        }\n      }\n      ... on Error {\n        code\n        message\n      }\n      ... on ValidationError {\n        fieldErrors {\n          path\n          message\n        }\n      }\n      ... on PayloadTooLargeError {\n        maxSize\n      }\n    }\n  }\n"): typeof import('./graphql.js').CreateFileDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CompleteUpload($input: CompleteUploadInput!) {\n    completeUpload(input: $input) {\n      __typename\n      ... on FilePayload {\n        file {\n          ...UploadedFileFields\n        }\n      }\n      ... on Error {\n        code\n        message\n      }\n      ... on PayloadTooLargeError {\n        maxSize\n      }\n    }\n  }\n"): typeof import('./graphql.js').CompleteUploadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AbortUpload($id: ID!) {\n    abortUpload(id: $id) {\n      __typename\n    }\n  }\n"): typeof import('./graphql.js').AbortUploadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PendingUpload($id: ID!) {\n    file(id: $id) {\n      ...UploadedFileFields\n      upload {\n        ...UploadTargetFields\n      }\n    }\n  }\n"): typeof import('./graphql.js').PendingUploadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Workspaces {\n    viewer {\n      workspaces {\n        id\n        slug\n        name\n      }\n    }\n  }\n"): typeof import('./graphql.js').WorkspacesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Files($workspaceId: ID!, $filter: FileFilter, $first: Int) {\n    files(workspaceId: $workspaceId, filter: $filter, first: $first) {\n      totalCount\n      edges {\n        node {\n          id\n          name\n          mimeType\n          size\n          status\n          labels\n          createdAt\n          downloadUrl\n          dimensions {\n            width\n            height\n          }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql.js').FilesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteFile($id: ID!) {\n    deleteFile(id: $id) {\n      __typename\n    }\n  }\n"): typeof import('./graphql.js').DeleteFileDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
