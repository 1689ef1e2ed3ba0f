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
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { apiKey, startServer, type TestServer } from "./helpers/server.js";

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
  server = await startServer();
  dir = path.join(root, "test-output", `readme-clients-${randomBytes(4).toString("hex")}`);
  const blocks = await clientBlocks();
  expect([...blocks.keys()].sort()).toEqual(["codegen.ts", "src/apollo.ts", "src/fetch.ts", "src/upload.ts", "src/urql.ts"]);
  for (const [name, code] of blocks) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), code.replaceAll("http://localhost:4000", server.url).replaceAll("dev-key", apiKey));
  }
  // A browser app's settings: a bundler resolves modules, the DOM's types, strict.
  await writeFile(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { target: "ES2022", module: "ESNext", moduleResolution: "Bundler", lib: ["ES2022", "DOM"], types: [], strict: true, skipLibCheck: true, noEmit: true },
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
    await run(path.join(root, "node_modules", ".bin", "tsc"), ["-p", path.join(dir, "tsconfig.json")], { cwd: dir }).catch(
      (error: { stdout: string }) => {
        throw new Error(`tsc failed:\n${error.stdout}`);
      },
    );
  }, 120_000);

  it("Apollo Client 4 with UploadHttpLink uploads a file in the request", async () => {
    const { uploadWithApollo } = await load<{ uploadWithApollo(file: File): Promise<{ status: string; size: number }> }>("src/apollo.ts");
    expect(await uploadWithApollo(new File(["hello from apollo"], "apollo.txt"))).toMatchObject({ status: "UPLOADED", size: 17 });
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
    expect(await uploadWithUrql(new File(["hello from urql"], "urql.txt"))).toMatchObject({ __typename: "CreateFilePayload", file: { status: "UPLOADED" } });
    expect((await recentFiles()).totalCount).toBeGreaterThan(0);
    expect(sent).toEqual(["POST multipart", "GET"]);
  });

  it("fetch alone lists workspaces and uploads a file in the request", async () => {
    const { workspaces, uploadWithFetch } = await load<{
      workspaces(): Promise<{ slug: string }[]>;
      uploadWithFetch(file: File): Promise<{ __typename: string; file: { status: string } }>;
    }>("src/fetch.ts");
    expect(await workspaces()).toEqual([{ slug: "default" }]);
    expect(await uploadWithFetch(new File(["hello from fetch"], "fetch.txt"))).toMatchObject({ __typename: "CreateFilePayload", file: { status: "UPLOADED" } });
  });

  it("graphql-files/client uploads in the request and by PUT, resumes a pending file and cancels another", async () => {
    const { upload, resume, cancel, pending } = await load<{
      upload(file: Blob): Promise<{ status: string; name: string; labels: string[] }>;
      resume(fileId: string, file: Blob): Promise<{ status: string }>;
      cancel(fileId: string): Promise<void>;
      pending: Map<Blob, string>;
    }>("src/upload.ts");
    expect(await upload(new Blob(["small"]))).toMatchObject({ status: "UPLOADED", name: "report.pdf", labels: ["reports"] });
    const large = new Blob([randomBytes(9 * 1024 * 1024)]);
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
    const { data } = await server.graphql<{ file: unknown }>(`query ($id: ID!) { file(id: $id) { id } }`, { id: cancelled });
    expect(data.file).toBeNull();
  });
});
