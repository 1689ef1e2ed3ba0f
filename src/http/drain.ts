import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Most body bytes read and thrown away before a refusal is sent: enough for the small requests a
 * client sends without reading the answer first, so it sees the status instead of a reset (a
 * client still writing when the server closes gets EPIPE). Larger bodies are not read: the
 * connection is closed after the answer.
 */
const DRAIN_LIMIT = 64 * 1024;

/**
 * Reads and discards the rest of a request's body, up to DRAIN_LIMIT bytes. Resolves true when
 * the body ended within the limit (the connection can carry another request), false when it was
 * larger, declared larger, or broke off.
 */
function drainBody(req: IncomingMessage): Promise<boolean> {
  if (req.readableEnded) return Promise.resolve(true);
  if (Number(req.headers["content-length"]) > DRAIN_LIMIT) return Promise.resolve(false);
  return new Promise((resolve) => {
    let read = 0;
    const done = (ended: boolean): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onFail);
      req.off("close", onFail);
      resolve(ended);
    };
    const onData = (chunk: Buffer): void => {
      read += chunk.length;
      if (read > DRAIN_LIMIT) {
        req.pause();
        done(false);
      }
    };
    const onEnd = (): void => done(true);
    const onFail = (): void => done(false);
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onFail);
    req.once("close", onFail);
    req.resume();
  });
}

/**
 * Sends a refusal of a request whose body was not read: after draining a small body, on a
 * connection that stays open; for a larger one, with `Connection: close`, discarding what is
 * already in flight so the socket is not reset before the client reads the answer.
 */
export async function refuseUnread(req: IncomingMessage, res: ServerResponse, send: () => void): Promise<void> {
  req.unpipe();
  const drained = await drainBody(req);
  if (res.destroyed) return;
  if (!drained) res.setHeader("connection", "close");
  send();
  if (!drained) req.resume();
}
