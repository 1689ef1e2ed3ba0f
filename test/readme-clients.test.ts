// Runs the README's "Clients" section: every ```ts block whose first line is `// file: <path>`
// is written to a folder of its own (under test-output/, inside this package so that
// `graphql-files/client` and the dev dependencies resolve), its codegen.ts generates the types
// from the running server, tsc compiles the blocks strictly, and each function is called.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { type CodegenConfig, generate } from "@graphql-codegen/cli";
import { EventSource as NodeEventSource } from "eventsource";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket as NodeWebSocket } from "ws";
import { createApiKey, createWorkspace } from "../src/access/admin.js";
import { slowPut } from "./helpers/events.js";
import { peStub, randomContent } from "./helpers/samples.js";
import { apiKey, startServer, type TestServer } from "./helpers/server.js";
import { WebhookReceiver } from "./helpers/webhook-receiver.js";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
let server: TestServer;
let dir: string;

/** The `// file:` blocks of the README's Clients section, by path. */
async function clientBlocks(): Promise<Map<string, string>> {
  const readme = await readFile(path.join(root, "README.md"), "utf8");
  const section = readme.split("\n## Clients\n")[1]?.split("\n## ")[0] ?? "";
  const blocks = new Map<string, string>();
  for (const [, code] of section.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const name = /^\/\/ file: (\S+)\n/.exec(code ?? "")?.[1];
    if (name !== undefined && code !== undefined) blocks.set(name, code);
  }
  return blocks;
}

beforeAll(async () => {
  // The webhook receiver runs on loopback.
  server = await startServer({ WEBHOOK_ALLOWED_HOSTS: "127.0.0.1", WEBHOOK_POLL_INTERVAL_MS: "100" });
  dir = path.join(root, "test-output", `readme-clients-${randomBytes(4).toString("hex")}`);
  const blocks = await clientBlocks();
  expect([...blocks.keys()].sort()).toEqual([
    "codegen.ts",
    "src/apollo.ts",
    "src/fetch.ts",
    "src/live-apollo.ts",
    "src/live-eventsource.ts",
    "src/live-urql.ts",
    "src/upload.ts",
    "src/urql.ts",
    "src/verify-webhook.ts",
  ]);
  for (const [name, code] of blocks) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(
      path.join(dir, name),
      code
        .replaceAll("http://localhost:4000", server.url)
        .replaceAll("ws://localhost:4000", server.url.replace(/^http/, "ws"))
        .replaceAll("dev-key", apiKey),
    );
  }
  // A browser app's settings: a bundler resolves modules, the DOM's types, strict.
  await writeFile(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "Bundler",
        lib: ["ES2022", "DOM"],
        types: [],
        strict: true,
        skipLibCheck: true,
        noEmit: true,
      },
      include: ["src", "codegen.ts"],
    }),
  );
}, 60_000);
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

const load = async <T>(name: string): Promise<T> => (await import(path.join(dir, name))) as T;

