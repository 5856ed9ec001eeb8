/**
 * A sweep of the cluster simulation over a range of seeds, split across
 * worker threads: each seed's run is independent and single-threaded, so a
 * 2-core CI machine sweeps 1,000 seeds in about half the time. The same
 * module is the workers' entry: run as a worker it sweeps the range it is
 * given and posts back its totals and the failures (each starting with the
 * seed that replays it).
 */
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { describeClusterFailure, simulateCluster } from "./cluster-simulation.js";

export interface SweepTotals {
  movesCommitted: number;
  movesFailed: number;
  crashes: number;
  failovers: number;
  lostCommitAnswers: number;
  lostFences: number;
  deviceRestarts: number;
  cutsMidWrite: number;
  writesLandedAtCut: number;
  writesLostAtCut: number;
  diskFaults: number;
  diskWritesFailed: number;
  isolations: number;
  lateIos: number;
  slowIos: number;
  badRanges: number;
  badRangeRefusals: number;
  hostFlushes: number;
  fuaWrites: number;
  spanningWrites: number;
  cutsAfterRejoinFlush: number;
  volatileWritesKept: number;
  volatileWritesLost: number;
  blackouts: number;
  holdsExpired: number;
  hostOperations: number;
  events: number;
  highestEpoch: number;
  longestHostWaitMs: number;
}

export interface SweepResult {
  readonly totals: SweepTotals;
  /** One description per seed whose run broke an invariant. */
  readonly failures: readonly string[];
}

interface SweepRange {
  /** First seed, inclusive. */
  readonly first: number;
  /** Last seed, inclusive. */
  readonly last: number;
  readonly moves: number;
}

/** Workers a sweep starts at most: one per core, and a seed range is never split finer than this. */
export const sweepWorkersMax = 8;

function emptyTotals(): SweepTotals {
  return {
    movesCommitted: 0, movesFailed: 0, crashes: 0, failovers: 0, lostCommitAnswers: 0, lostFences: 0, deviceRestarts: 0,
    cutsMidWrite: 0, writesLandedAtCut: 0, writesLostAtCut: 0, diskFaults: 0, diskWritesFailed: 0, isolations: 0, lateIos: 0,
    slowIos: 0, badRanges: 0, badRangeRefusals: 0, hostFlushes: 0, fuaWrites: 0, spanningWrites: 0, cutsAfterRejoinFlush: 0, volatileWritesKept: 0, volatileWritesLost: 0,
    blackouts: 0, holdsExpired: 0, hostOperations: 0, events: 0, highestEpoch: 0, longestHostWaitMs: 0,
  };
}

function addTotals(into: SweepTotals, more: Readonly<SweepTotals>): void {
  for (const key of Object.keys(into) as (keyof SweepTotals)[]) {
    into[key] = key === "highestEpoch" || key === "longestHostWaitMs" ? Math.max(into[key], more[key]) : into[key] + more[key];
  }
}

/** Sweeps `range` in this thread. */
export async function sweepInThread(range: SweepRange): Promise<SweepResult> {
  const totals = emptyTotals();
  const failures: string[] = [];
  for (let seed = range.first; seed <= range.last; seed += 1) {
    const result = await simulateCluster({ seed, moves: range.moves });
    if (result.violations.length > 0) failures.push(describeClusterFailure(result, "invariant broken"));
    addTotals(totals, result);
  }
  return { totals, failures };
}

function sweepInWorker(range: SweepRange): Promise<SweepResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: range });
    worker.once("message", (result: SweepResult) => {
      resolve(result);
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`the sweep worker for seeds ${range.first}-${range.last} exited with ${code}`));
    });
  });
}

/** Sweeps seeds 1..`seeds`, `moves` moves each, on one worker thread per core. */
export async function sweepClusterSeeds(seeds: number, moves: number): Promise<SweepResult> {
  const workers = Math.max(1, Math.min(availableParallelism(), sweepWorkersMax, seeds));
  const ranges: SweepRange[] = [];
  for (let index = 0; index < workers; index += 1) {
    const first = Math.floor((index * seeds) / workers) + 1;
    const last = Math.floor(((index + 1) * seeds) / workers);
    if (first <= last) ranges.push({ first, last, moves });
  }
  const results = await Promise.all(ranges.map(sweepInWorker));
  const totals = emptyTotals();
  for (const result of results) addTotals(totals, result.totals);
  return { totals, failures: results.flatMap((result) => result.failures) };
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  void sweepInThread(workerData as SweepRange).then((result) => {
    port.postMessage(result);
  });
}
