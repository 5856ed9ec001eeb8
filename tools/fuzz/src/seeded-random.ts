/**
 * A small seeded generator (sfc32) so that every fuzz case is replayable
 * from its seed alone: the same seed gives the same inputs on any machine.
 * Math.random is never used by the fuzzers.
 */
import assert from "node:assert/strict";

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    assert.ok(Number.isSafeInteger(seed) && seed >= 0, `seed ${seed} must be a non-negative safe integer`);
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    // The first outputs of sfc32 still show the seed; these turns mix it in.
    for (let turn = 0; turn < 12; turn += 1) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    assert.ok(Number.isSafeInteger(bound) && bound > 0, `bound ${bound}`);
    if (bound <= 2 ** 32) return Math.floor((this.nextUint32() / 2 ** 32) * bound);
    return Math.floor(((this.nextUint32() * 2 ** 21 + (this.nextUint32() >>> 11)) / 2 ** 53) * bound);
  }

  /** An integer in [low, high]. */
  between(low: number, high: number): number {
    assert.ok(high >= low);
    return low + this.below(high - low + 1);
  }

  chance(probability: number): boolean {
    return this.nextUint32() / 2 ** 32 < probability;
  }

  pick<Item>(items: readonly Item[]): Item {
    assert.ok(items.length > 0, "pick from an empty list");
    return items[this.below(items.length)] as Item;
  }

  bytes(count: number): Buffer {
    const data = Buffer.allocUnsafe(count);
    for (let index = 0; index < count; index += 1) data[index] = this.nextUint32() & 0xff;
    return data;
  }
}

/** The seed of case `caseIndex` of a run: each case replays alone from it. */
export function caseSeed(runSeed: number, caseIndex: number): number {
  return (runSeed * 1_000_003 + caseIndex) % 2 ** 48;
}
