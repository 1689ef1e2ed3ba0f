/**
 * Loaded into a bench's server (`node --import ./bench/loop-delay.ts`, with an IPC channel): the
 * delay of the server's event loop, sampled every 2 ms by `monitorEventLoopDelay`. The message
 * "loop-delay" is answered with what was seen since the last one (milliseconds), then forgotten.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";

export interface LoopDelay {
  meanMs: number;
  p99Ms: number;
  maxMs: number;
}

const histogram = monitorEventLoopDelay({ resolution: 2 });
histogram.enable();
process.on("message", (message) => {
  if (message !== "loop-delay") return;
  const delay: LoopDelay = {
    meanMs: histogram.mean / 1e6,
    p99Ms: histogram.percentile(99) / 1e6,
    maxMs: histogram.max / 1e6,
  };
  histogram.reset();
  process.send?.(delay);
});
// The channel must not keep the server alive once it shuts down.
process.channel?.unref();
