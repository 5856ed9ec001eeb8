// Goal: the real ClusterController keeps DESIGN.md's invariants on the
// simulator's virtual world across controller crashes and successors at
// higher epochs, lost commit answers and lost fences, power cuts of the
// device (leases run out; the store reopens at its last record on disk; the
// LUs' write cache keeps a seeded subset of what no FLUSH or FUA made
// durable), power cuts in the middle of a store or epoch write or right
// after a rejoined apparatus's first FLUSH, a failing disk (each
// failed write crashes the device), a bad range of an LU (EIO there) and a
// slow LU, apparatuses cut off from the
// controllers (alone, or with the leader) while they still reach the
// device, I/O that reaches the device late, migrations (every `volume move`
// is one), and every controller down at once (holds end at their deadline,
// so no host request waits past a bound), over at least 1,000 seeds. The
// run catches the planted version of each fault it models (issue 19 item 6):
// a diff applied as the whole table, holds with no deadline, a takeover's
// failed Fence swallowed, I/O of an id with no key let through, an epoch
// granted before it is saved, a commit answered before it is on disk, a
// FLUSH after a rejoin that skips an LU with acknowledged writes, a request
// spanning extents that leaves admission at its first failed part (a bad
// range of an LU fails one part while the other, on a slow LU, still runs).
// A seed replays the same run.
// Method: simulateCluster() (on a worker thread per core for the sweep) runs
// two controller candidates, three apparatuses with hosts, and the simulated
// device; hosts write single blocks and requests spanning two extents, and
// send FLUSHes; the checks are the history checker (stale
// reads, lost writes, and across power cuts every write a FLUSH or FUA made
// durable), the
// host wait bound, progress, and the device's own (no acknowledged commit
// lost, no epoch granted twice) and its paths' (no write lands on an area
// the committed table no longer maps: claim 6). Each planted fault is searched for over a
// bounded range of seeds and its first catching seed printed with its replay
// line; failures start with the seed that replays them.
import { describe, expect, it } from "vitest";
import type { ApparatusFault } from "@switchyard/apparatus/testing";
import type { SimulatedFault } from "./cluster-faults.js";
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

/**
 * How far each planted fault of the simulated parts is searched for, and
 * with how many moves a run: the search stops at the first seed that
 * catches it, so CI pays only up to that seed (the figures in each
 * test's log line). A takeover's swallowed Fence hurts only when a move
 * commits after the takeover while the apparatus is still cut off, so its
 * runs have more moves. A fenced apparatus's late write and a drain ended
 * early need a move that holds (onto or off the other device's LU, about
 * two moves in three) to meet the faults: with three moves a run they were
 * first caught at seeds 368 and 227, with six at 117 and 10.
 */
type SearchedFault = SimulatedFault | Extract<ApparatusFault, "early-admission-end">;
const plantedSearch: Readonly<Record<SearchedFault, { readonly seedsMax: number; readonly moves: number; readonly what: string }>> = {
  "store-ack-before-sync": { seedsMax: 40, moves: movesPerRun, what: "a power cut loses a commit the controller was told of" },
  "grant-before-save": { seedsMax: 60, moves: movesPerRun, what: "after a failed save and a restart, two controllers hold one epoch" },
  "unknown-id-io": { seedsMax: 300, moves: 6, what: "a fenced apparatus's late write lands on the area a move retired" },
  "takeover-fence-swallowed": { seedsMax: 60, moves: 8, what: "an apparatus cut off from the controllers serves the old map after a takeover's commit" },
  "flush-skips-lu": { seedsMax: 60, moves: movesPerRun, what: "a power cut after a rejoined apparatus's FLUSH loses writes acknowledged before it" },
  "destination-not-aliased": { seedsMax: 60, moves: movesPerRun, what: "without a hold, a write through the new face misses the source that the old face reads" },
  "early-admission-end": { seedsMax: 200, moves: 6, what: "a drain reports drained while a spanning write's other part still runs, and it lands on the area the move retired" },
};

