/**
 * The events bench's subscribers: SUBSCRIBERS server-sent-event streams of `fileEvents` per
 * server, read in a process of their own (they stand for other clients, in practice browser tabs
 * on other machines, so reading them must not hold up the uploading client's event loop; the
 * process still runs on the same cores as the servers). Every `next` event is parsed and checked:
 * after a round, each subscriber must have seen, for every file of the round, CREATED, then
 * PROGRESS with rising receivedBytes ending at the file's size (when the server reports
 * progress), then UPLOADED — and nothing else. A round ends when every subscriber has seen
 * every UPLOADED, so no round's deliveries spill into the next (the other server's) round.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

/** What the subscribers of one server received in a round. */
export interface Received {
  /** `next` events received, summed over the subscribers. */
  events: number;
  /** Of which PROGRESS. */
  progress: number;
  /** CPU milliseconds the subscribers' process spent since the previous round. */
  cpuMs: number;
}

const source = `
const { request } = require("node:http");
let cpuBefore = process.cpuUsage();
const body = JSON.stringify({
  query: 'subscription { fileEvents(workspaceId: "default") { type receivedBytes file { id status } } }',
});
// Per server slot: its subscribers, each with its events of the current round by file.
const slots = new Map();
function subscribe(url, slot) {
  const subscriber = { files: new Map(), events: 0, progress: 0, problems: [] };
  slots.get(slot).push(subscriber);
  const fail = (text) => { if (subscriber.problems.length < 3) subscriber.problems.push(text); };
  const onEvent = (json) => {
    const event = JSON.parse(json).data?.fileEvents;
    if (event == null) return fail("an event without data: " + json.slice(0, 200));
    subscriber.events += 1;
    let file = subscriber.files.get(event.file.id);
    if (file === undefined) {
      file = { created: false, received: -1, uploaded: false };
      subscriber.files.set(event.file.id, file);
    }
    if (event.type === "CREATED") {
      if (file.created || file.received >= 0 || file.uploaded) fail("CREATED out of order for " + event.file.id);
      file.created = true;
    } else if (event.type === "PROGRESS") {
      subscriber.progress += 1;
      if (!file.created || file.uploaded) fail("PROGRESS outside CREATED..UPLOADED for " + event.file.id);
      if (!(event.receivedBytes > file.received)) fail("receivedBytes did not rise for " + event.file.id);
      file.received = event.receivedBytes;
    } else if (event.type === "UPLOADED") {
      if (!file.created || file.uploaded) fail("UPLOADED out of order for " + event.file.id);
      file.uploaded = true;
    } else fail("unexpected " + event.type);
  };
  return new Promise((resolve, reject) => {
    const req = request(url + "/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: "Bearer " + process.env.BENCH_API_KEY },
    }, (res) => {
      if (res.statusCode !== 200) reject(new Error("subscription answered " + res.statusCode));
      res.setEncoding("utf8");
      let tail = "";
      res.on("data", (chunk) => {
        const blocks = (tail + chunk).split("\\n\\n");
        tail = blocks.pop();
        for (const block of blocks) {
          if (!block.startsWith("event: next\\n")) continue;
          onEvent(block.slice(block.indexOf("data: ") + 6));
        }
      });
      res.on("error", () => undefined);
      resolve();
    });
    req.on("error", reject);
    req.end(body);
  });
}
function check(slot, files, size, progress) {
  const subscribers = slots.get(slot);
  const done = () => subscribers.every((s) => files.every((id) => s.files.get(id)?.uploaded));
  const deadline = Date.now() + 20000;
  return new Promise((resolve) => {
    const poll = () => {
      if (!done() && Date.now() < deadline) return void setTimeout(poll, 2);
      const problems = [];
      let events = 0;
      let progressEvents = 0;
      for (const [index, s] of subscribers.entries()) {
        events += s.events;
        progressEvents += s.progress;
        for (const problem of s.problems) problems.push("subscriber " + index + ": " + problem);
        if (s.files.size !== files.length) problems.push("subscriber " + index + " heard of " + s.files.size + " files, not " + files.length);
        for (const id of files) {
          const file = s.files.get(id);
          if (!file?.uploaded) problems.push("subscriber " + index + " missed UPLOADED of " + id);
          else if (progress && file.received !== size) problems.push("subscriber " + index + ": last receivedBytes of " + id + " is " + file.received);
          else if (!progress && file.received !== -1) problems.push("subscriber " + index + ": PROGRESS from a server with progress off");
        }
        s.files.clear();
        s.events = 0;
        s.progress = 0;
        s.problems = [];
      }
      const { user, system } = process.cpuUsage(cpuBefore);
      cpuBefore = process.cpuUsage();
      resolve({ events, progress: progressEvents, cpuMs: (user + system) / 1000, problems: problems.slice(0, 10) });
    };
    poll();
  });
}
process.on("message", async (message) => {
  if (message.type === "subscribe") {
    slots.set(message.slot, []);
    for (let i = 0; i < message.count; i++) await subscribe(message.url, message.slot);
    process.send("subscribed");
  } else {
    process.send(await check(message.slot, message.files, message.size, message.progress));
  }
});
`;

/**
 * BENCH_EVENTS_SUBSCRIBERS_NICE: the subscribers' process runs at this nice level (default 0, as
 * the servers). At 19 it has the cores only when nothing else wants them: a model of subscribers
 * on other machines, which still receives, parses and checks every event.
 */
const niceness = Number(process.env.BENCH_EVENTS_SUBSCRIBERS_NICE ?? 0);

export class Subscribers {
  private readonly child: ChildProcess;
  /** Requests to the subscribers' process, one at a time (each answered in order). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(apiKey: string) {
    const node = [process.execPath, "-e", source];
    this.child = spawn(
      niceness === 0 ? node[0]! : "nice",
      niceness === 0 ? node.slice(1) : ["-n", String(niceness), ...node],
      {
        env: { ...process.env, BENCH_API_KEY: apiKey },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      },
    );
  }

  private ask<T>(message: object): Promise<T> {
    const answer = this.queue.then(async () => {
      this.child.send(message);
      const [reply] = await once(this.child, "message");
      return reply as T;
    });
    this.queue = answer.catch(() => undefined);
    return answer;
  }

  /** Opens `count` subscriptions to the server at `url`, counted under `slot`. */
  async subscribe(url: string, slot: number, count: number): Promise<void> {
    await this.ask({ type: "subscribe", url, slot, count });
  }

  /**
   * Waits until every subscriber of `slot` has seen `files` uploaded, checks what each received
   * (see the module comment; `progress`: whether the server reports PROGRESS), and starts the
   * slot's next round. Throws on the first subscribers' problems.
   */
  async received(slot: number, files: string[], size: number, progress: boolean): Promise<Received> {
    const { problems, ...received } = await this.ask<Received & { problems: string[] }>({
      type: "check",
      slot,
      files,
      size,
      progress,
    });
    if (problems.length > 0) throw new Error(`the subscribers' events are wrong:\n${problems.join("\n")}`);
    return received;
  }

  terminate(): void {
    this.child.kill();
  }
}
