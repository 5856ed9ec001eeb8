/**
 * A calibration for the pause benchmark (pause-latency.ts --cpu-bursts):
 * the CPU that moves cost, without the moves. Each process that a move made
 * busier gets a stand-in process that, every move period, spins for that
 * process's CPU per move, in one slice per phase of a change spread over a
 * change's median duration, all stand-ins together, as a change's messages
 * wake the apparatuses and the device phase after phase. (Spun in one piece
 * at the start of each period, the same CPU raised the load's p99 about
 * twice as much as the moves did.) Nothing is held, nothing copied, no table
 * changes. The load's p99 beside these bursts,
 * against its p99 beside real moves, says how much of the moves' cost to
 * I/O elsewhere is the CPU they use on this machine's cores and how much is
 * anything else (a hold wider than its range, say).
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
