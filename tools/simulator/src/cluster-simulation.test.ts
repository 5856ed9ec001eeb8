// Goal: the real ClusterController keeps DESIGN.md's invariants on the
// simulator's virtual world across controller crashes and successors at
// higher epochs, lost commit answers, device restarts (leases run out) and
// migrations (every `volume move` is one), and every controller down at once
// (holds end at their deadline, so no host request waits past a bound), over
// at least 1,000 seeds; the
// run catches a planted bug (a diff applied as the whole table, and holds
// with no deadline); a seed replays the same run.
// Method: simulateCluster() (on a worker thread per core for the sweep) runs two controller candidates, three
// apparatuses with hosts, and the simulated device; failures start with the
// seed that replays them.
import { describe, expect, it } from "vitest";
import { describeClusterFailure, hostWaitMaxMs, simulateCluster, type ClusterSimulationResult } from "./cluster-simulation.js";
// Built (turbo builds before it tests): its worker threads load the module's JavaScript.
import { sweepClusterSeeds } from "../dist/cluster-sweep.js";

/** Seeds of the sweep (issue 16 asks for at least 1,000 in CI) and moves per run. */
const sweepSeedCount = Number(process.env.SWITCHYARD_CLUSTER_SEEDS ?? 1_000);
const movesPerRun = 3;
const plantedSeedCount = 30;
/** Blackouts (every controller down past a hold's deadline) come in about one seed in five. */
const holdForeverSeedCount = 100;
/** Vitest's limit for the sweep, in real milliseconds. */
const sweepTimeoutMs = 600_000;

describe("seeded simulation of the cluster", () => {
  it(`keeps every invariant over ${sweepSeedCount} seeds with failovers, lost commit answers and device restarts`, async () => {
    const startedMs = performance.now();
    const { totals, failures } = await sweepClusterSeeds(sweepSeedCount, movesPerRun);
    const seconds = (performance.now() - startedMs) / 1_000;
    console.log(`cluster simulation: ${sweepSeedCount} seeds, ${totals.events} simulated steps in ${seconds.toFixed(1)} s (${Math.round(totals.events / seconds)} steps/s)`, totals);
    expect(failures).toEqual([]);
    // Not a vacuous pass: moves committed, controllers failed over, commits lost their answers, the device restarted.
    expect(totals.movesCommitted).toBeGreaterThan(sweepSeedCount);
    expect(totals.failovers).toBeGreaterThan(sweepSeedCount / 10);
    expect(totals.highestEpoch).toBeGreaterThan(2);
    expect(totals.lostCommitAnswers).toBeGreaterThan(0);
    expect(totals.deviceRestarts).toBeGreaterThan(0);
    // Holds met their deadline when no controller was left, and no host request waited past the bound.
    expect(totals.holdsExpired).toBeGreaterThan(0);
    expect(totals.longestHostWaitMs).toBeLessThanOrEqual(hostWaitMaxMs);
  }, sweepTimeoutMs);

  it("catches the planted apply-whole-table bug", async () => {
    const caught: ClusterSimulationResult[] = [];
    for (let seed = 1; seed <= plantedSeedCount && caught.length === 0; seed += 1) {
      const result = await simulateCluster({ seed, moves: movesPerRun, fault: "apply-whole-table" });
      if (result.violations.length > 0) caught.push(result);
    }
    const first = caught[0];
    expect(first, `apply-whole-table went unnoticed over seeds 1-${plantedSeedCount}`).toBeDefined();
    if (first !== undefined) console.log(describeClusterFailure(first, "planted apply-whole-table"));
  }, sweepTimeoutMs);

  // Issue 19: a hold with no deadline waits for a Release that, with every controller down, nobody sends.
  it("catches the planted hold-forever bug: a host request waits past the bound", async () => {
    let found: ClusterSimulationResult | undefined;
    for (let seed = 1; seed <= holdForeverSeedCount && found === undefined; seed += 1) {
      const result = await simulateCluster({ seed, moves: movesPerRun, fault: "hold-forever" });
      if (result.longestHostWaitMs > hostWaitMaxMs) found = result;
    }
    expect(found, `hold-forever kept every host wait within ${hostWaitMaxMs} ms over seeds 1-${holdForeverSeedCount}`).toBeDefined();
    if (found !== undefined) console.log(`planted hold-forever: seed ${found.seed} (replay: simulateCluster({"seed":${found.seed},"moves":${movesPerRun},"fault":"hold-forever"})): a host request waited ${Math.round(found.longestHostWaitMs)} ms, bound ${hostWaitMaxMs} ms`);
  }, sweepTimeoutMs);

  it("replays the same run from the same seed", async () => {
    const first = await simulateCluster({ seed: 7, moves: movesPerRun });
    const again = await simulateCluster({ seed: 7, moves: movesPerRun });
    const other = await simulateCluster({ seed: 8, moves: movesPerRun });
    expect(again.trace).toEqual(first.trace);
    expect(again.events).toBe(first.events);
    expect(other.trace).not.toEqual(first.trace);
  }, sweepTimeoutMs);
});
