/**
 * The soak's bookkeeping (scripts/soak.ts): what its clients saw answered, and so what the data
 * the server leaves must hold. Answers arrive in any order and some are lost to a kill, so a file
 * whose fate no answer settles is not counted either way.
 */
export class SoakLedger {
  /** Files a client saw completed (and no delete removed): id → the checksum it last saw. */
  readonly expected = new Map<string, string>();
  /** Deletes sent per id that no answer has settled yet: in flight, or their answer lost to a kill. */
  private readonly unsettled = new Map<string, number>();
  /** Ids a delete removed: an answer confirming one later (an overwrite committed before the delete) does not bring it back. */
  private readonly deleted = new Set<string>();
  /** Files a delete found missing while no other delete had been sent for them: lost. */
  readonly vanished: string[] = [];

  /** A client saw the file completed with this content. */
  confirmed(id: string, checksum: string | null | undefined): void {
    if (checksum == null || this.deleted.has(id)) return;
    this.expected.set(id, checksum);
  }

  /** A delete of the file is about to be sent. */
  deleteSent(id: string): void {
    this.unsettled.set(id, (this.unsettled.get(id) ?? 0) + 1);
  }

  /** A delete's answer arrived: `DeletedFile`, or the error's type name (`NotFoundError`). A lost answer is never reported. */
  deleteAnswered(id: string, typename: string): void {
    const others = (this.unsettled.get(id) ?? 1) - 1;
    if (others > 0) this.unsettled.set(id, others);
    else this.unsettled.delete(id);
    if (typename === "DeletedFile" || others > 0 || this.deleted.has(id)) {
      this.expected.delete(id);
      this.deleted.add(id);
      return;
    }
    // No other delete was sent: a file a client saw completed is missing.
    this.expected.delete(id);
    this.vanished.push(id);
  }

  /** Whether a delete whose answer is lost (or still due) may have removed the file. */
  uncertain(id: string): boolean {
    return this.unsettled.has(id);
  }
}
