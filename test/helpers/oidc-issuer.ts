import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";

type Algorithm = "RS256" | "ES256";

interface SigningKey {
  kid: string;
  alg: Algorithm;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

/** A local OpenID provider on a loopback port: a discovery document, a key set, and tokens signed by it. */
export interface TestIssuer {
  /** The issuer URL (`iss`), which is also where its discovery document lives. */
  url: string;
  /** A token signed with the newest published key of `alg`; `claims` override the defaults (iss, aud, sub, exp). */
  token(claims?: JWTPayload, options?: { alg?: Algorithm; unpublished?: boolean }): Promise<string>;
  /** An `alg: none` token: no signature at all. */
  unsignedToken(claims?: JWTPayload): string;
  /** An HS256 token whose HMAC secret is the issuer's public RSA key (the algorithm-confusion attack). */
  hmacWithPublicKey(claims?: JWTPayload): Promise<string>;
  /** Publishes a new RSA key beside the old ones; tokens are then signed with it. */
  rotate(): Promise<void>;
  /** Fetches of the key set so far. */
  jwksFetches: number;
  close(): Promise<void>;
}

async function signingKey(kid: string, alg: Algorithm): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return {
    kid,
    alg,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" },
    publicPem: await exportSPKI(publicKey),
  };
}

export async function startIssuer(audience: string): Promise<TestIssuer> {
  const published: SigningKey[] = [await signingKey("rsa-1", "RS256"), await signingKey("ec-1", "ES256")];
  const unpublished = await signingKey("rsa-secret", "RS256");
  let url = "";
  const issuer: TestIssuer = {
    url,
    jwksFetches: 0,
    async token(claims = {}, options = {}) {
      const alg = options.alg ?? "RS256";
      const key = options.unpublished ? unpublished : published.filter((candidate) => candidate.alg === alg).at(-1);
      if (key === undefined) throw new Error(`no ${alg} key`);
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: url, aud: audience, sub: "alice", iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" })
        .sign(key.privateKey);
    },
    unsignedToken(claims = {}) {
      const now = Math.floor(Date.now() / 1000);
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
      return `${encode({ alg: "none", typ: "JWT" })}.${encode({ iss: url, aud: audience, sub: "alice", exp: now + 300, ...claims })}.`;
    },
    async hmacWithPublicKey(claims = {}) {
      const rsa = published[0]!;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: url, aud: audience, sub: "alice", exp: now + 300, ...claims })
        .setProtectedHeader({ alg: "HS256", kid: rsa.kid })
        .sign(new TextEncoder().encode(rsa.publicPem));
    },
    async rotate() {
      published.push(await signingKey(`rsa-${published.length + 1}`, "RS256"));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    if (req.url === "/.well-known/openid-configuration") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          issuer: url,
          jwks_uri: `${url}/jwks`,
          id_token_signing_alg_values_supported: ["RS256", "ES256"],
        }),
      );
    } else if (req.url === "/jwks") {
      issuer.jwksFetches += 1;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: published.map((key) => key.publicJwk) }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer.url = url;
  return issuer;
}
