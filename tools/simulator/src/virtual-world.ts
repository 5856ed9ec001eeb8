/**
 * Virtual time for one simulated run: an event queue ordered by (virtual
 * time, sequence number), so two events at the same time run in the order
 * they were scheduled. After each event the microtask queue is left to
 * settle (one setImmediate turn) before the next event, so the real
 * promise-based code of the apparatus and the controller runs to its next
 * wait on virtual time, and a run is the same sequence of steps each time.
 */
import assert from "node:assert/strict";

/** Events one run may process: a runaway loop ends as a failure, not a hang. */
export const eventsPerRunMax = 2_000_000;
/** Trace lines a runaway run shows. */
const traceTailLines = 40;

interface ScheduledEvent {
  readonly atMs: number;
  readonly sequence: number;
  readonly action: () => void;
}

/** A binary min-heap of events by (atMs, sequence). */
class EventHeap {
  private readonly items: ScheduledEvent[] = [];

  get size(): number {
    return this.items.length;
  }

  push(event: ScheduledEvent): void {
    const items = this.items;
    items.push(event);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = items[parent];
      assert.ok(above !== undefined);
      if (!before(event, above)) break;
      items[index] = above;
      index = parent;
    }
    items[index] = event;
  }

  pop(): ScheduledEvent | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const leftItem = items[left];
      const rightItem = items[right];
      assert.ok(leftItem !== undefined);
      const child = rightItem !== undefined && before(rightItem, leftItem) ? right : left;
      const childItem = child === right ? rightItem : leftItem;
      assert.ok(childItem !== undefined);
      if (!before(childItem, last)) break;
      items[index] = childItem;
      index = child;
    }
    items[index] = last;
    return top;
  }
}

function before(a: ScheduledEvent, b: ScheduledEvent): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.sequence < b.sequence);
}

/** Lets every promise continuation that is ready run: microtasks all drain before a setImmediate callback. */
function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class VirtualWorld {
  private readonly queue = new EventHeap();
  private sequence = 0;
  private clockMs = 0;
  private processed = 0;
  /** What happened, one line per control-plane event: equal traces mean equal runs. */
  readonly trace: string[] = [];

  get nowMs(): number {
    return this.clockMs;
  }

  get eventsProcessed(): number {
    return this.processed;
  }

  /** Runs `action` `delayMs` from now on the virtual clock. */
  schedule(delayMs: number, action: () => void): void {
    assert.ok(Number.isFinite(delayMs) && delayMs >= 0, `delay ${delayMs} ms`);
    this.scheduleAt(this.clockMs + delayMs, action);
  }

  /** Runs `action` at `atMs` on the virtual clock exactly (a deadline computed by the code under test). */
  scheduleAt(atMs: number, action: () => void): void {
    assert.ok(Number.isFinite(atMs) && atMs >= this.clockMs, `event at ${atMs} ms, now is ${this.clockMs} ms`);
    this.sequence += 1;
    this.queue.push({ atMs, sequence: this.sequence, action });
  }

  /** Runs `action` `delayMs` from now unless the returned function is called first. */
  timer(delayMs: number, action: () => void): () => void {
    let cancelled = false;
    // A cancelled timer's event still comes up in the queue, and does nothing.
    this.schedule(delayMs, () => {
      if (!cancelled) action();
    });
    return () => {
      cancelled = true;
    };
  }

  /** Resolves `delayMs` from now on the virtual clock. */
  sleep(delayMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.schedule(delayMs, resolve);
    });
  }

  note(line: string): void {
    this.trace.push(`${this.clockMs.toFixed(3)} ${line}`);
  }

  /**
   * Processes events until none is left. Code still waiting then waits for
   * something that will never come: the caller checks what did not finish.
   */
  async runUntilIdle(): Promise<void> {
    await settleMicrotasks();
    for (let event = this.queue.pop(); event !== undefined; event = this.queue.pop()) {
      assert.ok(event.atMs >= this.clockMs, "virtual time went backwards");
      this.processed += 1;
      if (this.processed > eventsPerRunMax) throw new Error(`more than ${eventsPerRunMax} events in one run, at ${this.clockMs.toFixed(3)} ms; the trace ends:\n${this.trace.slice(-traceTailLines).join("\n")}`);
      this.clockMs = event.atMs;
      event.action();
      await settleMicrotasks();
    }
  }
}
