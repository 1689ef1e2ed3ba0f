/**
 * Where the file list learns that files of a workspace changed. Today the page's own uploads and
 * deletions report here. The seam for live updates: once the API has the `fileEvents`
 * subscription (DESIGN.md, over SSE on /graphql), `watch` subscribes to it for the workspace and
 * calls `changed` for every event, and nothing else in the page changes.
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
