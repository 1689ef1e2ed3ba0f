// The uploads of this page: one row per file with a progress bar and pause, resume and cancel.
import {
  type Api,
  abortUpload,
  resumeUpload,
  UploadError,
  type UploadedFile,
  type UploadMethodChoice,
  uploadFile,
} from "../client/index.js";
import { byId, formatBytes, h } from "./dom.js";
import type { FileChanges } from "./live.js";
import { pendingUploads } from "./session.js";

type State = "uploading" | "paused" | "done" | "failed" | "cancelled";

export interface UploadSettings {
  method: UploadMethodChoice | undefined;
  labels: string[];
}

/** One file being uploaded, and its row in #uploads. */
class UploadRow {
  private readonly row: HTMLLIElement;
  private readonly bar: HTMLProgressElement;
  private readonly status: HTMLSpanElement;
  private readonly methodTag: HTMLSpanElement;
  private readonly pauseButton: HTMLButtonElement;
  private readonly resumeButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;
  private controller = new AbortController();
  private fileId: string | undefined;

  constructor(
    private readonly api: Api,
    private readonly workspace: string,
    private readonly file: File,
    private readonly changes: FileChanges,
  ) {
    this.bar = h("progress", { max: 100, value: 0, "aria-label": `${file.name} progress` });
    this.status = h("span", { class: "status" });
    this.methodTag = h("span", { class: "tag method" });
    this.pauseButton = h("button", { type: "button", class: "pause" }, "Pause");
    this.resumeButton = h("button", { type: "button", class: "resume", hidden: true }, "Resume");
    this.cancelButton = h("button", { type: "button", class: "cancel" }, "Cancel");
    this.pauseButton.addEventListener("click", () => this.pause());
    this.resumeButton.addEventListener("click", () => void this.resume());
    this.cancelButton.addEventListener("click", () => void this.cancel());
    this.row = h(
      "li",
      { class: "upload", "data-name": file.name },
      h("span", {}, file.name, " ", h("span", { class: "size" }, formatBytes(file.size)), this.methodTag),
      h("span", { class: "actions" }, this.pauseButton, this.resumeButton, this.cancelButton),
      this.bar,
      this.status,
    );
    byId("uploads").prepend(this.row);
  }

  /** A new upload. */
  async start(settings: UploadSettings): Promise<void> {
    this.setState("uploading", "starting");
    // Pausing needs a recorded file to resume: only once createFile answered (never for INLINE).
    this.pauseButton.disabled = true;
    await this.run(() =>
      uploadFile(this.api, this.file, {
        ...this.transferOptions(),
        workspaceId: this.workspace,
        method: settings.method,
        input: settings.labels.length > 0 ? { labels: settings.labels } : {},
        onCreated: (file, method) => {
          this.fileId = file.id;
          this.methodTag.textContent = method;
          this.pauseButton.disabled = false;
          pendingUploads.add({
            fileId: file.id,
            workspace: this.workspace,
            name: this.file.name,
            size: this.file.size,
            lastModified: this.file.lastModified,
          });
        },
      }),
    );
  }

  /** Continues an upload recorded earlier (paused, failed, or interrupted by a reload). */
  async resume(fileId = this.fileId): Promise<void> {
    if (fileId === undefined) return;
    this.fileId = fileId;
    this.controller = new AbortController();
    this.setState("uploading", "resuming");
    await this.run(() => resumeUpload(this.api, fileId, this.file, this.transferOptions()));
  }

  private transferOptions() {
    return {
      signal: this.controller.signal,
      // Pause keeps what arrived; cancel removes the file itself (abortUpload).
      keepOnAbort: true,
      onProgress: ({ loaded, total }: { loaded: number; total: number }) => {
        const percent = total === 0 ? 100 : Math.floor((loaded / total) * 100);
        this.bar.value = percent;
        this.status.textContent = `${percent} % · ${formatBytes(loaded)} of ${formatBytes(total)}`;
      },
    };
  }

  private async run(upload: () => Promise<UploadedFile>): Promise<void> {
    try {
      const file = await upload();
      if (this.fileId !== undefined) pendingUploads.remove(this.fileId);
      else this.methodTag.textContent = "in the request";
      this.bar.value = 100;
      this.setState("done", `uploaded · ${formatBytes(file.size)}`);
      this.changes.changed(this.workspace);
    } catch (error) {
      if (error instanceof UploadError && error.code === "ABORTED") return;
      const message = error instanceof UploadError ? `${error.message} (${error.code})` : String(error);
      this.setState("failed", message);
    }
  }

  pause(): void {
    this.controller.abort();
    this.setState("paused", `paused at ${this.bar.value} %`);
  }

  async cancel(): Promise<void> {
    this.controller.abort();
    this.setState("cancelled", "cancelled");
    if (this.fileId === undefined) return;
    pendingUploads.remove(this.fileId);
    await abortUpload(this.api, this.fileId).catch(() => undefined);
  }

  private setState(state: State, status: string): void {
    this.row.dataset.state = state;
    this.status.textContent = status;
    const active = state === "uploading";
    this.pauseButton.hidden = !active;
    this.resumeButton.hidden = !(state === "paused" || (state === "failed" && this.fileId !== undefined));
    this.cancelButton.hidden = !(active || state === "paused" || state === "failed");
  }
}

/** The uploads of one workspace: new files, and the interrupted ones listed under #interrupted. */
export class Uploads {
  constructor(
    private readonly api: Api,
    private readonly workspace: string,
    private readonly changes: FileChanges,
    private readonly settings: () => UploadSettings,
  ) {
    this.showInterrupted();
  }

  /** Uploads each file, or resumes its interrupted upload when it is the same file. */
  add(files: Iterable<File>): void {
    for (const file of files) {
      const row = new UploadRow(this.api, this.workspace, file, this.changes);
      const interrupted = pendingUploads.find(this.workspace, file);
      void (interrupted === undefined
        ? row.start(this.settings())
        : row.resume(interrupted.fileId).then(() => this.showInterrupted()));
    }
  }

  private showInterrupted(): void {
    const list = byId("interrupted-list");
    const pending = pendingUploads.list(this.workspace);
    byId("interrupted").hidden = pending.length === 0;
    list.replaceChildren(
      ...pending.map((upload) => {
        const input = h("input", { type: "file", "aria-label": `choose ${upload.name} again` });
        input.addEventListener("change", () => {
          if (input.files !== null) this.add(input.files);
        });
        const discard = h("button", { type: "button" }, "Discard");
        discard.addEventListener("click", () => {
          pendingUploads.remove(upload.fileId);
          void abortUpload(this.api, upload.fileId).catch(() => undefined);
          this.showInterrupted();
        });
        return h(
          "li",
          { class: "interrupted", "data-name": upload.name },
          h("span", {}, `${upload.name} · ${formatBytes(upload.size)}`),
          h("span", { class: "actions" }, h("label", { class: "button" }, "Choose file", input), discard),
        );
      }),
    );
  }
}
