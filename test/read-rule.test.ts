import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Caller, type Grant } from "../src/access/caller.js";
import { canReadFile, readableFiles, readableFilesIn } from "../src/access/readable.js";
import { type Db, Role } from "../src/db/client.js";
import { readFileById } from "../src/files/file-reads.js";
import { createMigratedDatabase, type MigratedDatabase, testProvider } from "./helpers/database.js";

// The read rule is stated twice: as SQL conditions (`readableFiles`, `readableFilesIn`), which
// listings and most reads use, and in memory (`canReadFile`), which decides a file read by id
// with one raw statement (src/files/file-reads.ts). They must agree on every caller and file:
// members and non-members of private and public workspaces, any roles, security categories held
// through one binding or several, files with and without categories, and overwrites' pending
// upload rows (hidden from everyone).

const workspaces = [
  { id: "private-a", public: false },
  { id: "private-b", public: false },
  { id: "public-c", public: true },
] as const;
const categories = [1, 2, 3];

interface FixtureFile {
  id: string;
  workspaceId: string;
  categories: number[];
  /** Index, among the files before it, of the file this is a pending upload of. */
  pendingOf: number | null;
}

const fixtureFiles = fc
  .array(
    fc.record({
      workspace: fc.constantFrom(...workspaces.map(({ id }) => id)),
      categories: fc.subarray(categories),
      pendingOf: fc.option(fc.nat(), { nil: null }),
    }),
    { minLength: 1, maxLength: 25 },
  )
  .map((drafts) => {
    const files: FixtureFile[] = [];
    const pendingTaken = new Set<number>();
    for (const [index, draft] of drafts.entries()) {
      // A pending upload is of an earlier file of its workspace that is not one itself and has no other.
      const target = draft.pendingOf === null || index === 0 ? null : draft.pendingOf % index;
      const ofFile =
        target !== null &&
        !pendingTaken.has(target) &&
        files[target]?.workspaceId === draft.workspace &&
        files[target]?.pendingOf === null
          ? target
          : null;
      if (ofFile !== null) pendingTaken.add(ofFile);
      files.push({ id: `f${index}`, workspaceId: draft.workspace, categories: draft.categories, pendingOf: ofFile });
    }
    return files;
  });

/** A caller's bindings: none (anonymous or a key without grants), or several per workspace (a subject and its groups). */
const fixtureCaller = fc
  .array(
    fc.record({
      workspace: fc.constantFrom(...workspaces),
      role: fc.constantFrom(...Object.values(Role)),
      categories: fc.subarray(categories),
    }),
    { maxLength: 4 },
  )
  .map(
    (bindings) =>
      new Caller(
        bindings.length === 0 ? null : { kind: "API_KEY", id: "key" },
        bindings.map(
          ({ workspace, role, categories }): Grant => ({
            workspaceId: workspace.id,
            slug: workspace.id,
            public: workspace.public,
            role,
            categories,
          }),
        ),
      ),
  );

describe(`the read rule in memory and in SQL agree (${testProvider})`, () => {
  let database: MigratedDatabase;
  let db: Db;
  beforeAll(async () => {
    database = await createMigratedDatabase("files-read-rule-");
    db = database.db;
    for (const workspace of workspaces)
      await db.workspace.create({ data: { ...workspace, slug: workspace.id, name: workspace.id } });
  });
  afterAll(() => database.close());

  async function writeFixture(files: FixtureFile[]): Promise<void> {
    await db.file.deleteMany({});
    const at = new Date();
    for (const file of files) {
      await db.file.create({
        data: {
          id: file.id,
          workspaceId: file.workspaceId,
          name: file.id,
          nameFolded: file.id,
          status: "UPLOADED",
          storageKey: `${file.workspaceId}/${file.id}`,
          uploadMethod: "PUT",
          createdAt: at,
          securityCategories: JSON.stringify(file.categories),
          pendingForId: file.pendingOf === null ? null : `f${file.pendingOf}`,
          categories: { create: file.categories.map((category) => ({ workspaceId: file.workspaceId, category })) },
        },
      });
    }
  }

  it("canReadFile admits exactly the files readableFiles and readableFilesIn find, for any caller", async () => {
    await fc.assert(
      fc.asyncProperty(
        fixtureFiles,
        fc.array(fixtureCaller, { minLength: 1, maxLength: 6 }),
        async (files, callers) => {
          await writeFixture(files);
          const read = await Promise.all(files.map((file) => readFileById(db, file.id)));
          for (const caller of callers) {
            const inMemory = read
              .filter((found) => found !== null && canReadFile(caller, found.file, found.workspacePublic))
              .map((found) => found?.file.id)
              .sort();
            const bySql = (await db.file.findMany({ where: readableFiles(caller), select: { id: true } }))
              .map(({ id }) => id)
              .sort();
            expect(inMemory).toEqual(bySql);
            // Per workspace the caller can read (a member's, or a public one), as listings ask.
            for (const workspace of workspaces) {
              if (caller.roleIn(workspace.id) === undefined && !workspace.public) continue;
              const inWorkspace = (
                await db.file.findMany({ where: readableFilesIn(caller, workspace), select: { id: true } })
              )
                .map(({ id }) => id)
                .sort();
              expect(
                inMemory.filter((id) => files.find((file) => file.id === id)?.workspaceId === workspace.id),
              ).toEqual(inWorkspace);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
