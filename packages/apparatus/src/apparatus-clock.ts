/**
 * The apparatus's timers, as a port: production runs them on Node's timers;
 * the simulator on its virtual clock, so a hold's deadline fires at the same
 * virtual time in every replay of a seed.
 */

/** Cancels a timer; after it fired, or twice, it does nothing. */
export type CancelTimer = () => void;

export interface ApparatusClock {
  /** Calls `fire` once, `delayMs` from now. */
  after(delayMs: number, fire: () => void): CancelTimer;
}

export const systemApparatusClock: ApparatusClock = {
  after: (delayMs, fire) => {
    const timer = setTimeout(fire, delayMs);
    // A deadline alone never keeps the process up.
    timer.unref();
    return () => {
      clearTimeout(timer);
    };
  },
};
