/**
 * The hold gate (claims 1, 4): per volume and per byte range, it stops
 * admitting host I/O that a change is about to remap, and lets it go, in
 * arrival order, when the change releases. With no hold anywhere the gate
 * costs one check per request.
 */
import assert from "node:assert/strict";
import { HoldStats } from "./io-stats.js";

/** Holds one apparatus keeps at once: one change holds at a time, a few ranges each. */
export const holdsMax = 64;
/** Ranges in one hold: a change remaps a bounded number of extents. */
export const rangesPerHoldMax = 4_096;

export type HoldScope = "writes" | "all";

/** Bytes [startBytes, endBytes) of one volume. */
export interface HeldRange {
  readonly volume: string;
  readonly startBytes: number;
  readonly endBytes: number;
}

interface Waiter {
  readonly resolve: () => void;
}

interface Hold {
  readonly changeId: string;
  readonly ranges: readonly HeldRange[];
  readonly scope: HoldScope;
  readonly waiters: Waiter[];
  /** performance.now() when installed, for the hold's duration. */
  readonly installedAtMs: number;
}

export interface HoldSummary {
  readonly changeId: string;
  readonly ranges: readonly HeldRange[];
  readonly scope: HoldScope;
  readonly heldRequests: number;
}

export class HoldGate {
  private readonly holds: Hold[] = [];
  readonly stats = new HoldStats();

  get empty(): boolean {
    return this.holds.length === 0;
  }

  /**
   * Undefined when the request may run now; otherwise a promise that
   * resolves when the hold that stops it is released (the caller asks again:
   * another hold may cover it too).
   */
  wait(volume: string, offsetBytes: number, lengthBytes: number, isWrite: boolean): Promise<void> | undefined {
    for (const hold of this.holds) {
      if (!isWrite && hold.scope === "writes") continue;
      if (!overlaps(hold.ranges, volume, offsetBytes, offsetBytes + Math.max(lengthBytes, 1))) continue;
      return new Promise<void>((resolve) => {
        hold.waiters.push({ resolve });
      });
    }
    return undefined;
  }

  /** Installs a hold; installing the same change again changes nothing (a repeated message). */
  install(changeId: string, ranges: readonly HeldRange[], scope: HoldScope): void {
    if (this.holds.some((hold) => hold.changeId === changeId)) return;
    assert.ok(this.holds.length < holdsMax, `more than ${holdsMax} holds`);
    assert.ok(ranges.length > 0 && ranges.length <= rangesPerHoldMax);
    this.holds.push({ changeId, ranges, scope, waiters: [], installedAtMs: performance.now() });
    this.stats.installed();
  }

  /** Lifts a change's hold and lets its requests go in arrival order; returns how many were held. */
  release(changeId: string): number {
    const index = this.holds.findIndex((hold) => hold.changeId === changeId);
    if (index < 0) return 0;
    const [hold] = this.holds.splice(index, 1);
    assert.ok(hold !== undefined);
    for (const waiter of hold.waiters) waiter.resolve();
    this.stats.released(hold.installedAtMs, hold.waiters.length);
    return hold.waiters.length;
  }

  /**
   * How long the oldest hold in force has lasted, 0 with none: a hold that
   * is never released never reaches the duration histogram, so /metrics
   * shows this for an alert to see it while it lasts. Holds are kept in the
   * order they were installed, so the first is the oldest.
   */
  oldestHoldAgeMs(nowMs: number = performance.now()): number {
    const oldest = this.holds[0];
    return oldest === undefined ? 0 : Math.max(0, nowMs - oldest.installedAtMs);
  }

  summaries(): HoldSummary[] {
    return this.holds.map((hold) => ({ changeId: hold.changeId, ranges: hold.ranges, scope: hold.scope, heldRequests: hold.waiters.length }));
  }
}

function overlaps(ranges: readonly HeldRange[], volume: string, startBytes: number, endBytes: number): boolean {
  for (const range of ranges) {
    if (range.volume === volume && startBytes < range.endBytes && range.startBytes < endBytes) return true;
  }
  return false;
}

/**
 * Admission ticks, for draining: every request is admitted under the current
 * tick, and a barrier advances the tick and resolves once every request
 * admitted before it has finished. Requests admitted after the barrier do not
 * delay it, so a drain ends even under steady I/O elsewhere.
 */
export class Admission {
  private tick = 0;
  private readonly inFlightByTick = new Map<number, number>();
  private barriers: { readonly tick: number; readonly resolve: () => void }[] = [];

  begin(): number {
    this.inFlightByTick.set(this.tick, (this.inFlightByTick.get(this.tick) ?? 0) + 1);
    return this.tick;
  }

  end(tick: number): void {
    const count = this.inFlightByTick.get(tick);
    assert.ok(count !== undefined && count > 0, `no request in flight under tick ${tick}`);
    if (count === 1) this.inFlightByTick.delete(tick);
    else this.inFlightByTick.set(tick, count - 1);
    if (this.barriers.length > 0) this.settleBarriers();
  }

  get inFlight(): number {
    let total = 0;
    for (const count of this.inFlightByTick.values()) total += count;
    return total;
  }

  /** Resolves with the number of requests it waited for, once all admitted before it have finished. */
  barrier(): Promise<number> {
    const waitedFor = this.inFlight;
    this.tick += 1;
    const tick = this.tick;
    return new Promise<number>((resolve) => {
      this.barriers.push({ tick, resolve: () => { resolve(waitedFor); } });
      this.settleBarriers();
    });
  }

  private settleBarriers(): void {
    let oldest = Infinity;
    for (const tick of this.inFlightByTick.keys()) oldest = Math.min(oldest, tick);
    const settled = this.barriers.filter((barrier) => barrier.tick <= oldest);
    if (settled.length === 0) return;
    this.barriers = this.barriers.filter((barrier) => barrier.tick > oldest);
    for (const barrier of settled) barrier.resolve();
  }
}
