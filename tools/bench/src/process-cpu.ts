/**
 * CPU time of whole processes, from /proc: where a benchmark's work went. On a
 * machine with few cores, CPU spent on changes is CPU host I/O waits for, so
 * the pause benchmark prints each process's CPU per move next to latencies.
 */
import { readFileSync } from "node:fs";

/** The kernel's clock ticks per second for /proc's CPU times (USER_HZ, 100 on Linux). */
const clockTicksPerSecond = 100;

/** User plus system CPU time of `pid` so far, in milliseconds; all its threads. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`cannot read CPU times from /proc/${pid}/stat: ${stat}`);
  return (ticks * 1000) / clockTicksPerSecond;
}

/** Every named process's CPU time now. */
export function cpuSnapshot(pids: ReadonlyMap<string, number>): Map<string, number> {
  return new Map(Array.from(pids, ([name, pid]) => [name, processCpuMs(pid)]));
}

/** Adds to `into` the CPU milliseconds each process spent between two snapshots. */
export function addCpuBetween(into: Map<string, number>, before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): void {
  for (const [name, cpuMs] of after) into.set(name, (into.get(name) ?? 0) + cpuMs - (before.get(name) ?? cpuMs));
}

/**
 * The CPU a process spent in a phase of moves beyond what it spends at its
 * rate in quiet phases: what the moves cost it, in ms.
 */
export function cpuAboveQuiet(movesCpuMs: number, movesElapsedMs: number, quietCpuMs: number, quietElapsedMs: number): number {
  return movesCpuMs - (quietCpuMs / quietElapsedMs) * movesElapsedMs;
}
