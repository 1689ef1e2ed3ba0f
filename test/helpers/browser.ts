import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where browser tests leave screenshots (gitignored). */
export const screenshotsDir = path.resolve(import.meta.dirname, "..", "..", "test-output", "screenshots");

/**
 * Starts headless Chromium. Playwright gives every launch a fresh temporary profile
 * (--user-data-dir). Without the background-networking flags Chromium keeps dialling Google's
 * hosts, which a closed network refuses.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `no Chromium at ${chromiumPath}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  await mkdir(screenshotsDir, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Records what a page does that a test should fail on: script errors and requests to other hosts. */
export function watchPage(page: Page, allowedOrigins: string[]): { problems: string[] } {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.protocol !== "data:" && url.protocol !== "blob:" && !allowedOrigins.includes(url.origin))
      problems.push(`request to ${url.origin}`);
  });
  return { problems };
}
