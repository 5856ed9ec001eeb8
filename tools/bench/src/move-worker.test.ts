// Goal: the fair control of bench:pause makes its read-only calls at the
// pace of the moves before it, asking for the last of them.
import { describe, expect, it } from "vitest";
import { movePace, type MoveWindow } from "./move-worker.js";

function moved(changeId: string): MoveWindow {
  return { changeId, extentIndex: 0, startMs: 0, endMs: 1, holdToReleaseMs: 1, phaseMs: new Map(), phaseSpans: [] };
}

describe("movePace", () => {
  it("paces one call per move of the phase, for the phase's last move", () => {
    expect(movePace([moved("a"), moved("b"), moved("c"), moved("d"), moved("e")], 5_000)).toEqual({ changeId: "e", paceMs: 1_000 });
  });

  it("has no pace after a phase without moves", () => {
    expect(movePace([], 5_000)).toBeUndefined();
  });

  it("refuses a phase that took no time, which would pace the calls 0 ms apart", () => {
    expect(() => movePace([moved("a")], 0)).toThrow(/took 0 ms/);
  });
});
