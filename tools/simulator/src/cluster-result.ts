/**
 * What one seeded run of the cluster simulation is asked (the seed, the
 * moves, a planted bug) and what it reports: the broken invariants, each
 * starting with what replays it, and the counts that show the run met the
 * faults it is meant to (cluster-simulation.ts).
 */
import type { ClusterFault } from "./cluster-faults.js";

export interface ClusterSimulationOptions {
  readonly seed: number;
  readonly moves: number;
  /** A planted bug in every apparatus, or in the simulated device and ports (cluster-faults.ts), to prove the run catches it. */
  readonly fault?: ClusterFault;
}

export interface ClusterSimulationResult {
  readonly seed: number;
  readonly options: ClusterSimulationOptions;
  readonly violations: readonly string[];
  readonly trace: readonly string[];
  readonly movesCommitted: number;
  readonly movesFailed: number;
  readonly crashes: number;
  /** Terms granted after the first: every one a controller taking over. */
  readonly failovers: number;
  readonly highestEpoch: number;
  readonly lostCommitAnswers: number;
  /** Fence requests the device never got. */
  readonly lostFences: number;
  /** Power cuts of the device, a crash after a failed disk write among them. */
  readonly deviceRestarts: number;
  /** Power cuts that found a store record or epoch save in flight, and what became of those writes. */
  readonly cutsMidWrite: number;
  readonly writesLandedAtCut: number;
  readonly writesLostAtCut: number;
  /** Times the device's disk failed for a while, and the writes it failed. */
  readonly diskFaults: number;
  readonly diskWritesFailed: number;
  /** Times an apparatus was cut off from the controllers. */
  readonly isolations: number;
  /** I/O requests that reached the device late. */
  readonly lateIos: number;
  /** I/O requests a slow LU answered. */
  readonly slowIos: number;
  /** LU areas that went bad for a while, and the requests they failed with EIO. */
  readonly badRanges: number;
  readonly badRangeRefusals: number;
  /** FLUSHes the hosts were answered OK, their writes sent with FUA, and those spanning two extents. */
  readonly hostFlushes: number;
  readonly fuaWrites: number;
  readonly spanningWrites: number;
  /** Power cuts right after a rejoined apparatus's first FLUSH, and the volatile LU writes power cuts kept and lost. */
  readonly cutsAfterRejoinFlush: number;
  readonly volatileWritesKept: number;
  readonly volatileWritesLost: number;
  /** Times every controller was down at once. */
  readonly blackouts: number;
  /** Holds that passed their deadline, over every apparatus. */
  readonly holdsExpired: number;
  /** The longest one host request took, in virtual ms (hostWaitMaxMs bounds it). */
  readonly longestHostWaitMs: number;
  readonly hostOperations: number;
  readonly events: number;
}

/** One line for a failing run, the seed first so it can be replayed. */
export function describeClusterFailure(result: ClusterSimulationResult, what: string): string {
  return `${what}: seed ${result.seed} (replay: simulateCluster(${JSON.stringify(result.options)})): ${result.violations.slice(0, 5).join(" | ")}`;
}
