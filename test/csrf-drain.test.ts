import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFileMutation } from "./helpers/files.js";
import { type MainProcess, startMain } from "./helpers/main-process.js";
import { multipartForm } from "./helpers/multipart.js";
import { randomContent } from "./helpers/samples.js";

/**
 * Longer than Node's keep-alive timeout plus its one-second margin (5 + 1 s): a server that
 * answered before reading the body starts that timer at once and closes the socket under a
 * client still sending.
 */
const pauseMs = 8000;
const clients = 5;

// The documented start (`node dist/main.js`) in a process of its own, so that its sockets and
// timers are not the test's: the refusal must reach a client that writes its whole request before
// it reads the answer, as simple HTTP clients do.
describe("GraphQL multipart without the CSRF header, from a client that sends all before reading", () => {
  let dir: string;
  let main: MainProcess;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "files-csrf-drain-"));
    main = await startMain(dir, { BOOTSTRAP_API_KEY: "drain-key" });
  });
  afterAll(async () => {
    await main?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Sends the request (pausing once mid-body, then the rest in pieces), then reads the answer's
   * status line; a failed write or read is the error's code.
   */
  async function sendThenRead(head: string, body: Buffer): Promise<string> {
    const socket = connect(main.port, "127.0.0.1");
    socket.pause();
    const failed = new Promise<string>((resolve) =>
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(`${error.code}`)),
    );
    const answered = (async () => {
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(head);
      socket.write(body.subarray(0, 8192));
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      // The rest in pieces, as a body streams: a write to a socket the server closed meanwhile fails.
      for (let offset = 8192; offset < body.length; offset += 8192) {
        await new Promise<void>((resolve, reject) =>
          socket.write(body.subarray(offset, offset + 8192), (error) => (error ? reject(error) : resolve())),
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      let text = "";
      for await (const chunk of socket) {
        text += String(chunk);
        if (text.includes("\r\n")) break;
      }
      return text.split("\r\n", 1)[0] ?? "";
    })().catch((error: NodeJS.ErrnoException) => `${error.code}`);
    const outcome = await Promise.race([answered, failed]);
    socket.destroy();
    return outcome;
  }

  it(
    "answers 400 to each of several clients pausing mid-body longer than the keep-alive timeout (none sees EPIPE)",
    async () => {
      const operations = {
        query: createFileMutation,
        variables: { input: { workspaceId: "default", name: "csrf.txt", file: null } },
      };
      // 60 KiB of file: the whole body is under the 64 KiB drained before the refusal.
      const form = new Response(
        multipartForm(operations, [{ paths: ["variables.input.file"], body: randomContent(60 * 1024) }]),
      );
      const body = Buffer.from(await form.arrayBuffer());
      const head =
        `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${main.port}\r\nAuthorization: Bearer drain-key\r\n` +
        `Content-Type: ${form.headers.get("content-type")}\r\nContent-Length: ${body.length}\r\n\r\n`;
      const outcomes = await Promise.all(Array.from({ length: clients }, () => sendThenRead(head, body)));
      expect(outcomes).toEqual(Array(clients).fill("HTTP/1.1 400 Bad Request"));
    },
    pauseMs + 20_000,
  );
});
