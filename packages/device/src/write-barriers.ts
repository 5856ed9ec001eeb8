/**
 * When the writes to an LU file that started before a moment have all
 * ended. A mirror set up on an LU (device-mirrors.ts) takes every write from
 * then on, but a write already on its way to the file went past it, and the
 * copy must not read that range before it has landed, or the destination
 * would miss it for good. Writes are counted by the epoch they started in; a
 * barrier closes the current epoch and waits until every epoch up to it has
 * no write left. The hot path costs a counter and a compare.
 */
import assert from "node:assert/strict";

interface Waiter {
  readonly epoch: number;
  readonly wake: () => void;
}

export class WriteBarriers {
  private epoch = 0;
  /** Writes in flight that started in the current epoch. */
  private current = 0;
  /** Older epochs that still have writes in flight, with how many. */
  private readonly closed = new Map<number, number>();
  private waiters: Waiter[] = [];

  /** A write starts; its epoch goes back to ended(). */
  started(): number {
    this.current += 1;
    return this.epoch;
  }

  ended(epoch: number): void {
    if (epoch === this.epoch) {
      assert.ok(this.current > 0);
      this.current -= 1;
      return;
    }
    const left = (this.closed.get(epoch) ?? 0) - 1;
    assert.ok(left >= 0, `a write of epoch ${epoch} ended twice`);
    if (left > 0) {
      this.closed.set(epoch, left);
      return;
    }
    this.closed.delete(epoch);
    this.wakeSettled();
  }

  /** Resolves once every write started before this call has ended. */
  settled(): Promise<void> {
    if (this.current === 0 && this.closed.size === 0) return Promise.resolve();
    const epoch = this.epoch;
    if (this.current > 0) this.closed.set(epoch, this.current);
    this.epoch += 1;
    this.current = 0;
    const done = new Promise<void>((resolve) => { this.waiters.push({ epoch, wake: resolve }); });
    this.wakeSettled();
    return done;
  }

  /** Wakes the barriers older than every epoch with writes in flight. */
  private wakeSettled(): void {
    let oldest = Infinity;
    for (const epoch of this.closed.keys()) oldest = Math.min(oldest, epoch);
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.epoch < oldest) waiter.wake();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }
}
