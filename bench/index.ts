// `npm run bench [name …]`: runs every benchmark, or the ones named. Add one by listing it here.
const benchmarks: { name: string; run: () => Promise<void> }[] = [
  { name: "uploads", run: async () => (await import("./uploads.js")).run() },
  { name: "uploads-azure", run: async () => (await import("./uploads-azure.js")).run() },
  { name: "listing", run: async () => void (await import("./listing.js")) },
  { name: "gate", run: async () => (await import("./gate.js")).run() },
  { name: "start", run: async () => (await import("./start.js")).run() },
  { name: "events", run: async () => (await import("./events.js")).run() },
  { name: "events-delivery", run: async () => (await import("./events-delivery.js")).run() },
  { name: "flows", run: async () => (await import("./flows.js")).run() },
];

const only = process.argv.slice(2);
for (const benchmark of benchmarks) {
  if (only.length > 0 && !only.includes(benchmark.name)) continue;
  console.log(`\n## ${benchmark.name}\n`);
  await benchmark.run();
}
