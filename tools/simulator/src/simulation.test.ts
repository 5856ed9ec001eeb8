// Goal: the change protocol keeps its invariants under every seeded schedule
// the simulator makes (no stale read, no lost write, progress, the control
// range at the committed generation), and the simulator is itself tested: a
// planted bug in the apparatus must make it fail, and a seed must replay the
// same run. Method: simulate() runs the real ChangeRun and real apparatuses
// on virtual time; every failure message starts with the seed to replay.
import { describe, expect, it } from "vitest";
import { describeFailure, simulate, type SimulationResult } from "./simulation.js";

/** Seeds of the main sweep, and moves per run: 200 short runs cover more schedules than a few long ones. */
const sweepSeedCount = 200;
const movesPerRun = 4;
/** Seeds a planted bug gets to show itself in; each has been caught well within this many. */
const plantedSeedCount = 20;
/** Vitest's per-test limit, in real milliseconds: the sweep takes a few seconds on a shared machine. */
const sweepTimeoutMs = 60_000;

describe("seeded simulation of the change protocol", () => {
  it(`keeps every invariant over ${sweepSeedCount} seeds of ${movesPerRun} moves`, async () => {
    const startedMs = performance.now();
    const failures: string[] = [];
    const totals = { fencings: 0, rejoins: 0, committed: 0, aborted: 0, hostOperations: 0, events: 0 };
    for (let seed = 1; seed <= sweepSeedCount; seed += 1) {
      const result = await simulate({ seed, moves: movesPerRun });
      if (result.violations.length > 0) failures.push(describeFailure(result, "invariant broken"));
      totals.fencings += result.fencings;
      totals.rejoins += result.rejoins;
      totals.hostOperations += result.hostOperations;
      totals.events += result.events;
      for (const change of result.changes) totals[change.outcome] += 1;
    }
    console.log(`${sweepSeedCount} runs in ${Math.round(performance.now() - startedMs)} ms:`, totals);
    expect(failures).toEqual([]);
    // Not a vacuous pass: the sweep fenced, rejoined, aborted and committed.
    expect(totals.fencings).toBeGreaterThan(0);
    expect(totals.rejoins).toBeGreaterThan(0);
    expect(totals.aborted).toBeGreaterThan(0);
    expect(totals.committed).toBeGreaterThan(sweepSeedCount);
  }, sweepTimeoutMs);

  it.each(["drain-early", "hold-nothing"] as const)("catches the planted %s bug", async (fault) => {
    const caught: SimulationResult[] = [];
    for (let seed = 1; seed <= plantedSeedCount; seed += 1) {
      const result = await simulate({ seed, moves: movesPerRun, fault });
      if (result.violations.length > 0) caught.push(result);
    }
    console.log(`${fault}: caught by seeds ${caught.map((result) => result.seed).join(", ")} of 1-${plantedSeedCount}`);
    const first = caught[0];
    expect(first, `${fault} went unnoticed over seeds 1-${plantedSeedCount}`).toBeDefined();
    if (first !== undefined) console.log(describeFailure(first, fault));
  }, sweepTimeoutMs);

  it("replays the same run from the same seed", async () => {
    const first = await simulate({ seed: 42, moves: movesPerRun });
    const again = await simulate({ seed: 42, moves: movesPerRun });
    const other = await simulate({ seed: 43, moves: movesPerRun });
    expect(again.trace).toEqual(first.trace);
    expect(again.hostOperations).toBe(first.hostOperations);
    expect(again.events).toBe(first.events);
    expect(other.trace).not.toEqual(first.trace);
  });
});
