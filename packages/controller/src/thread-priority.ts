/**
 * Host I/O before change control. On a machine with few cores the controller's
 * bursts of work (planning, a dozen gRPC calls per change) compete with the
 * apparatuses' I/O threads for the CPU; a higher nice value on the
 * controller's own thread lets the scheduler run host I/O first whenever both
 * are ready, and costs the controller nothing when the CPU is idle. Linux
 * keeps a nice value per thread, so this touches no other thread of the
 * process.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/** The controller thread's nice value: 0 is the default, 19 the lowest priority. */
export const controllerThreadNice = 10;

/**
 * Sets the calling thread's nice value; false where the platform gives no
 * thread id (not Linux) or refuses, and the thread runs at normal priority.
 */
export function lowerThreadPriority(nice: number): boolean {
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>" for the thread that reads it.
    const threadId = Number(readlinkSync("/proc/thread-self").split("/").at(-1));
    if (!Number.isSafeInteger(threadId) || threadId <= 0) return false;
    setPriority(threadId, nice);
    return true;
  } catch {
    return false;
  }
}
