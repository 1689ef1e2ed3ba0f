import { describe, expect, it } from "vitest";
import { SoakLedger } from "../scripts/soak-ledger.js";

/** The files the soak's verification would report lost, when none of the rows is left. */
function reportedLost(ledger: SoakLedger): string[] {
  return [...ledger.vanished, ...[...ledger.expected.keys()].filter((id) => !ledger.uncertain(id))];
}

describe("the soak's bookkeeping", () => {
  it("a file removed by a delete whose answer a kill lost (or by a concurrent delete) is not lost when another delete finds it missing", () => {
    const ledger = new SoakLedger();
    ledger.confirmed("a", "sum-a");
    ledger.deleteSent("a"); // committed, then the server was killed before answering (or still in flight)
    ledger.deleteSent("a");
    ledger.deleteAnswered("a", "NotFoundError");
    expect(reportedLost(ledger)).toEqual([]);
  });

  it("an overwrite answered after the delete that removed its file does not bring the file back", () => {
    const ledger = new SoakLedger();
    ledger.confirmed("shared", "sum-1");
    ledger.deleteSent("shared");
    ledger.deleteAnswered("shared", "DeletedFile");
    ledger.confirmed("shared", "sum-2"); // committed before the delete, answered after it
    expect(reportedLost(ledger)).toEqual([]);
  });

  it("still counts a completed file a delete finds missing when nothing else deleted it", () => {
    const ledger = new SoakLedger();
    ledger.confirmed("a", "sum-a");
    ledger.deleteSent("a");
    ledger.deleteAnswered("a", "NotFoundError");
    expect(reportedLost(ledger)).toEqual(["a"]);
  });

  it("still counts a completed file with no delete sent, and skips one whose delete answer was lost", () => {
    const ledger = new SoakLedger();
    ledger.confirmed("kept", "sum-k");
    ledger.confirmed("maybe", "sum-m");
    ledger.deleteSent("maybe");
    expect(reportedLost(ledger)).toEqual(["kept"]);
    expect(ledger.uncertain("maybe")).toBe(true);
  });
});
