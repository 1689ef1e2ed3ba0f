/** The query GraphiQL opens with, in its first tab. */
export const GRAPHIQL_QUERY = `# Put your API key in the Authorization header below, then run this (Ctrl-Enter).
# Until then queries run as the anonymous caller (public workspaces only). Docs: in the sidebar.
query Workspaces {
  viewer {
    workspaces {
      id
      slug
      name
    }
  }
}
`;

/** The value GraphiQL's Authorization header starts with when the page at / has no key to give it. */
export const API_KEY_PLACEHOLDER = "<your API key>";

/** The headers pane GraphiQL opens with. */
export const GRAPHIQL_HEADERS = JSON.stringify({ Authorization: `Bearer ${API_KEY_PLACEHOLDER}` }, null, 2);

/** Where the page at / keeps the API key (session storage), which GraphiQL on the same origin reads. */
export const API_KEY_STORAGE = "graphql-files.apiKey";