/**
 * Seeds that found gaps of the real controller, now closed; each keeps every
 * invariant in CI, whatever the sweep's range (issue 19 item 6):
 * - 557 (CI's range), 1979, 3540, 4675, 4788 (SWITCHYARD_CLUSTER_SEEDS=5000):
 *   a rejoin registered the key at the device and then sent Register; with
 *   Register's answer lost, the apparatus served under the key while the
 *   controller counted it fenced and owed no fence, and the next change
 *   committed without it (a stale read). Now a failed registration owes a
 *   fence (membership.ts register).
 * - 3470: a change whose commit went unanswered retried it under the epoch
 *   the controller held when it retried; after the lease ran out and the same
 *   controller took it again, the old change's diff committed under the new
 *   epoch before its takeover had loaded the table everywhere (a stale read).
 *   Now a change commits only under the epoch it began under
 *   (table-keeper.ts commit).
 * - 725 (once the weather had congested switches): the answer to the
 *   journal write that started a move was lost, and the console's next move
 *   of the same extent was journaled beside it; the takeover resumed both,
 *   and one switched the extent onto a mirror destination nothing had been
 *   copied to, which the device let through (hosts read zeros). Now a
 *   submission reads the journal again after such a loss and refuses an
 *   extent a running migration has (migration-runs.ts checkNotMoving), and
 *   the device refuses a switch onto an area it copies nothing to
 *   (mirror-records.ts switchRefusal).
 */
const controllerGapSeeds: readonly number[] = [557, 1979, 3540, 4675, 4788, 3470, 725];

/** The first seed of 1..seedsMax whose run with `fault` breaks an invariant. */
async function firstCatch(fault: SearchedFault): Promise<ClusterSimulationResult | undefined> {
  const { seedsMax, moves } = plantedSearch[fault];
  for (let seed = 1; seed <= seedsMax; seed += 1) {
    const result = await simulateCluster({ seed, moves, fault });
    if (result.violations.length > 0) return result;
  }
  return undefined;
}

describe("seeded simulation of the cluster", () => {
  it(`keeps every invariant over ${sweepSeedCount} seeds with failovers, lost commit answers and fences, power cuts (LU caches too), failing disks, bad LU ranges, slow LUs and cut-off apparatuses`, async () => {
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
    // Issue 19: power cut mid-write (some writes landed whole, some not at all), a failing disk, lost fences, cut-off apparatuses, late I/O.
    expect(totals.cutsMidWrite).toBeGreaterThan(0);
    expect(totals.writesLandedAtCut).toBeGreaterThan(0);
    expect(totals.writesLostAtCut).toBeGreaterThan(0);
    expect(totals.diskFaults).toBeGreaterThan(0);
    expect(totals.diskWritesFailed).toBeGreaterThan(0);
    expect(totals.lostFences).toBeGreaterThan(0);
    expect(totals.isolations).toBeGreaterThan(0);
    expect(totals.lateIos).toBeGreaterThan(0);
    // Issue 19 item 4: LU areas went bad (EIO) and LUs went slow, under the moves.
    expect(totals.badRanges).toBeGreaterThan(0);
    expect(totals.badRangeRefusals).toBeGreaterThan(0);
    expect(totals.slowIos).toBeGreaterThan(0);
    // Issue 19: hosts flushed and wrote across extents, power cuts came right after a rejoin's FLUSH, and lost some volatile writes and kept others.
    expect(totals.hostFlushes).toBeGreaterThan(sweepSeedCount);
    expect(totals.spanningWrites).toBeGreaterThan(0);
    expect(totals.cutsAfterRejoinFlush).toBeGreaterThan(0);
    expect(totals.volatileWritesLost).toBeGreaterThan(0);
    expect(totals.volatileWritesKept).toBeGreaterThan(0);
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

  // Issue 19 items 2 and 6: the planted version of each fencing gap and of the store's power cut, modelled in the simulated parts or the apparatus.
  for (const fault of Object.keys(plantedSearch) as SearchedFault[]) {
    const { seedsMax, what } = plantedSearch[fault];
    it(`catches the planted ${fault} bug: ${what}`, async () => {
      const found = await firstCatch(fault);
      expect(found, `${fault} went unnoticed over seeds 1-${seedsMax}`).toBeDefined();
      if (found !== undefined) console.log(describeClusterFailure(found, `planted ${fault}`));
    }, sweepTimeoutMs);
  }

  it.each(controllerGapSeeds)("keeps every invariant on seed %i, which found a controller gap now closed", async (seed) => {
    const result = await simulateCluster({ seed, moves: movesPerRun });
    expect(result.violations, describeClusterFailure(result, "controller gap seed")).toEqual([]);
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
