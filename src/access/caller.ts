import type { Role } from "../db/client.js";

const rank: Record<Role, number> = { READER: 1, WRITER: 2, ADMIN: 3 };

/** Whether `held` includes everything `needed` allows. */
export function includesRole(held: Role, needed: Role): boolean {
  return rank[held] >= rank[needed];
}

/** Who a request comes from, once its credentials have been verified. */
export type Principal =
  /** An API key; `id` is its Principal row. */
  | { kind: "API_KEY"; id: string }
  /** An OIDC access token's subject, with the identity-provider groups the token names. */
  | { kind: "OIDC"; issuer: string; subject: string; groups: readonly string[] };

/** A role the caller holds in a workspace, directly or through a group. */
export interface Grant {
  workspaceId: string;
  slug: string;
  /** Whether the workspace is public (anyone may read it). */
  public: boolean;
  role: Role;
  /** The security categories the binding holds in the workspace. */
  categories: readonly number[];
}

/**
 * Who is calling and the roles they hold: an API key, an OIDC principal, or the anonymous
 * caller (no principal, no grants). Every request has one; nothing is ever null.
 */
export class Caller {
  static readonly anonymous = new Caller(null, []);

  private readonly grants: ReadonlyMap<string, Grant>;

  constructor(
    readonly principal: Principal | null,
    grants: readonly Grant[],
  ) {
    // A principal may hold a workspace through several bindings (its subject and its groups):
    // the highest role counts, and the categories of every binding.
    const byWorkspace = new Map<string, Grant>();
    for (const grant of grants) {
      const held = byWorkspace.get(grant.workspaceId);
      const categories = [...new Set([...(held?.categories ?? []), ...grant.categories])];
      const role = held === undefined || !includesRole(held.role, grant.role) ? grant.role : held.role;
      byWorkspace.set(grant.workspaceId, { ...grant, role, categories });
    }
    this.grants = byWorkspace;
  }

  /** Whether credentials were verified (an API key or a token), as opposed to anonymous. */
  isAuthenticated(): this is AuthenticatedCaller {
    return this.principal !== null;
  }

  /**
   * A stable name for the principal, for rate limits and logs: `key:<principal row id>` or
   * `oidc:<issuer>#<subject>`; null when anonymous. Never a secret.
   */
  get principalKey(): string | null {
    const { principal } = this;
    if (principal === null) return null;
    return principal.kind === "API_KEY" ? `key:${principal.id}` : `oidc:${principal.issuer}#${principal.subject}`;
  }

  /** Internal ids of the workspaces the caller is a member of. */
  get memberWorkspaceIds(): string[] {
    return [...this.grants.keys()];
  }

  /** The caller's role in a workspace, if a member. */
  roleIn(workspaceId: string): Role | undefined {
    return this.grants.get(workspaceId)?.role;
  }

  /** The security categories the caller holds in a workspace (none outside its memberships). */
  categoriesIn(workspaceId: string): readonly number[] {
    return this.grants.get(workspaceId)?.categories ?? [];
  }

  /** The caller's grant in the workspace `ref` names, by internal id or slug. */
  grantFor(ref: string): Grant | undefined {
    return this.grants.get(ref) ?? [...this.grants.values()].find((grant) => grant.slug === ref);
  }

  /**
   * Names who the caller is and everything it holds (principal, and each workspace's role and
   * categories): two callers with the same key are the same principal with the same access, so a
   * result computed for one may be given to the other. Any difference gives another key.
   */
  get accessKey(): string {
    this.cachedAccessKey ??= JSON.stringify([
      this.principal,
      [...this.grants.values()]
        .map((grant) => [grant.workspaceId, grant.slug, grant.public, grant.role, [...grant.categories].sort()])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ]);
    return this.cachedAccessKey;
  }

  private cachedAccessKey: string | undefined;
}

/** A caller whose credentials were verified: what resolvers behind `authenticated` get. */
export type AuthenticatedCaller = Caller & { readonly principal: Principal; readonly principalKey: string };
