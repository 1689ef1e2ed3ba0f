import type { Caller } from "./access/caller.js";
import type { Db } from "./db/client.js";
import type { FileService } from "./files/service.js";

/** What every resolver gets: who is calling, and the services to act with. */
export interface Context {
  db: Db;
  files: FileService;
  /** null when the request carried no valid API key. */
  caller: Caller | null;
  requestId: string;
}
