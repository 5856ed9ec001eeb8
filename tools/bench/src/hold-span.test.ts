// Goal: a change's hold time, as the benchmarks count it, runs from its
// first phase's start to its last phase's end, so the controller's time
// between phases counts as hosts feel it; a change that did not commit is
// refused. Method: phase records with known starts and gaps.
import { describe, expect, it } from "vitest";
import { holdToReleaseMs } from "./cluster.js";

function change(state: string, phases: readonly (readonly [string, number, number])[]): Parameters<typeof holdToReleaseMs>[0] {
  return { state, phases: phases.map(([phase, startedAtMs, elapsedMs]) => ({ phase, started_at_ms: startedAtMs, elapsed_ms: elapsedMs })) };
}

describe("holdToReleaseMs", () => {
  it("spans the first phase's start to the last one's end, gaps between phases included", () => {
    // hold 1000-1004, apply 1005-1007, commit 1007-1011, release 1012-1014: 11 ms of phases, 14 ms held.
    const moved = change("CHANGE_STATE_COMMITTED", [["hold", 1_000, 4], ["apply", 1_005, 2], ["commit", 1_007, 4], ["release", 1_012, 2]]);
    expect(holdToReleaseMs(moved)).toBe(14);
  });

  it("is 0 for a change with no phases, and refuses one that did not commit", () => {
    expect(holdToReleaseMs(change("CHANGE_STATE_COMMITTED", []))).toBe(0);
    expect(() => holdToReleaseMs(change("CHANGE_STATE_ABORTED", [["hold", 0, 1]]))).toThrow(/did not commit/);
  });
});
