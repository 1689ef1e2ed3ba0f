// `npm run bench`: runs each benchmark in turn. Add a benchmark by adding its module here.
const benchmarks: { name: string; run: () => Promise<void> }[] = [
  { name: "uploads", run: async () => (await import("./uploads.js")).run() },
];

const only = process.argv.slice(2);
for (const benchmark of benchmarks) {
  if (only.length > 0 && !only.includes(benchmark.name)) continue;
  console.log(`\n## ${benchmark.name}\n`);
  await benchmark.run();
}