describe("the README's Clients section", () => {
  it("its codegen.ts generates typed documents from the running server, and every block compiles with tsc --strict", async () => {
    const { default: config } = await load<{ default: CodegenConfig }>("codegen.ts");
    const outputs: { filename: string }[] = await generate({ ...config, cwd: dir, silent: true }, true);
    // Output paths are relative to `cwd`.
    expect(outputs.map((output) => output.filename)).toEqual(
      expect.arrayContaining(["src/gql/gql.ts", "src/gql/graphql.ts", "src/gql/index.ts"]),
    );
    const graphqlTypes = await readFile(path.join(dir, "src/gql/graphql.ts"), "utf8");
    // The scalars as mapped: Upload → File | Blob, SafeInt → number.
    expect(graphqlTypes).toContain("file?: File | Blob | null");
    expect(graphqlTypes).toContain("size?: number | null");
    await run(path.join(root, "node_modules", ".bin", "tsc"), ["-p", path.join(dir, "tsconfig.json")], {
      cwd: dir,
    }).catch((error: { stdout: string }) => {
      throw new Error(`tsc failed:\n${error.stdout}`);
    });
  }, 120_000);

  it("Apollo Client 4 with UploadHttpLink uploads a file in the request", async () => {
    const { uploadWithApollo } = await load<{
      uploadWithApollo(file: File): Promise<{ status: string; size: number }>;
    }>("src/apollo.ts");
    expect(await uploadWithApollo(new File(["hello from apollo"], "apollo.txt"))).toMatchObject({
      status: "UPLOADED",
      size: 17,
    });
    // A refusal's message reaches the caller (the cache knows Error's implementations).
    await expect(uploadWithApollo(new File(["x"], "a/b.txt"))).rejects.toThrow(/name/i);
  });

  it("lists every implementation of Error in Apollo's possibleTypes", async () => {
    const schema = await readFile(path.join(root, "schema.graphql"), "utf8");
    const implementations = [...schema.matchAll(/^type (\w+) implements Error\b/gm)].map((match) => match[1]);
    const apollo = await readFile(path.join(dir, "src/apollo.ts"), "utf8");
    const listed = JSON.parse(/Error: (\[[^\]]*\])/.exec(apollo)?.[1] ?? "[]") as string[];
    expect(listed.sort()).toEqual(implementations.sort());
  });

  it("urql lists files with a GET and uploads with a multipart POST", async () => {
    const sent: string[] = [];
    globalThis.fetch = (input, init) => {
      sent.push(`${init?.method ?? "GET"} ${init?.body instanceof FormData ? "multipart" : ""}`.trim());
      return realFetch(input, init);
    };
    const { recentFiles, uploadWithUrql } = await load<{
      recentFiles(): Promise<{ totalCount: number }>;
      uploadWithUrql(file: File): Promise<{ __typename: string; file: { status: string } }>;
    }>("src/urql.ts");
    expect(await uploadWithUrql(new File(["hello from urql"], "urql.txt"))).toMatchObject({
      __typename: "CreateFilePayload",
      file: { status: "UPLOADED" },
    });
    expect((await recentFiles()).totalCount).toBeGreaterThan(0);
    expect(sent).toEqual(["POST multipart", "GET"]);
  });

  it("fetch alone lists workspaces and uploads a file in the request", async () => {
    const { workspaces, uploadWithFetch } = await load<{
      workspaces(): Promise<{ slug: string }[]>;
      uploadWithFetch(file: File): Promise<{ __typename: string; file: { status: string } }>;
    }>("src/fetch.ts");
    expect(await workspaces()).toEqual([{ slug: "default" }]);
    expect(await uploadWithFetch(new File(["hello from fetch"], "fetch.txt"))).toMatchObject({
      __typename: "CreateFilePayload",
      file: { status: "UPLOADED" },
    });
  });

  it("graphql-files/client uploads in the request and by PUT, resumes a pending file and cancels another", async () => {
    const { upload, resume, cancel, pending } = await load<{
      upload(file: Blob): Promise<{ status: string; name: string; labels: string[] }>;
      resume(fileId: string, file: Blob): Promise<{ status: string }>;
      cancel(fileId: string): Promise<void>;
      pending: Map<Blob, string>;
    }>("src/upload.ts");
    expect(await upload(new Blob(["small"]))).toMatchObject({
      status: "UPLOADED",
      name: "report.pdf",
      labels: ["reports"],
    });
    const large = new Blob([randomContent(9 * 1024 * 1024)]);
    expect(await upload(large)).toMatchObject({ status: "UPLOADED" });
    expect(pending.size).toBe(0);

    const create = async (name: string, size: number) => {
      const { data } = await server.graphql<{ createFile: { file: { id: string } } }>(
        `mutation ($input: CreateFileInput!) { createFile(input: $input) { ... on CreateFilePayload { file { id } } } }`,
        { input: { workspaceId: "default", name, size } },
      );
      return data.createFile.file.id;
    };
    const bytes = new Blob(["resumed later"]);
    expect(await resume(await create("later.txt", bytes.size), bytes)).toMatchObject({ status: "UPLOADED" });
    const cancelled = await create("cancelled.txt", 5);
    await cancel(cancelled);
    const { data } = await server.graphql<{ file: unknown }>(`query ($id: ID!) { file(id: $id) { id } }`, {
      id: cancelled,
    });
    expect(data.file).toBeNull();
  });

  describe("live updates", () => {
    // What browsers have built in; Node.js 20 has neither.
    beforeAll(() => {
      globalThis.EventSource ??= NodeEventSource as unknown as typeof EventSource;
      globalThis.WebSocket ??= NodeWebSocket as unknown as typeof WebSocket;
    });

    it("EventSource follows a public workspace's files", async () => {
      await createWorkspace(server.app.db, "plaza", "Plaza", true);
      const writer = await createApiKey(server.app.db, "plaza", "WRITER");
      const { watchPublicWorkspace } = await load<{
        watchPublicWorkspace(
          id: string,
          onEvent: (event: { type: string; file: { name: string } }) => void,
        ): () => void;
      }>("src/live-eventsource.ts");
      const seen: string[] = [];
      const stop = watchPublicWorkspace("plaza", (event) => seen.push(`${event.type} ${event.file.name}`));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const created = await server.graphql(
        `mutation { createFile(input: { workspaceId: "plaza", name: "notice.txt", content: "aGk=" }) { __typename } }`,
        {},
        { authorization: `Bearer ${writer}` },
      );
      expect(created.data).toEqual({ createFile: { __typename: "CreateFilePayload" } });
      for (let i = 0; i < 100 && !seen.includes("UPLOADED notice.txt"); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      stop();
      expect(seen).toEqual(["CREATED notice.txt", "PROGRESS notice.txt", "UPLOADED notice.txt"]);
    });

    it("urql follows an upload's progress to UPLOADED over graphql-ws", async () => {
      const { followUpload } = await load<{
        followUpload(id: string, onProgress: (received: number, total: number | null) => void): Promise<string>;
      }>("src/live-urql.ts");
      const body = randomContent(4 * 1024 * 1024);
      const { data } = await server.graphql<{
        createFile: { file: { id: string }; upload: { url: string; headers: { name: string; value: string }[] } };
      }>(
        `mutation ($input: CreateFileInput!) { createFile(input: $input) { ... on CreateFilePayload { file { id } upload { url headers { name value } } } } }`,
        { input: { workspaceId: "default", name: "followed.bin", size: body.length } },
      );
      const counts: number[] = [];
      const done = followUpload(data.createFile.file.id, (received) => counts.push(received));
      await new Promise((resolve) => setTimeout(resolve, 500));
      await slowPut(
        {
          ...data.createFile.upload,
          method: "PUT",
          fields: [],
          expiresAt: "",
          maxSize: null,
          partSize: null,
          parts: [],
          receivedParts: [],
        },
        body,
        8,
        80,
      );
      await server.graphql(`mutation ($id: ID!) { completeUpload(input: { id: $id }) { __typename } }`, {
        id: data.createFile.file.id,
      });
      expect(await done).toBe("UPLOADED");
      expect(counts.length).toBeGreaterThanOrEqual(2);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(counts.at(-1)).toBe(body.length);
    });

    it("Apollo tells of uploaded and refused files over graphql-ws", async () => {
      const { watchUploads } = await load<{
        watchUploads(id: string, onEvent: (type: string, name: string) => void): () => void;
      }>("src/live-apollo.ts");
      const seen: string[] = [];
      const stop = watchUploads("default", (type, name) => seen.push(`${type} ${name}`));
      await new Promise((resolve) => setTimeout(resolve, 500));
      await server.graphql(
        `mutation { createFile(input: { workspaceId: "default", name: "apollo-live.txt", content: "aGk=" }) { __typename } }`,
      );
      await server.graphql(
        `mutation ($content: String!) { createFile(input: { workspaceId: "default", name: "tool.exe", content: $content }) { __typename } }`,
        {
          content: peStub().toString("base64"),
        },
      );
      for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      stop();
      expect(seen).toEqual(["UPLOADED apollo-live.txt", "FAILED tool.exe"]);
    });
  });

  it("verifies a webhook delivery's signature, and refuses a changed body", async () => {
    const receiver = new WebhookReceiver();
    await receiver.up();
    const hook = await server.graphql<{ createWebhook: { secret: string } }>(
      `mutation ($url: String!) { createWebhook(input: { workspaceId: "default", url: $url, events: [UPLOADED] }) { ... on CreateWebhookPayload { secret } } }`,
      { url: receiver.url },
    );
    await server.graphql(
      `mutation { createFile(input: { workspaceId: "default", name: "hooked.txt", content: "aGk=" }) { __typename } }`,
    );
    const [delivery] = await receiver.waitFor(1);
    await receiver.down();
    const { verifyDelivery } = await load<{
      verifyDelivery(
        secret: string,
        body: string,
        headers: Record<string, string>,
      ): { type: string; file: { name: string } };
    }>("src/verify-webhook.ts");
    const { secret } = hook.data.createWebhook;
    expect(verifyDelivery(secret, delivery!.body, delivery!.headers)).toMatchObject({
      type: "UPLOADED",
      file: { name: "hooked.txt" },
    });
    expect(() => verifyDelivery(secret, delivery!.body.replace("hooked", "forged"), delivery!.headers)).toThrow();
  });
});
