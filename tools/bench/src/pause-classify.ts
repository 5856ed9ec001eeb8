/**
 * How the pause benchmark (pause-latency.ts) sorts its host writes: by the
 * phase of the benchmark and, in phases of moves, by the change in progress
 * when each write began.
 */
import type { WriteLog } from "./host-writes.js";
import { phaseCodes } from "./host-writes.js";
import type { MoveWindow } from "./move-worker.js";
import { percentile } from "./cluster.js";

/** One round's writes: its phase without moves, and its writes elsewhere during moves. */
export interface RoundWrites {
  readonly baseline: number[];
  readonly elsewhere: number[];
  readonly idleLoad: number[];
  readonly cpuBursts: number[];
}

export interface Classified {
  readonly baseline: number[];
  readonly moved: number[];
  /** Where each write to the moved extent began, as elsewhereBeganIn. */
  readonly movedBeganIn: string[];
  readonly elsewhere: number[];
  /** Where each write elsewhere began: the name of the phase in progress, or "between phases". */
  readonly elsewhereBeganIn: string[];
  /** Through which client (apparatus) each write elsewhere went. */
  readonly elsewhereClient: number[];
  /** Baseline latencies per client. */
  readonly baselineByClient: number[][];
  readonly between: number[];
  /** Writes of the phases with a lowest-priority busy loop (--idle-load). */
  readonly idleLoad: number[];
  /** Writes of the phases with bursts of CPU the size of the moves' (--cpu-bursts). */
  readonly cpuBursts: number[];
  /** By round, so that each round's moves are weighed against the quiet phase just before them. */
  readonly rounds: RoundWrites[];
  readonly unanswered: number;
}

/** The phase of `window` in progress at `timeMs`. */
function phaseAt(window: MoveWindow, timeMs: number): string {
  const span = window.phaseSpans.find((candidate) => timeMs >= candidate.startMs && timeMs < candidate.endMs);
  return span?.phase ?? "between phases";
}

/** The window in progress at `timeMs`, if any; `windows` are sorted by start and do not overlap (moves run one at a time). */
export function windowAt(windows: readonly MoveWindow[], timeMs: number): MoveWindow | undefined {
  let low = 0;
  let high = windows.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((windows[middle]?.startMs ?? Infinity) <= timeMs) low = middle + 1;
    else high = middle;
  }
  const window = windows[low - 1];
  return window !== undefined && timeMs < window.endMs ? window : undefined;
}

/**
 * Sorts writes by when they began. A write that began while a change was in
 * progress (Hold sent to Release acknowledged) is "moved" if it went to the
 * extent being moved and "elsewhere" if not; one that began between changes
 * is "between". Classifying by overlap instead would be biased: a slow write
 * overlaps more changes than a fast one, so slow writes of any cause would
 * gather in the change buckets, the more so the further apart moves are. When
 * a write begins does not depend on how long it will take.
 */
export function classify(log: WriteLog, windows: readonly MoveWindow[]): Classified {
  const sorted = [...windows].sort((first, second) => first.startMs - second.startMs);
  const result: Classified & { unanswered: number } = {
    baseline: [], moved: [], movedBeganIn: [], elsewhere: [], elsewhereBeganIn: [], elsewhereClient: [], baselineByClient: [], between: [], idleLoad: [], cpuBursts: [], rounds: [], unanswered: 0,
  };
  for (let index = 0; index < log.count; index += 1) {
    const latencyMs = log.latencyMs[index] ?? Number.NaN;
    const phase = log.phase[index];
    if (phase === 0) continue;
    if (Number.isNaN(latencyMs)) {
      result.unanswered += 1;
      continue;
    }
    const round = (result.rounds[log.round[index] ?? 0] ??= { baseline: [], elsewhere: [], idleLoad: [], cpuBursts: [] });
    const client = log.client[index] ?? 0;
    const calibration = phase === phaseCodes["idle-load"] ? "idleLoad" : phase === phaseCodes["cpu-bursts"] ? "cpuBursts" : undefined;
    if (calibration !== undefined) {
      result[calibration].push(latencyMs);
      round[calibration].push(latencyMs);
      continue;
    }
    if (phase === phaseCodes.baseline) {
      result.baseline.push(latencyMs);
      round.baseline.push(latencyMs);
      (result.baselineByClient[client] ??= []).push(latencyMs);
      continue;
    }
    const startMs = log.startMs[index] ?? 0;
    const window = windowAt(sorted, startMs);
    if (window === undefined) result.between.push(latencyMs);
    else if (window.extentIndex === log.extentIndex[index]) {
      result.moved.push(latencyMs);
      result.movedBeganIn.push(phaseAt(window, startMs));
    } else {
      result.elsewhere.push(latencyMs);
      round.elsewhere.push(latencyMs);
      result.elsewhereBeganIn.push(phaseAt(window, startMs));
      result.elsewhereClient.push(client);
    }
  }
  return result;
}

/** Each round's p99 of `which` writes over its own baseline p99, in round order; rounds without both are left out. */
export function roundRatios(classified: Classified, which: "elsewhere" | "idleLoad" | "cpuBursts"): number[] {
  return classified.rounds
    .filter((round) => round.baseline.length > 0 && round[which].length > 0)
    .map((round) => percentile(round[which], 0.99) / percentile(round.baseline, 0.99));
}

