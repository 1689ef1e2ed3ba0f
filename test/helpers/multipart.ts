import { request } from "node:http";
import { createFileMutation, type MutationResult } from "./files.js";
import { apiKey, type TestServer } from "./server.js";

/** One file of a GraphQL multipart request: where it goes in the operations, and its bytes. */
export interface MultipartFile {
  /** Object paths in `operations` (GraphQL multipart request spec `map`), e.g. "variables.input.file". */
  paths: string[];
  body: Uint8Array;
  filename?: string;
  type?: string;
}

/** A GraphQL multipart request body (operations, map, then the files in map order) as FormData. */
export function multipartForm(operations: unknown, files: MultipartFile[]): FormData {
  const form = new FormData();
  form.append("operations", JSON.stringify(operations));
  form.append("map", JSON.stringify(Object.fromEntries(files.map((file, index) => [String(index), file.paths]))));
  files.forEach((file, index) => {
    form.append(
      String(index),
      new Blob([Uint8Array.from(file.body)], { type: file.type ?? "application/octet-stream" }),
      file.filename ?? `file-${index}`,
    );
  });
  return form;
}

/** POSTs a multipart request to /graphql with the admin key and the CSRF header (unless overridden). */
export async function postMultipart(
  server: TestServer,
  operations: unknown,
  files: MultipartFile[],
  headers: Record<string, string> = { "x-graphql-csrf": "1" },
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, ...headers },
    body: multipartForm(operations, files),
  });
  return { status: response.status, body: await response.json() };
}

/** createFile with `input.file` sent as a multipart file; returns the mutation's result. */
export async function createFileWithUpload(
  server: TestServer,
  input: Record<string, unknown>,
  body: Uint8Array,
  type?: string,
): Promise<MutationResult> {
  const { body: response } = await postMultipart(
    server,
    { query: createFileMutation, variables: { input: { workspaceId: "default", ...input, file: null } } },
    [{ paths: ["variables.input.file"], body, type }],
  );
  const { data, errors } = response as { data?: { createFile: MutationResult }; errors?: unknown };
  if (errors !== undefined || data === undefined) throw new Error(JSON.stringify(response));
  return data.createFile;
}

/**
 * Starts a multipart createFile whose file part is `totalBytes` long but sends only the first
 * `sentBytes` of it; returns a function that drops the connection.
 */
export function startPartialUpload(
  server: TestServer,
  input: Record<string, unknown>,
  totalBytes: number,
  sentBytes: number,
): () => void {
  const boundary = "----partial-upload-boundary";
  const operations = JSON.stringify({
    query: createFileMutation,
    variables: { input: { workspaceId: "default", ...input, file: null } },
  });
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.file"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const url = new URL(`${server.url}/graphql`);
  const req = request(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${apiKey}`,
      "x-graphql-csrf": "1",
      "content-type": `multipart/form-data; boundary=${boundary}`,
      "content-length": String(head.length + totalBytes + tail.length),
    },
  });
  req.on("error", () => undefined);
  req.write(head);
  const chunk = Buffer.alloc(1024 * 1024, 7);
  for (let sent = 0; sent < sentBytes; sent += chunk.length)
    req.write(chunk.subarray(0, Math.min(chunk.length, sentBytes - sent)));
  return () => req.destroy();
}
