// The GraphQL operations graphql-files/client sends, typed by graphql-codegen (src/client/generated).
import { graphql } from "./generated/gql.js";

export const UploadedFileFields = graphql(`
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
`);

export const UploadTargetFields = graphql(`
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
`);

export const CreateFileDocument = graphql(`
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
`);

export const CompleteUploadDocument = graphql(`
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
`);

export const AbortUploadDocument = graphql(`
  mutation AbortUpload($id: ID!) {
    abortUpload(id: $id) {
      __typename
    }
  }
`);

export const PendingUploadDocument = graphql(`
  query PendingUpload($id: ID!) {
    file(id: $id) {
      ...UploadedFileFields
      upload {
        ...UploadTargetFields
      }
    }
  }
`);
