// Builds dist/web and dist/client once before the tests (scripts/build-web.ts), so the servers
// the tests start serve the page and GraphiQL of the sources under test.
import { buildWeb } from "../scripts/build-web.js";

export default async function setup(): Promise<void> {
  await buildWeb();
}
