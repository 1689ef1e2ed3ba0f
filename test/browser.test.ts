// The page at / and GraphiQL in headless Chromium (Debian's, driven by playwright-core), against
// the real server. These run on the SQLite run only: they test the browser side (page, client,
// GraphiQL, CORS, the HTTP routes), which holds no provider-specific code, and every provider's
// data path is covered by the rest of the suite on both providers; Chromium and 100 MiB of
// uploads are the heaviest part of the suite on a shared 2-core machine.
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { Browser, Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webRoutes } from "../src/http/web.js";
import { launchChromium, screenshotsDir, watchPage } from "./helpers/browser.js";
import { uploadFile } from "./helpers/files.js";
import { png, randomContent } from "./helpers/samples.js";
import { apiKey, startServer, type TestServer } from "./helpers/server.js";

const MiB = 1024 * 1024;
const onPostgres = process.env.TEST_DATABASE_PROVIDER === "postgresql";

let browser: Browser;
let server: TestServer;
let dir: string;
beforeAll(async () => {
  if (onPostgres) return;
  [browser, server, dir] = await Promise.all([
    launchChromium(),
    startServer(),
    mkdtemp(path.join(os.tmpdir(), "files-browser-")),
  ]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** A file of random bytes on disk, and its SHA-256. */
async function randomFile(name: string, size: number): Promise<{ path: string; sha256: string }> {
  const bytes = randomContent(size);
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return { path: file, sha256: createHash("sha256").update(bytes).digest("hex") };
}

async function signIn(page: Page, pageUrl: string): Promise<void> {
  await page.goto(pageUrl);
  await page.fill("#api-key", apiKey);
  await page.click("#sign-in button[type=submit]");
  await page.waitForSelector("#workspace-view:not([hidden])");
}

async function fileByName(
  name: string,
): Promise<{ id: string; status: string; checksumSha256: string | null } | undefined> {
  const { data } = await server.graphql<{
    files: { edges: { node: { id: string; name: string; status: string; checksumSha256: string | null } }[] };
  }>(
    `query ($name: String!) { files(workspaceId: "default", filter: { nameContains: $name }) { edges { node { id name status checksumSha256 } } } }`,
    { name },
  );
  return data.files.edges.map((edge) => edge.node).find((node) => node.name === name);
}

/** An element's text with Monaco's non-breaking spaces as plain ones. */
const textOf = async (page: Page, selector: string) => (await page.locator(selector).innerText()).replace(/\s+/g, " ");

const upload = (page: Page, name: string) => page.locator(`#uploads li.upload[data-name="${name}"]`);

describe.skipIf(onPostgres)("in Chromium", () => {
  it("GraphiQL, loaded from this server alone, starts with the key placeholder", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const { problems } = watchPage(page, [server.url]);
    await page.goto(`${server.url}/graphql`);
    const statuses: number[] = [];
    page.on("response", (response) => {
      if (response.url().endsWith("/graphql") && response.request().method() === "POST")
        statuses.push(response.status());
    });
    await expect
      .poll(() => textOf(page, ".graphiql-editor-tool"), { timeout: 20_000 })
      .toContain("Bearer <your API key>");
    // The schema loads (introspection as the anonymous caller) while the placeholder is there.
    await expect.poll(() => statuses, { timeout: 20_000 }).toContain(200);
    expect(statuses).not.toContain(401);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("GraphiQL runs a query with the key of the page at /", async () => {
    // A context of its own: GraphiQL keeps its tabs in local storage.
    const context = await browser.newContext();
    const page = await context.newPage();
    const { problems } = watchPage(page, [server.url]);
    await signIn(page, `${server.url}/`);
    await page.goto(`${server.url}/graphql`);
    await expect.poll(() => textOf(page, ".graphiql-editor-tool"), { timeout: 20_000 }).toContain(`Bearer ${apiKey}`);
    // The editors fill in after Monaco starts: run only once the example query is there.
    await expect.poll(() => textOf(page, ".graphiql-query-editor"), { timeout: 20_000 }).toContain("query Workspaces");
    await page.click(".graphiql-execute-button");
    await expect.poll(() => textOf(page, ".graphiql-response"), { timeout: 20_000 }).toContain('"slug": "default"');
    await page.screenshot({ path: path.join(screenshotsDir, "graphiql-result.png") });
    expect(problems).toEqual([]);
    await context.close();
  });

  it("uploads 20 MiB with PUT and 40 MiB with MULTIPART from the page, progress reaching 100 %, and shows an image's thumbnail", async () => {
    const [put, multipart] = await Promise.all([randomFile("twenty.bin", 20 * MiB), randomFile("forty.bin", 40 * MiB)]);
    const image = path.join(dir, "pixels.png");
    await writeFile(image, png(64, 48));
    const context = await browser.newContext();
    const page = await context.newPage();
    const { problems } = watchPage(page, [server.url]);
    await signIn(page, `${server.url}/`);
    // Every value each progress bar takes.
    await page.evaluate(() => {
      const seen: Record<string, number[]> = {};
      (window as unknown as { progressSeen: typeof seen }).progressSeen = seen;
      new MutationObserver((records) => {
        for (const record of records) {
          const bar = record.target as HTMLProgressElement;
          const name = bar.closest("li")?.dataset.name ?? "";
          seen[name] ??= [];
          seen[name].push(bar.value);
        }
      }).observe(document.getElementById("uploads") as HTMLElement, {
        subtree: true,
        attributes: true,
        attributeFilter: ["value"],
      });
    });

    await page.fill("#upload-labels", "photos");
    await page.setInputFiles("#file-input", [put.path, multipart.path, image]);
    for (const name of ["twenty.bin", "forty.bin", "pixels.png"]) {
      await expect.poll(() => upload(page, name).getAttribute("data-state"), { timeout: 60_000 }).toBe("done");
    }
    expect(await upload(page, "twenty.bin").locator(".method").innerText()).toBe("PUT");
    expect(await upload(page, "forty.bin").locator(".method").innerText()).toBe("MULTIPART");
    const seen = await page.evaluate(
      () => (window as unknown as { progressSeen: Record<string, number[]> }).progressSeen,
    );
    for (const name of ["twenty.bin", "forty.bin"]) {
      // Progress came in steps as bytes went out, and ended at 100 %.
      expect(new Set(seen[name]).size, name).toBeGreaterThan(2);
      expect(seen[name]?.at(-1), name).toBe(100);
    }
    expect(await fileByName("twenty.bin")).toMatchObject({ status: "UPLOADED", checksumSha256: put.sha256 });
    expect(await fileByName("forty.bin")).toMatchObject({ status: "UPLOADED", checksumSha256: multipart.sha256 });

    const thumbnail = page.locator('#files li.file[data-name="pixels.png"] img.thumb');
    await expect
      .poll(() => thumbnail.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 20_000 })
      .toBe(64);
    await page.screenshot({ path: path.join(screenshotsDir, "page-after-upload.png"), fullPage: true });

    // Search by label, then by name.
    await page.fill("#search-label", "photos");
    await page.click("#search button[type=submit]");
    await expect.poll(() => page.locator("#files li.file").count()).toBe(3);
    await page.fill("#search-label", "");
    await page.fill("#search-name", "pixel");
    await page.click("#search button[type=submit]");
    await expect
      .poll(() =>
        page.locator("#files li.file").evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.name)),
      )
      .toEqual(["pixels.png"]);
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);

  it("resumes a MULTIPART upload after a reload in its middle, sending only the parts that had not arrived", async () => {
    const file = await randomFile("resumed.bin", 40 * MiB);
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, `${server.url}/`);
    // Parts 1 and 2 go through; the others are held until the page is reloaded.
    const held: Route[] = [];
    const partsSent: number[] = [];
    await page.route("**/uploads/**", async (route) => {
      const partNumber = Number(new URL(route.request().url()).searchParams.get("partNumber"));
      partsSent.push(partNumber);
      if (partNumber <= 2) await route.continue();
      else held.push(route);
    });
    await page.selectOption("#upload-method", "MULTIPART");
    await page.setInputFiles("#file-input", file.path);
    const received = async () => {
      const pending = await fileByName("resumed.bin");
      if (pending === undefined) return 0;
      const { data } = await server.graphql<{ file: { upload: { receivedParts: unknown[] } | null } }>(
        `query ($id: ID!) { file(id: $id) { upload { receivedParts { partNumber } } } }`,
        { id: pending.id },
      );
      return data.file.upload?.receivedParts.length ?? 0;
    };
    await expect.poll(received, { timeout: 30_000 }).toBe(2);
    await expect.poll(() => held.length, { timeout: 30_000 }).toBeGreaterThan(0);

    // Reload first: the held requests die with the page (unrouting first would let them go on).
    await page.reload();
    await page.unrouteAll({ behavior: "ignoreErrors" });
    expect(await received()).toBe(2);
    partsSent.length = 0;
    page.on("request", (request) => {
      if (request.url().includes("/uploads/"))
        partsSent.push(Number(new URL(request.url()).searchParams.get("partNumber")));
    });
    const interrupted = page.locator('#interrupted-list li.interrupted[data-name="resumed.bin"]');
    await interrupted.waitFor();
    await interrupted.locator("input[type=file]").setInputFiles(file.path);
    await expect.poll(() => upload(page, "resumed.bin").getAttribute("data-state"), { timeout: 60_000 }).toBe("done");
    expect(partsSent.sort()).toEqual([3, 4, 5]);
    expect(await fileByName("resumed.bin")).toMatchObject({ status: "UPLOADED", checksumSha256: file.sha256 });
    await expect.poll(() => page.locator("#interrupted").isHidden()).toBe(true);
    await context.close();
  }, 120_000);

  it("shows files another client uploads and deletes without a reload (fileEvents over server-sent events)", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, `${server.url}/`);
    const file = await uploadFile(
      server,
      { workspaceId: "default", name: "from-elsewhere.txt" },
      Buffer.from("elsewhere"),
    );
    await expect.poll(() => page.locator("#files").innerText(), { timeout: 15_000 }).toContain("from-elsewhere.txt");
    await server.graphql(`mutation ($id: ID!) { deleteFile(id: $id) { __typename } }`, { id: file.id });
    await expect
      .poll(() => page.locator("#files").innerText(), { timeout: 15_000 })
      .not.toContain("from-elsewhere.txt");
    await context.close();
  });

  it("pauses, resumes and cancels uploads of files dropped on the page", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, `${server.url}/`);
    // Bytes are held on their way to the store until the uploads are paused or cancelled.
    await page.route("**/uploads/**", () => undefined);
    await page.selectOption("#upload-method", "MULTIPART");
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      for (const name of ["paused.bin", "cancelled.bin"])
        transfer.items.add(new File([new Uint8Array(17 * 1024 * 1024).fill(7)], name));
      document
        .getElementById("drop-zone")
        ?.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    for (const name of ["paused.bin", "cancelled.bin"]) {
      await expect.poll(() => upload(page, name).locator("button.pause").isEnabled(), { timeout: 20_000 }).toBe(true);
    }
    await upload(page, "paused.bin").locator("button.pause").click();
    await upload(page, "cancelled.bin").locator("button.cancel").click();
    expect(await upload(page, "paused.bin").getAttribute("data-state")).toBe("paused");
    expect(await upload(page, "cancelled.bin").getAttribute("data-state")).toBe("cancelled");
    await expect.poll(() => fileByName("cancelled.bin")).toBeUndefined();
    expect(await fileByName("paused.bin")).toMatchObject({ status: "PENDING" });

    await page.unrouteAll({ behavior: "ignoreErrors" });
    await upload(page, "paused.bin").locator("button.resume").click();
    await expect.poll(() => upload(page, "paused.bin").getAttribute("data-state"), { timeout: 60_000 }).toBe("done");
    const sha256 = createHash("sha256")
      .update(Buffer.alloc(17 * MiB, 7))
      .digest("hex");
    expect(await fileByName("paused.bin")).toMatchObject({ status: "UPLOADED", checksumSha256: sha256 });
    await context.close();
  }, 120_000);

  describe("from another origin", () => {
    let pageServer: Server;
    let pageOrigin: string;
    let corsServer: TestServer;
    beforeAll(async () => {
      // The same built page, served from a second origin.
      const routes = await webRoutes();
      pageServer = createServer((req, res) => {
        if (routes.matches(req)) void routes.serve(req, res);
        else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => pageServer.listen(0, "127.0.0.1", resolve));
      pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
      corsServer = await startServer({ CORS_ORIGINS: pageOrigin });
    });
    afterAll(async () => {
      pageServer?.close();
      await corsServer?.close();
    });

    it("uploads in the request and as MULTIPART (reading each part's ETag) to an API whose CORS_ORIGINS lists the page's origin", async () => {
      const small = await randomFile("cors-small.bin", 100_000);
      const large = await randomFile("cors-large.bin", 17 * MiB);
      const context = await browser.newContext();
      const page = await context.newPage();
      const { problems } = watchPage(page, [pageOrigin, corsServer.url]);
      await signIn(page, `${pageOrigin}/?api=${encodeURIComponent(`${corsServer.url}/graphql`)}`);
      await page.setInputFiles("#file-input", small.path);
      await expect
        .poll(() => upload(page, "cors-small.bin").getAttribute("data-state"), { timeout: 30_000 })
        .toBe("done");
      await page.selectOption("#upload-method", "MULTIPART");
      await page.setInputFiles("#file-input", large.path);
      await expect
        .poll(() => upload(page, "cors-large.bin").getAttribute("data-state"), { timeout: 60_000 })
        .toBe("done");
      await expect.poll(() => page.locator("#files li.file").count()).toBe(2);
      expect(problems).toEqual([]);
      await context.close();
    }, 120_000);

    it("says which origin CORS_ORIGINS must list when the API refuses it", async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${pageOrigin}/?api=${encodeURIComponent(`${server.url}/graphql`)}`);
      await page.fill("#api-key", apiKey);
      await page.click("#sign-in button[type=submit]");
      await expect
        .poll(() => page.locator("#sign-in-error").innerText())
        .toContain(`list ${pageOrigin} in CORS_ORIGINS`);
      await context.close();
    });
  });
});
