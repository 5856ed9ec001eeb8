// Goal: a rate-limited group starts a chunk at most once per chunk's worth
// of its rate, groups apart; chunks copied again are charged to the group's
// rate; a rate of 0 never waits.
// Method: the pacer's booking against a clock the test sets.
import { describe, expect, it } from "vitest";
import { ChunkPacer } from "./chunk-pacer.js";

const chunkBytes = 1 << 20;
/** Four chunks a second: one every 250 ms. */
const rateBytesPerSecond = 4 * chunkBytes;
const intervalMs = 250;

function pacerAt(clock: { nowMs: number }): ChunkPacer {
  return new ChunkPacer(chunkBytes, () => clock.nowMs);
}

describe("ChunkPacer", () => {
  it("spaces a group's chunks one interval apart, and a group starts on its own", () => {
    const clock = { nowMs: 1_000 };
    const pacer = pacerAt(clock);
    expect(pacer.book("m1", rateBytesPerSecond, 1)).toBe(0);
    expect(pacer.book("m1", rateBytesPerSecond, 1)).toBe(intervalMs);
    expect(pacer.book("m2", rateBytesPerSecond, 1)).toBe(0);
    clock.nowMs += 3 * intervalMs;
    expect(pacer.book("m1", rateBytesPerSecond, 1), "a group that fell behind starts at once, with no burst to catch up").toBe(0);
    expect(pacer.book("m1", rateBytesPerSecond, 1)).toBe(intervalMs);
  });

  it("charges chunks copied again: the group's next chunk starts that many intervals later", () => {
    const clock = { nowMs: 0 };
    const pacer = pacerAt(clock);
    expect(pacer.book("m1", rateBytesPerSecond, 1)).toBe(0);
    pacer.charge("m1", rateBytesPerSecond, 2);
    expect(pacer.book("m1", rateBytesPerSecond, 1)).toBe(3 * intervalMs);
    pacer.charge("m1", rateBytesPerSecond, 0);
    expect(pacer.book("m2", rateBytesPerSecond, 1)).toBe(0);
  });

  it("never waits for a rate of 0 (no limit), whatever it is charged", async () => {
    const pacer = pacerAt({ nowMs: 0 });
    pacer.charge("m1", 0, 5);
    expect(pacer.book("m1", 0, 1)).toBe(0);
    await pacer.turn("m1", 0);
  });
});
