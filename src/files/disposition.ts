// How downloads are served: inline, or as an attachment when a browser could run the file.
import { mimeEssence } from "./mime.js";

/**
 * Types served inline: those a browser displays without running script from our origin. Anything
 * else (HTML, SVG, XML, JavaScript, PDF — whose viewers run JavaScript and submit forms — and
 * every unknown type) is served as an attachment. An allow-list, so a type nobody thought of is
 * downloaded rather than rendered.
 */
const INLINE_TYPES = new Set([
  "image/png",
  "image/apng",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/avif",
  "image/bmp",
  "text/plain",
]);

/** Whether downloads of this type must carry `Content-Disposition: attachment`. */
export function mustDownloadAsAttachment(mimeType: string): boolean {
  const essence = mimeEssence(mimeType);
  if (essence.startsWith("video/") || essence.startsWith("audio/")) return false;
  return !INLINE_TYPES.has(essence);
}
