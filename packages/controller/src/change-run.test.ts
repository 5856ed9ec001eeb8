// Goal: the change-control core sends each phase to every apparatus in the
// control range, moves on only when all have reported, fences whoever misses
// the phase timeout and goes on, and aborts on a refusal or a failed effect
// before the commit point. Method: drive the state machine with reports and
// times, no sockets.
import { describe, expect, it } from "vitest";
import { ChangeRun, type Command, type MessagePhase } from "./change-run.js";

function sends(commands: readonly Command[]): { phase: MessagePhase; apparatusIds: readonly string[] }[] {
  return commands.flatMap((command) => (command.kind === "send" ? [{ phase: command.phase, apparatusIds: command.apparatusIds }] : []));
}

describe("ChangeRun", () => {
  it("runs hold, copy, apply, commit, release when everyone answers", () => {
    const run = new ChangeRun("c", ["a", "b"], 2_000, true);
    expect(sends(run.start(0))).toEqual([{ phase: "hold", apparatusIds: ["a", "b"] }]);
    expect(run.onReport("a", "hold", true, "", 1)).toEqual([]);
    expect(run.onReport("b", "hold", true, "", 2)).toEqual([{ kind: "effect", effect: "copy" }]);
    expect(sends(run.onEffect("copy", true, "", 3))).toEqual([{ phase: "apply", apparatusIds: ["a", "b"] }]);
    run.onReport("a", "apply", true, "", 4);
    expect(run.onReport("b", "apply", true, "", 5)).toEqual([{ kind: "effect", effect: "commit" }]);
    expect(sends(run.onEffect("commit", true, "", 6))).toEqual([{ phase: "release", apparatusIds: ["a", "b"] }]);
    run.onReport("a", "release", true, "", 7);
    expect(run.onReport("b", "release", true, "", 8)).toEqual([{ kind: "finished", outcome: "committed", message: "" }]);
    expect(run.phases.map((phase) => phase.phase)).toEqual(["hold", "copy", "apply", "commit", "release"]);
    expect(run.done).toBe(true);
  });

  it("fences an apparatus that misses the phase timeout and goes on without it", () => {
    const run = new ChangeRun("c", ["a", "b"], 2_000, false);
    run.start(0);
    run.onReport("a", "hold", true, "", 5);
    expect(run.onTick(1_999)).toEqual([]);
    const commands = run.onTick(2_000);
    expect(commands[0]).toEqual({ kind: "fence", apparatusId: "b", phase: "hold" });
    expect(sends(commands)).toEqual([{ phase: "apply", apparatusIds: ["a"] }]);
    expect(run.fenced).toEqual(["b"]);
    // A late report from the fenced apparatus changes nothing.
    expect(run.onReport("b", "hold", true, "", 2_100)).toEqual([]);
  });

  it("aborts everyone on a refused apply, and on a failed commit", () => {
    const refused = new ChangeRun("c", ["a", "b"], 2_000, false);
    refused.start(0);
    refused.onReport("a", "hold", true, "", 1);
    refused.onReport("b", "hold", true, "", 1);
    refused.onReport("a", "apply", false, "wrong generation", 2);
    expect(sends(refused.onReport("b", "apply", true, "", 3))).toEqual([{ phase: "abort", apparatusIds: ["a", "b"] }]);
    refused.onReport("a", "abort", true, "", 4);
    // Held writes run only once every apparatus has flipped back.
    expect(sends(refused.onReport("b", "abort", true, "", 5))).toEqual([{ phase: "release", apparatusIds: ["a", "b"] }]);
    refused.onReport("a", "release", true, "", 6);
    expect(refused.onReport("b", "release", true, "", 7)).toEqual([
      { kind: "finished", outcome: "aborted", message: "a refused apply: wrong generation" },
    ]);

    const failed = new ChangeRun("d", ["a"], 2_000, false);
    failed.start(0);
    failed.onReport("a", "hold", true, "", 1);
    failed.onReport("a", "apply", true, "", 2);
    expect(sends(failed.onEffect("commit", false, "stale epoch", 3))).toEqual([{ phase: "abort", apparatusIds: ["a"] }]);
  });

  it("finishes at once when every apparatus has been fenced", () => {
    const run = new ChangeRun("c", ["a"], 100, false);
    run.start(0);
    const commands = run.onTick(100);
    expect(commands.map((command) => command.kind)).toEqual(["fence", "effect"]);
    expect(sends(run.onEffect("commit", true, "", 101))).toEqual([]);
    expect(run.done).toBe(true);
  });
});
