/**
 * A calibration for the pause benchmark (pause-latency.ts --cpu-bursts):
 * the wake-ups and CPU of moves, without the moves. Each process that moves
 * made busier gets a stand-in process. Every move period, all stand-ins
 * together spin for their process's CPU per move (times a fraction), in one
 * slice per phase of a change spread over a change's median duration, as a
 * change's messages wake the apparatuses and the device phase after phase.
 * (Spun in one piece at the start of each period, the same CPU raised the
 * load's p99 about twice as much as the moves did.) Nothing is held or
 * copied and no table changes, so the load's p99 beside the stand-ins,
 * against its p99 beside real moves, tells what merely waking these
 * processes costs host I/O on this machine from what anything else in a
 * move does (a hold wider than its range, say).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpuAboveQuiet } from "./process-cpu.js";

/** One stand-in: spins `spinMs` in every `periodMs` of the wall clock, in slices spread over its first `spreadMs`. */
export interface BurstSpec {
  readonly spinMs: number;
  readonly periodMs: number;
  readonly spreadMs: number;
}

/** Hold, copy, apply, commit, release: the exchanges of a change, each of which wakes processes. */
export const burstSlices = 5;

/**
 * Ticks are aligned to the wall clock, shared by every stand-in, so that
 * they all wake together; a late tick skips ahead rather than bunching up.
 */
const burstScript = `
const [spinMs, periodMs, spreadMs, slices] = process.argv.slice(1).map(Number);
const wallNow = () => performance.timeOrigin + performance.now();
let slice = 0;
function tick() {
  const until = performance.now() + spinMs / slices;
  while (performance.now() < until) { /* spin */ }
  slice = (slice + 1) % slices;
  const periodStart = Math.floor(wallNow() / periodMs) * periodMs;
  const next = periodStart + (slice === 0 ? periodMs : (slice * spreadMs) / slices);
  setTimeout(tick, Math.max(0, next - wallNow()));
}
setTimeout(tick, Math.ceil(wallNow() / periodMs) * periodMs - wallNow());
`;

/** Starts one stand-in per spec; end them with ChildProcess.kill. */
export function startCpuBursts(specs: readonly BurstSpec[]): ChildProcess[] {
  return specs
    // A process that moves did not make busier was not woken by them: no stand-in.
    .filter((spec) => spec.spinMs > 0)
    .map((spec) => spawn(process.execPath, ["-e", burstScript, ...[spec.spinMs, spec.periodMs, Math.min(spec.spreadMs, spec.periodMs), burstSlices].map((value) => value.toFixed(3))], { stdio: "ignore" }));
}

/**
 * Each process's CPU per move in one phase of moves, above its rate in the
 * quiet phase before: what its stand-in spins per period.
 */
export function burstSpecs(
  quiet: { readonly cpuMs: ReadonlyMap<string, number>; readonly elapsedMs: number },
  moves: { readonly cpuMs: ReadonlyMap<string, number>; readonly elapsedMs: number; readonly count: number; readonly medianChangeMs: number },
): BurstSpec[] {
  if (moves.count === 0) return [];
  const periodMs = moves.elapsedMs / moves.count;
  return Array.from(moves.cpuMs, ([name, movesCpuMs]) => {
    const extraMs = cpuAboveQuiet(movesCpuMs, moves.elapsedMs, quiet.cpuMs.get(name) ?? 0, quiet.elapsedMs);
    return { spinMs: Math.max(0, extraMs) / moves.count, periodMs, spreadMs: moves.medianChangeMs };
  });
}
