import type { Role } from "../db/client.js";
import { type Caller, includesRole } from "./caller.js";
import { AuthenticationError, ForbiddenError } from "./errors.js";

/** Everything the API lets a caller do, and the role each needs in the workspace concerned. */
const requiredRoles = {
  "file:read": "READER",
  "file:create": "WRITER",
  "file:update": "WRITER",
  "file:delete": "WRITER",
  "upload:sign": "WRITER",
  "upload:complete": "WRITER",
  "upload:abort": "WRITER",
  "webhook:manage": "ADMIN",
  "folder:create": "WRITER",
  "folder:delete": "WRITER",
} as const satisfies Record<string, Role>;

export type Action = keyof typeof requiredRoles;

/** What a decision needs to know of a workspace. */
export interface WorkspaceAccess {
  id: string;
  public: boolean;
}

/**
 * - `allowed`;
 * - `hidden`: the caller cannot read the workspace, so it must look absent (NotFoundError / null);
 * - `unauthenticated`: an anonymous caller asked for more than reading;
 * - `forbidden`: the caller can read the workspace but lacks the role.
 */
export type Decision = "allowed" | "hidden" | "unauthenticated" | "forbidden";

/** The one decision on every action: reads and writes alike. */
function decide(caller: Caller, action: Action, workspace: WorkspaceAccess): Decision {
  const needed: Role = requiredRoles[action];
  const held = caller.roleIn(workspace.id);
  if (held === undefined) {
    if (!workspace.public) return "hidden";
    if (needed === "READER") return "allowed";
    return caller.isAuthenticated() ? "forbidden" : "unauthenticated";
  }
  return includesRole(held, needed) ? "allowed" : "forbidden";
}

export function can(caller: Caller, action: Action, workspace: WorkspaceAccess): boolean {
  return decide(caller, action, workspace) === "allowed";
}

/**
 * Throws unless the caller may do `action` in the workspace: `hidden()` (the domain's "not
 * found") when it cannot read it, AuthenticationError for an anonymous write, ForbiddenError
 * naming the role otherwise.
 */
export function authorize(caller: Caller, action: Action, workspace: WorkspaceAccess, hidden: () => Error): void {
  const decision = decide(caller, action, workspace);
  if (decision === "allowed") return;
  if (decision === "hidden") throw hidden();
  if (decision === "unauthenticated")
    throw new AuthenticationError("sign in to do this: send Authorization: Bearer <API key or token>");
  throw new ForbiddenError(requiredRoles[action]);
}
