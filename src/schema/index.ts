import { builder } from "./builder.js";
import "./errors.js";
import "./workspace.js";
import "./file.js";
import "./file-mutations.js";
import "./events.js";
import "./webhook.js";
import "./folder.js";

export const schema = builder.toSchema({ sortSchema: false });
