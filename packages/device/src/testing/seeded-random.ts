/**
 * The power-loss model's only randomness: mulberry32, seeded, so that a cut
 * and a whole test run replay exactly from the seed printed on failure.
 */
import assert from "node:assert/strict";

/** 2^32, to map a 32-bit value to [0, 1). */
const uint32Range = 0x1_0000_0000;

export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    assert.ok(Number.isSafeInteger(seed) && seed >= 0, `seed must be a non-negative integer, not ${seed}`);
    this.state = seed >>> 0;
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let mixed = this.state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return (mixed ^ (mixed >>> 14)) >>> 0;
  }

  /** Uniform integer in [0, count). */
  below(count: number): number {
    assert.ok(Number.isSafeInteger(count) && count > 0);
    return Math.floor((this.nextUint32() / uint32Range) * count);
  }

  chance(probability: number): boolean {
    return this.nextUint32() / uint32Range < probability;
  }
}
