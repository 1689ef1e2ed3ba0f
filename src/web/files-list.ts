// The files of a workspace, searchable by name and label, with thumbnails of images.

import type { FileFilter, FilesQuery } from "../client/generated/graphql.js";
import { type Api, graphqlRequest } from "../client/index.js";
import { byId, formatBytes, h } from "./dom.js";
import type { FileChanges } from "./live.js";
import { DeleteFileDocument, FilesDocument } from "./operations.js";

type ListedFile = FilesQuery["files"]["edges"][number]["node"];

const PAGE_SIZE = 60;

export class FilesList {
  private filter: FileFilter = {};
  /** Answers to older searches are dropped when a newer one was sent. */
  private generation = 0;

  constructor(
    private readonly api: Api,
    private readonly workspace: string,
    private readonly changes: FileChanges,
  ) {}

  search(name: string, label: string): Promise<void> {
    this.filter = {
      ...(name.trim() === "" ? {} : { nameContains: name.trim() }),
      ...(label.trim() === "" ? {} : { labelsAny: [label.trim()] }),
    };
    return this.refresh();
  }

  async refresh(): Promise<void> {
    const generation = ++this.generation;
    const count = byId("files-count");
    try {
      const { files } = await graphqlRequest(this.api, FilesDocument, {
        workspaceId: this.workspace,
        filter: this.filter,
        first: PAGE_SIZE,
      });
      if (generation !== this.generation) return;
      count.textContent = files.totalCount === 1 ? "1 file" : `${files.totalCount} files`;
      byId("files").replaceChildren(...files.edges.map(({ node }) => this.item(node)));
    } catch (error) {
      if (generation === this.generation) count.textContent = `Cannot list files: ${(error as Error).message}`;
    }
  }

  private item(file: ListedFile): HTMLLIElement {
    const image = file.mimeType?.startsWith("image/") === true && file.downloadUrl !== null;
    const preview = image
      ? h("img", { class: "thumb", src: file.downloadUrl ?? "", alt: file.name, loading: "lazy" })
      : h("div", { class: "icon" }, file.mimeType ?? file.status.toLowerCase());
    const remove = h("button", { type: "button", class: "delete" }, "Delete");
    remove.addEventListener("click", async () => {
      remove.disabled = true;
      await graphqlRequest(this.api, DeleteFileDocument, { id: file.id }).catch(() => undefined);
      this.changes.changed(this.workspace);
    });
    const dimensions = file.dimensions === null ? "" : ` · ${file.dimensions.width}×${file.dimensions.height}`;
    return h(
      "li",
      { class: "file", "data-name": file.name, "data-status": file.status },
      preview,
      h("strong", {}, file.name),
      h(
        "span",
        { class: "meta" },
        `${formatBytes(file.size)}${dimensions} · ${file.status === "UPLOADED" ? new Date(file.createdAt).toLocaleString() : file.status}`,
      ),
      h("span", { class: "meta labels" }, file.labels.join(", ")),
      h(
        "span",
        { class: "file-actions" },
        file.downloadUrl === null ? "" : h("a", { href: file.downloadUrl, download: file.name }, "Download"),
        remove,
      ),
    );
  }
}
