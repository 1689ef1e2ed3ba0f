import type { Api } from "../client/index.js";

/**
 * Where the file list learns that files of a workspace changed: the page's own uploads and
 * deletions report here, and so does `followFileEvents` for everything else (other tabs, other
 * clients, the server's sweeper).
 */
export class FileChanges {
  private readonly listeners = new Set<(workspace: string) => void>();

  /** Calls `listener` with the workspace whenever files change; returns the unsubscribe function. */
  watch(listener: (workspace: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(workspace: string): void {
    for (const listener of this.listeners) listener(workspace);
  }
}

/** Every change that alters the list; PROGRESS does not. */
const followed = ["CREATED", "UPLOADED", "FAILED", "UPDATED", "DELETED", "UPLOAD_ABORTED"];
const subscription = `subscription PageFileEvents($workspaceId: ID!, $filter: FileEventFilter) {
  fileEvents(workspaceId: $workspaceId, filter: $filter) { type }
}`;
/** Milliseconds before following again after the stream ended or failed. */
const retryAfterMs = 2000;

/**
 * Follows the workspace's `fileEvents` subscription as server-sent events and reports each event
 * to `changes`. It reads the stream with `fetch`, which carries the key (an `EventSource` cannot
 * send an Authorization header), and follows again after a pause when the stream ends. Returns
 * the function that stops it.
 */
export function followFileEvents(api: Api, workspace: string, changes: FileChanges): () => void {
  const controller = new AbortController();
  const { signal } = controller;
  const follow = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        const response = await fetch(api.url, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "text/event-stream", ...api.headers },
          body: JSON.stringify({
            query: subscription,
            variables: { workspaceId: workspace, filter: { types: followed } },
          }),
          signal,
        });
        if (response.ok && response.body !== null) await readEvents(response.body, () => changes.changed(workspace));
      } catch {
        // A network failure or the stop: either way, wait and follow again unless stopped.
      }
      await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    }
  };
  void follow();
  return () => controller.abort();
}

/** Calls `onEvent` for each `next` message of a server-sent-events stream, until it ends. */
async function readEvents(body: ReadableStream<Uint8Array>, onEvent: () => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += decoder.decode(value, { stream: true });
    for (let end = buffered.indexOf("\n\n"); end !== -1; end = buffered.indexOf("\n\n")) {
      const message = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (/^event: next$/m.test(message)) onEvent();
    }
  }
}
