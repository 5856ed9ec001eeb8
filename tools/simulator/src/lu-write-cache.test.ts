// Goal: the simulated LUs' write cache loses at a power cut only what no
// FLUSH, FUA or durable device write covered, and keeps what it draws to
// keep in landing order. Method: one memory LU behind the cache, cuts with
// every write lost and with every write kept.
import { describe, expect, it } from "vitest";
import { MemoryLu } from "@switchyard/apparatus/testing";
import { LuWriteCache } from "./lu-write-cache.js";
import { Random } from "./prng.js";

const blockBytes = 512;

function cacheWithOneLu(): { cache: LuWriteCache; lu: MemoryLu } {
  const lu = new MemoryLu(8 * blockBytes);
  return { cache: new LuWriteCache([lu]), lu };
}

const block = (value: number): Buffer => Buffer.alloc(blockBytes, value);

describe("LuWriteCache", () => {
  it("loses every volatile write at a cut that keeps none, and nothing a FLUSH or FUA made durable", () => {
    const { cache, lu } = cacheWithOneLu();
    cache.write(0, 0, block(1), false);
    cache.flush(0);
    cache.write(0, 0, block(2), false);
    cache.write(0, blockBytes, block(3), true);
    cache.write(0, 2 * blockBytes, block(4), false);
    expect([lu.bytes[0], lu.bytes[blockBytes], lu.bytes[2 * blockBytes]]).toEqual([2, 3, 4]);
    cache.powerCut(new Random(1), 0);
    expect([lu.bytes[0], lu.bytes[blockBytes], lu.bytes[2 * blockBytes]]).toEqual([1, 3, 0]);
    expect(cache.stats).toMatchObject({ cuts: 1, volatileLost: 2, volatileKept: 0 });
  });

  it("keeps volatile writes in landing order, so a durable write after a kept older one still wins", () => {
    const { cache, lu } = cacheWithOneLu();
    cache.write(0, 0, block(5), false);
    cache.write(0, 0, block(6), true);
    cache.powerCut(new Random(1), 1);
    expect(lu.bytes[0]).toBe(6);
    expect(cache.stats).toMatchObject({ volatileLost: 0, volatileKept: 1 });
  });
});
