// The page at /: sign in with an API key, pick a workspace, drop files to upload them, find them again.
import "./style.css";
import { type Api, ApiError, graphqlRequest, type UploadMethodChoice } from "../client/index.js";
import { byId, h } from "./dom.js";
import { FilesList } from "./files-list.js";
import { FileChanges, followFileEvents } from "./live.js";
import { WorkspacesDocument } from "./operations.js";
import { apiOf, chosenWorkspace, type SignedIn, signedIn, signIn, signOut } from "./session.js";
import { Uploads } from "./uploads.js";

/** The endpoint to sign in to: ?api=… (another server), else this origin's /graphql. */
function defaultEndpoint(): string {
  return new URLSearchParams(location.search).get("api") ?? new URL("/graphql", location.href).href;
}

function describe(error: unknown, endpoint: string): string {
  if (error instanceof ApiError && error.code === "UNAUTHENTICATED") return "This API key is not valid.";
  if (error instanceof ApiError && error.code === "NETWORK_ERROR" && new URL(endpoint).origin !== location.origin) {
    return `Cannot reach ${endpoint}. From this page's origin the server must list ${location.origin} in CORS_ORIGINS.`;
  }
  return error instanceof Error ? error.message : String(error);
}

async function workspacesOf(api: Api) {
  const { viewer } = await graphqlRequest(api, WorkspacesDocument, {});
  return viewer?.workspaces ?? [];
}

function showSignIn(): void {
  byId("account").hidden = true;
  byId("workspace-view").hidden = true;
  const form = byId<HTMLFormElement>("sign-in");
  form.hidden = false;
  const endpoint = byId<HTMLInputElement>("api-url");
  endpoint.value = defaultEndpoint();
  form.onsubmit = async (event) => {
    event.preventDefault();
    const session: SignedIn = { key: byId<HTMLInputElement>("api-key").value.trim(), endpoint: endpoint.value.trim() };
    try {
      const workspaces = await workspacesOf(apiOf(session));
      signIn(session);
      form.hidden = true;
      showWorkspaces(session, workspaces);
    } catch (error) {
      byId("sign-in-error").textContent = describe(error, session.endpoint);
    }
  };
}

function showWorkspaces(session: SignedIn, workspaces: { id: string; slug: string; name: string }[]): void {
  byId("account").hidden = false;
  const select = byId<HTMLSelectElement>("workspace");
  select.replaceChildren(...workspaces.map((workspace) => h("option", { value: workspace.slug }, workspace.name)));
  const chosen = chosenWorkspace.get();
  if (chosen !== null && workspaces.some((workspace) => workspace.slug === chosen)) select.value = chosen;
  select.onchange = () => {
    chosenWorkspace.set(select.value);
    openWorkspace(session, select.value);
  };
  byId<HTMLAnchorElement>("graphiql-link").href = session.endpoint;
  byId("sign-out").onclick = () => {
    signOut();
    location.reload();
  };
  if (workspaces.length === 0) {
    byId("files-count").textContent = "This key has no workspace.";
    return;
  }
  openWorkspace(session, select.value);
}

/** Stops following the events of the workspace opened before. */
let stopFollowing = (): void => undefined;

/** Wires the drop zone, the uploads and the file list to one workspace, and follows its file events. */
function openWorkspace(session: SignedIn, workspace: string): void {
  const api = apiOf(session);
  byId("workspace-view").hidden = false;
  byId("uploads").replaceChildren();
  const changes = new FileChanges();
  const list = new FilesList(api, workspace, changes);
  changes.watch(() => void list.refresh());
  stopFollowing();
  stopFollowing = followFileEvents(api, workspace, changes);
  const uploads = new Uploads(api, workspace, changes, () => ({
    method: (byId<HTMLSelectElement>("upload-method").value || undefined) as UploadMethodChoice | undefined,
    labels: byId<HTMLInputElement>("upload-labels")
      .value.split(",")
      .map((label) => label.trim())
      .filter((label) => label !== ""),
  }));

  const zone = byId("drop-zone");
  zone.ondragover = (event) => {
    event.preventDefault();
    zone.classList.add("over");
  };
  zone.ondragleave = () => zone.classList.remove("over");
  zone.ondrop = (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer !== null) uploads.add(event.dataTransfer.files);
  };
  const input = byId<HTMLInputElement>("file-input");
  input.onchange = () => {
    if (input.files !== null) uploads.add(input.files);
    input.value = "";
  };
  const search = byId<HTMLFormElement>("search");
  search.onsubmit = (event) => {
    event.preventDefault();
    void list.search(byId<HTMLInputElement>("search-name").value, byId<HTMLInputElement>("search-label").value);
  };
  void list.refresh();
}

async function start(): Promise<void> {
  const session = signedIn();
  if (session === null) return showSignIn();
  try {
    showWorkspaces(session, await workspacesOf(apiOf(session)));
  } catch {
    signOut();
    showSignIn();
  }
}

void start();
