// Preloaded (node --require) into the Azurite the tests start: it exits once its stdin closes,
// which is how the tests stop it, and also what happens when the test process dies, so no
// emulator outlives a killed test worker. Unref'd: the open pipe alone keeps nothing running.
process.stdin
  .on("end", () => process.exit(0))
  .resume()
  .unref();
