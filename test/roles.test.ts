import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createWorkspace } from "../src/access/admin.js";
import { hashApiKey } from "../src/access/grants.js";
import {
  completeUploadMutation,
  createFile,
  createFileMutation,
  putBytes,
  type UploadTargetResult,
  uploadFile,
} from "./helpers/files.js";
import { apiKey, startServer, type TestServer } from "./helpers/server.js";

// The role matrix: ADMIN, WRITER, READER, a member of another workspace and the anonymous caller,
// each against every query and mutation, on a private and on a public workspace. Every cell
// asserts the exact outcome, and that nothing of another workspace shows.

type CallerName = "ADMIN" | "WRITER" | "READER" | "nonMember" | "anonymous";
const callers: CallerName[] = ["ADMIN", "WRITER", "READER", "nonMember", "anonymous"];

let server: TestServer;
/** Keys by workspace slug and role; "nonMember" is an ADMIN of workspace "elsewhere". */
const keys: Record<string, Partial<Record<CallerName, string>>> = {};
/** A file of workspace "elsewhere", which no caller of the matrix may see. */
let foreignFileId: string;
let foreignWorkspaceId: string;

beforeAll(async () => {
  server = await startServer();
  await createWorkspace(server.app.db, "vault");
  await createWorkspace(server.app.db, "plaza", "Plaza", true);
  await createWorkspace(server.app.db, "elsewhere");
  for (const slug of ["vault", "plaza"]) {
    keys[slug] = {};
    for (const role of ["ADMIN", "WRITER", "READER"] as const)
      keys[slug][role] = await createApiKey(server.app.db, slug, role);
  }
  // The bootstrap key (the test helper's default) administers all three, to make fixtures.
  const bootstrap = await server.app.db.apiKey.findUniqueOrThrow({ where: { hash: hashApiKey(apiKey) } });
  for (const workspace of await server.app.db.workspace.findMany({
    where: { slug: { in: ["vault", "plaza", "elsewhere"] } },
  })) {
    await server.app.db.membership.create({
      data: { principalId: bootstrap.principalId, workspaceId: workspace.id, role: "ADMIN" },
    });
  }
  const outsider = await createApiKey(server.app.db, "elsewhere", "ADMIN");
  keys.vault!.nonMember = outsider;
  keys.plaza!.nonMember = outsider;
  const foreign = await uploadFile(
    server,
    { workspaceId: "elsewhere", name: "foreign.txt", externalId: "shared-ext" },
    Buffer.from("foreign"),
  );
  foreignFileId = foreign.id;
  const workspace = await server.graphql<{ workspace: { id: string } }>(`{ workspace(id: "elsewhere") { id } }`);
  foreignWorkspaceId = workspace.data.workspace.id;
});
afterAll(() => server.close());

function headersOf(slug: string, caller: CallerName): Record<string, string> {
  const key = keys[slug]?.[caller];
  return { authorization: key === undefined ? "" : `Bearer ${key}` };
}

/** An uploaded and a pending file of the workspace, made with the admin key, with `externalId`s. */
async function fixtures(slug: string): Promise<{ uploaded: string; pending: string; externalId: string }> {
  const externalId = `ext-${Math.random().toString(36).slice(2)}`;
  const uploaded = await uploadFile(server, { workspaceId: slug, name: "kept.txt", externalId }, Buffer.from("kept"));
  const pending = await createFile(server, { workspaceId: slug, name: "pending.txt", size: 4 });
  if (pending.file === undefined) throw new Error("no pending file");
  return { uploaded: uploaded.id, pending: pending.file.id, externalId };
}

type Outcome = "data" | "null" | "NotFoundError" | "FORBIDDEN" | "UNAUTHENTICATED" | "NOT_FOUND";

/** What a caller gets on a workspace of the given visibility, for a read and for a write. */
function expected(caller: CallerName, isPublic: boolean): { read: Outcome; missing: Outcome; write: Outcome } {
  if (caller === "ADMIN" || caller === "WRITER") return { read: "data", missing: "null", write: "data" };
  if (caller === "READER") return { read: "data", missing: "null", write: "FORBIDDEN" };
  if (caller === "anonymous") return { read: isPublic ? "data" : "null", missing: "null", write: "UNAUTHENTICATED" };
  return { read: isPublic ? "data" : "null", missing: "null", write: isPublic ? "FORBIDDEN" : "NotFoundError" };
}

