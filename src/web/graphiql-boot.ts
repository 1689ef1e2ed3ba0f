// Starts GraphiQL (the UMD bundle from @graphql-yoga/render-graphiql, served by this server) with
// the options written into graphiql.html at build time. Monaco's workers load from this origin too.
import { API_KEY_PLACEHOLDER, API_KEY_STORAGE } from "./graphiql-defaults.js";

interface BootOptions {
  graphiql: { headers: string } & Record<string, unknown>;
  workers: Record<string, string>;
}

declare global {
  interface Window {
    YogaGraphiQL: { renderYogaGraphiQL(root: Element, options: Record<string, unknown>): void };
    MonacoEnvironment: { globalAPI: boolean; getWorkerUrl(moduleId: string, label: string): string };
  }
}

const options = JSON.parse(document.getElementById("graphiql-options")?.textContent ?? "{}") as BootOptions;
window.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: (_moduleId, label) => options.workers[label] ?? options.workers.editorWorkerService ?? "",
};
// While the Authorization header still holds the placeholder, GraphiQL's requests go without it:
// they run as the anonymous caller, who may run introspection, so the schema's docs load instead
// of every request answering 401.
const placeholder = `Bearer ${API_KEY_PLACEHOLDER}`;
const browserFetch = window.fetch.bind(window);
window.fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  if (headers.get("authorization") !== placeholder) return browserFetch(input, init);
  headers.delete("authorization");
  return browserFetch(input, { ...init, headers });
};
// Signed in on the page at /: GraphiQL starts with that key instead of the placeholder.
const key = sessionStorage.getItem(API_KEY_STORAGE);
const headers =
  key === null
    ? options.graphiql.headers
    : options.graphiql.headers.replace(API_KEY_PLACEHOLDER, JSON.stringify(key).slice(1, -1));
const root = document.getElementById("root");
if (root !== null) window.YogaGraphiQL.renderYogaGraphiQL(root, { ...options.graphiql, headers });
