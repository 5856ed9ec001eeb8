/**
 * A count that rises whenever something a long poll waits for has moved on
 * (the device's mirrors, device-mirrors.ts), and the polls waiting past a
 * count they have seen: each is answered as soon as the count passes it, or
 * when its wait is over.
 */
export class ProgressSignal {
  private value = 0;
  private readonly waiters = new Set<() => void>();

  get count(): number {
    return this.value;
  }

  /** Resolves once the count is above `afterCount`, or after `waitMs`, or at wakeAll. */
  waitPast(afterCount: number, waitMs: number): Promise<void> {
    if (this.value > afterCount || waitMs === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.waiters.add(done);
    });
  }

  /** The count moves on: every poll waiting is answered. */
  bump(): void {
    this.value += 1;
    this.wakeAll();
  }

  /** Answers every poll waiting, the count unchanged (at close). */
  wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
