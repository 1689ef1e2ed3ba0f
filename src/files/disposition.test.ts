import { describe, expect, it } from "vitest";
import { mustDownloadAsAttachment } from "./disposition.js";

describe("mustDownloadAsAttachment", () => {
  it.each([
    "text/html",
    "text/html; charset=utf-8",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "application/rss+xml",
    "text/javascript",
    "application/javascript",
    "application/ecmascript",
    "text/ecmascript",
    "application/pdf",
    "application/octet-stream",
    "application/x-unknown-thing",
  ])("downloads %s as an attachment", (mimeType) => {
    expect(mustDownloadAsAttachment(mimeType)).toBe(true);
  });

  it.each([
    "image/png",
    "image/jpeg",
    "IMAGE/GIF",
    "image/webp",
    "text/plain; charset=utf-8",
    "video/mp4",
    "audio/mpeg",
  ])("shows %s inline", (mimeType) => {
    expect(mustDownloadAsAttachment(mimeType)).toBe(false);
  });
});
