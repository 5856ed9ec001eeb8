/**
 * The simulator's only source of randomness: xorshift32 (Marsaglia 2003),
 * seeded, so that a run is replayed exactly from its seed. Math.random is
 * never used: one stray call would make a failure unreproducible.
 */
import assert from "node:assert/strict";

/** 2^32, to map a 32-bit state to [0, 1). */
const uint32Range = 0x1_0000_0000;

export class Random {
  private state: number;

  constructor(seed: number) {
    assert.ok(Number.isSafeInteger(seed) && seed >= 0, `seed must be a non-negative integer, not ${seed}`);
    // xorshift32 is stuck at 0; mix the seed so that small seeds start far apart.
    this.state = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0) || 0x6d2b79f5;
  }

  /** The next 32-bit value. */
  nextUint32(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return x;
  }

  /** Uniform in [0, 1). */
  fraction(): number {
    return this.nextUint32() / uint32Range;
  }

  /** Uniform integer in [0, count). */
  below(count: number): number {
    assert.ok(Number.isSafeInteger(count) && count > 0);
    return Math.floor(this.fraction() * count);
  }

  /** Uniform in [lowest, highest). */
  between(lowest: number, highest: number): number {
    assert.ok(lowest <= highest);
    return lowest + this.fraction() * (highest - lowest);
  }

  chance(probability: number): boolean {
    return this.fraction() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.below(items.length)];
    assert.ok(item !== undefined);
    return item;
  }
}
