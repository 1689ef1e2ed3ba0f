import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Caller } from "../src/access/caller.js";
import { Role } from "../src/db/client.js";
import { FileEventFeed, type UploadState } from "../src/events/feed.js";
import { internalFileId, record } from "./helpers/events.js";
import { completeUpload, createFile, putBytes } from "./helpers/files.js";
import { randomContent } from "./helpers/samples.js";
import { startServer, type TestServer } from "./helpers/server.js";

// uploadProgress as the feed serves it to the subscriptions (src/events/feed.ts).

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe("uploadProgress", () => {
  it("hands every subscriber of one upload the same state object per event, so they share its execution", async () => {
    const workspace = await server.app.db.workspace.findUniqueOrThrow({ where: { slug: "default" } });
    const caller = new Caller({ kind: "API_KEY", id: "progress-watcher" }, [
      { workspaceId: workspace.id, slug: workspace.slug, public: false, role: Role.READER, categories: [] },
    ]);
    const subscriber = { caller, credentialKey: "progress-watcher", reauthenticate: async () => caller };
    const feed = new FileEventFeed({ db: server.app.db, bus: server.app.events, recheckMs: 60_000 });
    const body = randomContent(1024 * 1024);
    const created = await createFile(server, { name: "watched-twice.bin", size: body.length });
    const id = internalFileId(created.file!.id);
    const watch = async () => record((await feed.uploadProgress(subscriber, id))[Symbol.asyncIterator]());
    const [first, second] = [await watch(), await watch()];
    expect((await putBytes(created.upload!, body)).status).toBe(200);
    await completeUpload(server, created.file!.id);
    const final = (state: UploadState) => state.final;
    const [a, b] = [await first.until(final), await second.until(final)];
    // The body's end and the completion; a PUT slower than the throttle's interval (250 ms, a
    // loaded machine) reports bytes along the way too, in order, before them.
    const states = a.map((state) => [state.receivedBytes, state.status]);
    expect(states.slice(-2)).toEqual([
      [body.length, "PENDING"],
      [body.length, "UPLOADED"],
    ]);
    const along = a.slice(0, -2).map((state) => state.receivedBytes);
    expect(along).toEqual([...along].sort((x, y) => x - y));
    for (const state of a.slice(0, -2)) {
      expect(state.status).toBe("PENDING");
      expect(state.receivedBytes).toBeLessThan(body.length);
    }
    expect(b).toHaveLength(a.length);
    for (const [index, state] of a.entries()) expect(b[index]).toBe(state);
  });
});
