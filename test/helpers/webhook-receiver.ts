import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request a receiver got. */
export interface Received {
  headers: Record<string, string>;
  body: string;
  /** The parsed body. */
  event: {
    id: string;
    type: string;
    occurredAt: string;
    workspaceId: string;
    file: { id: string; name: string; status: string };
  };
}

/**
 * A webhook receiver on loopback that records what it is sent and answers 204. `down()` closes
 * its port (connections are refused) until `up()` opens the same port again; `hold` makes it
 * keep requests unanswered.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  /** While set, requests are recorded in `held` and never answered. */
  hold = false;
  readonly held: Received[] = [];
  private server: Server | undefined;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once `count` requests matching `accept` arrived (or rejects after `timeoutMs`). */
  async waitFor(
    count: number,
    accept: (received: Received) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.received.filter(accept);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline) throw new Error(`only ${matching.length} of ${count} webhook requests arrived`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
    const received = { headers, body, event: JSON.parse(body) as Received["event"] };
    if (this.hold) {
      this.held.push(received);
      return;
    }
    this.received.push(received);
    res.writeHead(204).end();
  }
}
