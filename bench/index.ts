// `npm run bench [name]`: runs every benchmark, or the one named.
const benchmarks: Record<string, () => Promise<unknown>> = {
  listing: () => import("./listing.js"),
};

const only = process.argv[2];
for (const [name, run] of Object.entries(benchmarks)) {
  if (only !== undefined && only !== name) continue;
  console.log(`# ${name}`);
  await run();
}
