// The page's own GraphQL operations, typed by graphql-codegen (src/client/generated).
import { graphql } from "../client/generated/gql.js";

export const WorkspacesDocument = graphql(`
  query Workspaces {
    viewer {
      workspaces {
        id
        slug
        name
      }
    }
  }
`);

export const FilesDocument = graphql(`
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
`);

export const DeleteFileDocument = graphql(`
  mutation DeleteFile($id: ID!) {
    deleteFile(id: $id) {
      __typename
    }
  }
`);
