import { Readable } from "node:stream";

/**
 * A request body handed to an SDK upload, counted as the SDK reads it. The SDK reports a failing
 * body as an error of its own; `error` keeps the body's, which is what the caller must see (a
 * client that went away, a limit hit upstream).
 */
export class CountedBody {
  /** Bytes the SDK has read so far; the body's size once the upload is done. */
  size = 0;
  /** The body's own error, if it failed. */
  error: unknown;
  /** What to give the SDK. */
  readonly stream: Readable;

  constructor(body: Readable) {
    // Without a listener from the start, a body that fails before the SDK reads it would be an
    // uncaught error; the iteration below still sees it.
    body.on("error", () => undefined);
    const counted = async function* (this: CountedBody): AsyncIterable<Buffer> {
      try {
        for await (const chunk of body) {
          this.size += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      } catch (error) {
        this.error = error;
        throw error;
      }
    };
    this.stream = Readable.from(counted.call(this));
  }
}
