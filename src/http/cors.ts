import type { IncomingMessage, ServerResponse } from "node:http";
import cors from "cors";

/**
 * CORS for every endpoint, GraphQL and the local driver's signed URLs alike, for the origins in
 * CORS_ORIGINS ("*" for any). Browsers read `ETag` to complete multipart uploads. Resolves true
 * when it answered a preflight itself.
 */
export function corsHandler(origins: string[]): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  if (origins.length === 0) return async () => false;
  const middleware = cors({
    origin: origins.includes("*") ? "*" : origins,
    methods: ["GET", "HEAD", "POST", "PUT", "OPTIONS"],
    exposedHeaders: ["ETag", "x-request-id", "Retry-After"],
    maxAge: 600,
  });
  return (req, res) =>
    new Promise<boolean>((resolve, reject) => {
      // The middleware ends a preflight itself and calls next() for every other request.
      const answered = () => resolve(true);
      res.once("finish", answered);
      middleware(req, res, (error?: unknown) => {
        res.off("finish", answered);
        if (error) reject(error);
        else resolve(false);
      });
    });
}
