/**
 * The clock and timers every controller core runs on, as a port: production
 * passes the system's, the simulator its virtual world's, so the same driver
 * runs a core in both (DESIGN.md "Sans-I/O protocol cores", STYLE.md).
 */

/** Cancels a timer; calling it after the timer fired, or twice, does nothing. */
export type CancelTimer = () => void;

export interface Scheduler {
  /** Milliseconds since the Unix epoch, on a clock that never goes back (journal times are on it). */
  now(): number;
  /** Calls `fire` once at `atMs` on this clock (at once, on a later turn, if that is past). */
  at(atMs: number, fire: () => void): CancelTimer;
}

/** The process's monotonic clock, counted from the Unix epoch, and Node's timers. */
export const systemScheduler: Scheduler = {
  now: () => performance.timeOrigin + performance.now(),
  at: (atMs, fire) => {
    const timer = setTimeout(fire, Math.max(0, atMs - (performance.timeOrigin + performance.now())));
    // A timer alone never keeps the process up: the calls and sockets it waits on do.
    timer.unref();
    return () => {
      clearTimeout(timer);
    };
  },
};

/** Resolves `delayMs` from now on `scheduler`'s clock. */
export function sleepOn(scheduler: Scheduler, delayMs: number): Promise<void> {
  return new Promise((resolve) => {
    scheduler.at(scheduler.now() + delayMs, resolve);
  });
}