interface Answer {
  status: number;
  data: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

async function ask(
  slug: string,
  caller: CallerName,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Answer> {
  const response = await server.graphql<Record<string, unknown> | null>(query, variables, headersOf(slug, caller));
  return { status: response.status, data: response.data ?? null, errors: response.errors };
}

/** Asserts a mutation's outcome: its payload type, FORBIDDEN/UNAUTHENTICATED errors, or NotFoundError. */
function expectWrite(answer: Answer, field: string, outcome: Outcome, payload: string): void {
  if (outcome === "FORBIDDEN" || outcome === "UNAUTHENTICATED") {
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual([outcome]);
    expect(answer.status).toBe(outcome === "FORBIDDEN" ? 403 : 401);
    if (outcome === "FORBIDDEN") {
      expect(answer.errors?.[0]?.extensions?.requiredRole).toBe("WRITER");
      expect(answer.errors?.[0]?.message).toContain("WRITER");
    }
    return;
  }
  expect(answer.errors).toBeUndefined();
  const result = answer.data?.[field] as { __typename: string };
  expect(result.__typename).toBe(outcome === "data" ? payload : "NotFoundError");
}

const fileQuery = `query ($id: ID!, $ws: ID!, $ext: String!) {
  file(id: $id) { id name downloadUrl }
  fileByExternalId(workspaceId: $ws, externalId: $ext) { id }
  node(id: $id) { id ... on File { name } }
}`;

for (const [slug, isPublic] of [
  ["vault", false],
  ["plaza", true],
] as const) {
  describe(`${isPublic ? "public" : "private"} workspace ${slug}`, () => {
    let files: { uploaded: string; pending: string; externalId: string };
    let workspaceId: string;
    beforeAll(async () => {
      files = await fixtures(slug);
      workspaceId = (await server.graphql<{ workspace: { id: string } }>(`{ workspace(id: "${slug}") { id } }`)).data
        .workspace.id;
    });

    for (const caller of callers) {
      const outcome = expected(caller, isPublic);

      describe(caller, () => {
        it(`reads a file, by externalId and as a node: ${outcome.read}`, async () => {
          const answer = await ask(slug, caller, fileQuery, { id: files.uploaded, ws: slug, ext: files.externalId });
          expect(answer.errors).toBeUndefined();
          if (outcome.read === "data") {
            expect(answer.data).toMatchObject({
              file: { id: files.uploaded, name: "kept.txt" },
              fileByExternalId: { id: files.uploaded },
              node: { id: files.uploaded, name: "kept.txt" },
            });
            expect((answer.data?.file as { downloadUrl: string } | undefined)?.downloadUrl).toMatch(/^http/);
          } else {
            expect(answer.data).toEqual({ file: null, fileByExternalId: null, node: null });
          }
        });

        it(`lists the workspace's files, and only them: ${outcome.read === "data" ? "data" : "NOT_FOUND"}`, async () => {
          const answer = await ask(
            slug,
            caller,
            `query ($ws: ID!) { files(workspaceId: $ws) { totalCount edges { node { id name } } } }`,
            { ws: slug },
          );
          if (outcome.read === "data") {
            expect(answer.errors).toBeUndefined();
            const listing = answer.data?.files as { totalCount: number; edges: { node: { id: string } }[] };
            const ids = listing.edges.map((edge) => edge.node.id);
            expect(ids).toContain(files.uploaded);
            expect(ids).not.toContain(foreignFileId);
            expect(listing.totalCount).toBe(ids.length);
          } else {
            expect(answer.data).toBeNull();
            expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(["NOT_FOUND"]);
            // The same answer as for a workspace that does not exist: no hint either way.
            const missing = await ask(slug, caller, `{ files(workspaceId: "no-such-workspace") { totalCount } }`);
            expect(missing.errors?.[0]?.message.replace("no-such-workspace", slug)).toBe(answer.errors?.[0]?.message);
          }
        });

        it(`reads the workspace and finds it in viewer: ${outcome.read}`, async () => {
          const answer = await ask(
            slug,
            caller,
            `query ($ws: ID!) { workspace(id: $ws) { slug public viewerRole } viewer { workspaces { slug } } }`,
            { ws: slug },
          );
          expect(answer.errors).toBeUndefined();
          const viewerSlugs =
            (answer.data?.viewer as { workspaces: { slug: string }[] } | undefined)?.workspaces.map((w) => w.slug) ??
            [];
          // Private workspaces show only to their members; the public one to everyone.
          expect(viewerSlugs.includes("elsewhere")).toBe(caller === "nonMember");
          if (slug === "plaza") expect(viewerSlugs).not.toContain("vault");
          expect(viewerSlugs).toContain("plaza");
          if (outcome.read === "data") {
            const role = caller === "ADMIN" || caller === "WRITER" || caller === "READER" ? caller : null;
            expect(answer.data?.workspace).toEqual({ slug, public: isPublic, viewerRole: role });
            expect(viewerSlugs).toContain(slug);
          } else {
            expect(answer.data?.workspace).toBeNull();
            expect(viewerSlugs).not.toContain(slug);
          }
        });

        it("sees another workspace's file and the workspace itself through node and nodes only as a member", async () => {
          const answer = await ask(
            slug,
            caller,
            `query ($ids: [ID!]!, $foreign: ID!, $ws: ID!) { node(id: $foreign) { id } nodes(ids: $ids) { id } workspace(id: $ws) { id } }`,
            {
              ids: [files.uploaded, foreignFileId, foreignWorkspaceId, workspaceId],
              foreign: foreignFileId,
              ws: foreignWorkspaceId,
            },
          );
          expect(answer.errors).toBeUndefined();
          const readable = outcome.read === "data";
          // Only the member of "elsewhere" may see its file and the workspace.
          const foreign = caller === "nonMember";
          expect(answer.data).toEqual({
            node: foreign ? { id: foreignFileId } : null,
            nodes: [
              readable ? { id: files.uploaded } : null,
              foreign ? { id: foreignFileId } : null,
              foreign ? { id: foreignWorkspaceId } : null,
              readable ? { id: workspaceId } : null,
            ],
            workspace: foreign ? { id: foreignWorkspaceId } : null,
          });
        });

        it(`gets a fresh upload target for a pending file only when it may write: ${outcome.write === "data" ? "target" : "null"}`, async () => {
          const answer = await ask(slug, caller, `query ($id: ID!) { file(id: $id) { status upload { url } } }`, {
            id: files.pending,
          });
          expect(answer.errors).toBeUndefined();
          const file = answer.data?.file as { status: string; upload: { url: string } | null } | null;
          if (outcome.read !== "data") expect(file).toBeNull();
          else if (outcome.write === "data") expect(file?.upload?.url).toMatch(/^http/);
          else expect(file).toEqual({ status: "PENDING", upload: null });
        });

        it(`creates a file: ${outcome.write}`, async () => {
          const answer = await ask(slug, caller, createFileMutation, {
            input: { workspaceId: slug, name: `${caller}.txt` },
          });
          expectWrite(answer, "createFile", outcome.write, "CreateFilePayload");
          const count = await server.app.db.file.count({ where: { name: `${caller}.txt` } });
          expect(count).toBe(outcome.write === "data" ? 1 : 0);
          await server.app.db.file.deleteMany({ where: { name: `${caller}.txt` } });
        });

        it(`updates a file: ${outcome.write}`, async () => {
          const mutation = `mutation ($input: UpdateFileInput!) { updateFile(input: $input) { __typename } }`;
          const answer = await ask(slug, caller, mutation, {
            input: { id: files.uploaded, description: `by ${caller}` },
          });
          expectWrite(answer, "updateFile", outcome.write, "FilePayload");
          const row = await server.app.db.file.findFirst({ where: { description: `by ${caller}` } });
          expect(row !== null).toBe(outcome.write === "data");
        });

        it(`completes, aborts and deletes files: ${outcome.write}`, async () => {
          const fresh = await fixtures(slug);
          const complete = await ask(slug, caller, completeUploadMutation, { input: { id: fresh.pending } });
          // Nothing was PUT: a caller allowed to complete hears that the bytes are missing.
          if (outcome.write === "data")
            expect((complete.data?.completeUpload as { __typename: string } | undefined)?.__typename).toBe(
              "UploadIncompleteError",
            );
          else expectWrite(complete, "completeUpload", outcome.write, "FilePayload");
          const abort = await ask(slug, caller, `mutation ($id: ID!) { abortUpload(id: $id) { __typename } }`, {
            id: fresh.pending,
          });
          expectWrite(abort, "abortUpload", outcome.write, "DeletedFile");
          const remove = await ask(slug, caller, `mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`, {
            id: fresh.uploaded,
          });
          expectWrite(remove, "deleteFile", outcome.write, "DeletedFile");
          const left = await server.graphql<{ nodes: unknown[] }>(`query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`, {
            ids: [fresh.pending, fresh.uploaded],
          });
          expect(left.data.nodes.filter((node) => node !== null)).toHaveLength(outcome.write === "data" ? 0 : 2);
        });
      });
    }
  });
}

describe("writes in the caller's own workspace", () => {
  it("lets a WRITER complete its upload after a PUT", async () => {
    const writer = headersOf("vault", "WRITER");
    const created = await server.graphql<{ createFile: { file: { id: string }; upload: UploadTargetResult } }>(
      createFileMutation,
      { input: { workspaceId: "vault", name: "w.txt", size: 2 } },
      writer,
    );
    const { file, upload } = created.data.createFile;
    expect((await putBytes(upload, Buffer.from("ok"))).status).toBe(200);
    const completed = await server.graphql<{ completeUpload: { __typename: string } }>(
      completeUploadMutation,
      { input: { id: file.id } },
      writer,
    );
    expect(completed.data.completeUpload.__typename).toBe("FilePayload");
  });
});

describe("ids", () => {
  it("answers a malformed global ID with BAD_USER_INPUT, and a missing one with null", async () => {
    const malformed = await server.graphql(`{ node(id: "not-an-id") { id } }`, undefined, { authorization: "" });
    expect(malformed.errors?.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    const missing = await server.graphql(
      `query ($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } file(id: $id) { id } }`,
      {
        id: Buffer.from("File:00000000-0000-0000-0000-000000000000").toString("base64"),
      },
    );
    expect(missing.errors).toBeUndefined();
    expect(missing.data).toEqual({ node: null, nodes: [null], file: null });
  });

  it("refuses more than 100 ids in nodes", async () => {
    const ids = Array.from({ length: 101 }, () => foreignFileId);
    const response = await server.graphql(`query ($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids });
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });
});
