import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantRole } from "../src/access/admin.js";
import { createFileMutation } from "./helpers/files.js";
import { startIssuer, type TestIssuer } from "./helpers/oidc-issuer.js";
import { startServer, type TestServer } from "./helpers/server.js";

const audience = "files-api";
let issuer: TestIssuer;
let server: TestServer;

beforeAll(async () => {
  issuer = await startIssuer(audience);
  // No cooldown between key-set fetches, so the rotation below needs no wait.
  server = await startServer({ OIDC_ISSUER: issuer.url, OIDC_AUDIENCE: audience, OIDC_JWKS_COOLDOWN: "0" });
  await grantRole(server.app.db, "default", { issuer: issuer.url, subject: "alice" }, "WRITER");
  await grantRole(server.app.db, "default", { issuer: issuer.url, group: "auditors" }, "READER");
});
afterAll(async () => {
  await server.close();
  await issuer.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const viewerQuery = `{ viewer { workspaces { slug viewerRole } } }`;

async function expectRefused(token: string, reason: RegExp): Promise<void> {
  const response = await server.graphql(viewerQuery, undefined, bearer(token));
  expect(response.status).toBe(401);
  expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  expect(response.errors?.[0]?.message).toMatch(reason);
  // Nothing of the token is echoed.
  expect(response.errors?.[0]?.message).not.toContain(token.slice(0, 20));
}

describe("OIDC access tokens", () => {
  it("admits a valid token of a granted subject, with that subject's role", async () => {
    const token = await issuer.token({ sub: "alice" });
    const viewer = await server.graphql(viewerQuery, undefined, bearer(token));
    expect(viewer.data).toEqual({ viewer: { workspaces: [{ slug: "default", viewerRole: "WRITER" }] } });
    const created = await server.graphql<{ createFile: { __typename: string } }>(
      createFileMutation,
      { input: { workspaceId: "default", name: "from-oidc.txt" } },
      bearer(token),
    );
    expect(created.data.createFile.__typename).toBe("CreateFilePayload");
  });

  it("admits an ES256 token", async () => {
    const viewer = await server.graphql(
      viewerQuery,
      undefined,
      bearer(await issuer.token({ sub: "alice" }, { alg: "ES256" })),
    );
    expect(viewer.data).toEqual({ viewer: { workspaces: [{ slug: "default", viewerRole: "WRITER" }] } });
  });

  it("gives a member of a granted group that group's role: it reads, and a write is FORBIDDEN", async () => {
    const token = await issuer.token({ sub: "bob", groups: ["staff", "auditors"] });
    const viewer = await server.graphql(viewerQuery, undefined, bearer(token));
    expect(viewer.data).toEqual({ viewer: { workspaces: [{ slug: "default", viewerRole: "READER" }] } });
    const created = await server.graphql(
      createFileMutation,
      { input: { workspaceId: "default", name: "no.txt" } },
      bearer(token),
    );
    expect(created.status).toBe(403);
    expect(created.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("takes the highest role when the subject and one of its groups are both granted", async () => {
    const token = await issuer.token({ sub: "alice", groups: ["auditors"] });
    const viewer = await server.graphql(viewerQuery, undefined, bearer(token));
    expect(viewer.data).toEqual({ viewer: { workspaces: [{ slug: "default", viewerRole: "WRITER" }] } });
  });

  it("admits a valid token of an ungranted subject, who sees no workspace", async () => {
    const token = await issuer.token({ sub: "carol" });
    const response = await server.graphql(
      `{ viewer { workspaces { slug } } files(workspaceId: "default") { totalCount } }`,
      undefined,
      bearer(token),
    );
    expect(response.data).toBeNull();
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(["NOT_FOUND"]);
    const viewer = await server.graphql(viewerQuery, undefined, bearer(token));
    expect(viewer.data).toEqual({ viewer: { workspaces: [] } });
  });

  it("refuses an expired token", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await issuer.token({ exp: now - 3600, iat: now - 7200 }), /expired/);
  });

  it("accepts a token expired within the clock tolerance", async () => {
    const now = Math.floor(Date.now() / 1000);
    const response = await server.graphql(
      viewerQuery,
      undefined,
      bearer(await issuer.token({ exp: now - 30, iat: now - 600 })),
    );
    expect(response.status).toBe(200);
  });

  it("refuses a token for another audience", async () => {
    await expectRefused(await issuer.token({ aud: "another-api" }), /audience \(aud\) is not files-api/);
  });

  it("refuses a token of another issuer", async () => {
    await expectRefused(await issuer.token({ iss: "https://evil.example" }), /issuer \(iss\) is not/);
  });

  it("refuses a token not valid yet", async () => {
    await expectRefused(await issuer.token({ nbf: Math.floor(Date.now() / 1000) + 3600 }), /not valid yet/);
  });

  it("refuses a token signed with a key the issuer does not publish", async () => {
    await expectRefused(await issuer.token({}, { unpublished: true }), /unknown kid/);
  });

  it("admits tokens signed with a key the issuer publishes after a rotation, without a restart", async () => {
    const before = issuer.jwksFetches;
    await issuer.rotate();
    const viewer = await server.graphql(viewerQuery, undefined, bearer(await issuer.token({ sub: "alice" })));
    expect(viewer.data).toEqual({ viewer: { workspaces: [{ slug: "default", viewerRole: "WRITER" }] } });
    expect(issuer.jwksFetches).toBe(before + 1);
  });

  it("refuses an unsigned token (alg: none)", async () => {
    await expectRefused(issuer.unsignedToken(), /must be signed with RS256 or ES256/);
  });

  it("refuses an HS256 token whose secret is the issuer's public key", async () => {
    await expectRefused(await issuer.hmacWithPublicKey(), /must be signed with RS256 or ES256/);
  });

  it("refuses a token whose signature was altered", async () => {
    // alice's signature over a payload that says root.
    const [header, , signature] = (await issuer.token()).split(".");
    const forged = Buffer.from(
      JSON.stringify({ iss: issuer.url, aud: audience, sub: "root", exp: 9_999_999_999 }),
    ).toString("base64url");
    await expectRefused(`${header}.${forged}.${signature}`, /signature is not valid/);
  });

  it("refuses a token without sub", async () => {
    await expectRefused(await issuer.token({ sub: undefined }), /sub/);
  });

  it("refuses a token that names more than 1000 groups", async () => {
    const groups = Array.from({ length: 1001 }, (_, i) => `g${i}`);
    await expectRefused(await issuer.token({ groups }), /more than 1000 groups/);
  });

  it("refuses a token that is shaped like a JWT but is not one, without a 500", async () => {
    await expectRefused("abc.def.ghi", /not a well-formed signed JWT/);
    await expectRefused(`${Buffer.from("{}").toString("base64url")}.e30.`, /must be signed with|not a well-formed/);
  });

  it("ignores group entries that are not strings", async () => {
    const token = await issuer.token({ sub: "dave", groups: ["auditors", 7, { name: "x" }, null] });
    const viewer = await server.graphql(viewerQuery, undefined, bearer(token));
    expect(viewer.data).toEqual({ viewer: { workspaces: [{ slug: "default", viewerRole: "READER" }] } });
  });

  it("keeps API keys working beside OIDC", async () => {
    const response = await server.graphql(viewerQuery);
    expect(response.data).toEqual({ viewer: { workspaces: [{ slug: "default", viewerRole: "ADMIN" }] } });
  });
});

describe("an unreachable identity provider", () => {
  let offline: TestServer;
  let stopped: TestIssuer;
  beforeAll(async () => {
    stopped = await startIssuer(audience);
    await stopped.close();
    offline = await startServer({ OIDC_ISSUER: stopped.url, OIDC_AUDIENCE: audience });
  });
  afterAll(() => offline.close());

  it("answers a token with 503 IDENTITY_PROVIDER_UNAVAILABLE, and API keys still work", async () => {
    const response = await offline.graphql(viewerQuery, undefined, bearer(await stopped.token()));
    expect(response.status).toBe(503);
    expect(response.errors?.[0]?.extensions?.code).toBe("IDENTITY_PROVIDER_UNAVAILABLE");
    const withKey = await offline.graphql(viewerQuery);
    expect(withKey.status).toBe(200);
  });
});

describe("a groups claim inside an object", () => {
  let nested: TestServer;
  beforeAll(async () => {
    nested = await startServer({
      OIDC_ISSUER: issuer.url,
      OIDC_AUDIENCE: audience,
      OIDC_GROUPS_CLAIM: "realm_access.roles",
    });
    await grantRole(nested.app.db, "default", { issuer: issuer.url, group: "uploader" }, "WRITER");
  });
  afterAll(() => nested.close());

  it("reads the groups at OIDC_GROUPS_CLAIM's dotted path", async () => {
    const token = await issuer.token({ sub: "erin", realm_access: { roles: ["uploader"] }, groups: ["ignored"] });
    const viewer = await nested.graphql(viewerQuery, undefined, bearer(token));
    expect(viewer.data).toEqual({ viewer: { workspaces: [{ slug: "default", viewerRole: "WRITER" }] } });
  });
});
