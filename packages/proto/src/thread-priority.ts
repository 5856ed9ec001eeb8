/**
 * Control threads yield the CPU to host I/O (issue 20 item 3). The control
 * thread (gRPC servers, TLS, relays), the controller's thread, the web
 * console's and a follower's etcd client each lower their own scheduling
 * priority when they start, so that when the cores are all busy (a 2-core
 * appliance under host load, fio beside it) the kernel runs the thread that
 * answers hosts first and the control work a little later. With no
 * contention nothing changes: an idle core runs a niced thread at full
 * speed, and a nice value only weighs threads against each other.
 *
 * `pnpm bench:pause -- --move-gap-ms 900 --rounds 6 --embedded --tls`,
 * four runs each way alternated (design notes, session 32): writes
 * elsewhere during moves, p99 against the fair baseline's, median of the
 * rounds, 1.38, 1.04, 1.55, 0.97x before and 0.81, 0.75, 0.55, 0.85x
 * niced; the moved extent's p99 spread the same either way (4.4-24.5 ms
 * before, 5.0-19.9 ms after).
 *
 * On Linux the nice value is a thread's own: setpriority(2) on a thread id
 * changes that thread only. A thread learns its id from /proc/thread-self.
 */
import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { basename } from "node:path";

/**
 * Nice steps a control thread takes below the thread that answers hosts:
 * under contention the kernel's weights then give it about a tenth of the
 * host I/O thread's share (CFS: 110 against 1024), still milliseconds of
 * every second, far more than lease renewals and a change's messages need.
 */
export const controlThreadNiceSteps = 10;
/** The lowest priority Linux has (nice 19). */
const niceMax = 19;

/** This thread's id, or undefined where /proc/thread-self is not there (not Linux). */
export function currentThreadId(): number | undefined {
  try {
    const id = Number(basename(readlinkSync("/proc/thread-self")));
    return Number.isSafeInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lowers the calling thread's priority `steps` below what it has (never
 * raising it: a process started niced stays at least that nice). Returns
 * the thread's new nice value, or undefined where a thread's priority is
 * not its own to set (not Linux), in which case nothing changed.
 */
export function lowerThisThreadPriority(steps: number = controlThreadNiceSteps): number | undefined {
  if (process.platform !== "linux") return undefined;
  const threadId = currentThreadId();
  if (threadId === undefined) return undefined;
  const nice = Math.min(niceMax, getPriority(threadId) + steps);
  setPriority(threadId, nice);
  return nice;
}
