/**
 * The simulated device's LUs behind a volatile write cache (issue 19 item 3,
 * a power cut that loses what was not made durable): a write lands in the
 * LU's bytes at once, so every read sees it, and stays volatile until a
 * FLUSH reaches that LU, unless it came with FUA (or is the device's own
 * durable write: a mirror's copy, a scrub). A power cut keeps a seeded subset
 * of the volatile writes, each whole or not at all (a block is one sector),
 * and the LU reopens with what it kept. The history checker is told of each
 * cut and of every FLUSH the hosts were answered, and so knows which writes
 * a cut may lose.
 */
import assert from "node:assert/strict";
import type { MemoryLu } from "@switchyard/apparatus/testing";
import type { Random } from "./prng.js";

/**
 * Volatile writes one LU keeps at most; past it, the cache writes back by
 * itself as a disk with a full cache does. A run's hosts flush far more often
 * than this many writes; the bound only keeps memory bounded.
 */
export const volatileWritesMax = 4_096;

/** One write since the LU's last flush, in landing order; a durable one is replayed at a cut whatever the draw. */
interface CachedWrite {
  readonly offsetBytes: number;
  readonly data: Buffer;
  readonly durable: boolean;
}

/** One LU: what its media held at its last flush, and every write since. */
interface CachedLu {
  readonly lu: MemoryLu;
  readonly media: Buffer;
  readonly writes: CachedWrite[];
}

/** What the power cuts of a run did to the cached writes. */
export interface CacheStats {
  cuts: number;
  volatileKept: number;
  volatileLost: number;
  luFlushes: number;
}

export class LuWriteCache {
  private readonly cached: readonly CachedLu[];
  readonly stats: CacheStats = { cuts: 0, volatileKept: 0, volatileLost: 0, luFlushes: 0 };

  constructor(readonly lus: readonly MemoryLu[]) {
    this.cached = lus.map((lu) => ({ lu, media: Buffer.from(lu.bytes), writes: [] }));
  }

  /** The bytes reads see: the media with every write landed since. */
  bytes(luIndex: number): Buffer {
    return this.entry(luIndex).lu.bytes;
  }

  /** `data` lands at `offsetBytes` of the LU; `durable` (FUA, or the device's own synced write) survives any cut. */
  write(luIndex: number, offsetBytes: number, data: Buffer, durable: boolean): void {
    const entry = this.entry(luIndex);
    assert.ok(offsetBytes >= 0 && offsetBytes + data.length <= entry.lu.sizeBytes, `write of ${data.length} bytes at ${offsetBytes} past LU ${luIndex}`);
    data.copy(entry.lu.bytes, offsetBytes);
    if (entry.writes.length >= volatileWritesMax) this.flush(luIndex);
    entry.writes.push({ offsetBytes, data: Buffer.from(data), durable });
  }

  /** A FLUSH reached the LU: every write landed on it so far is durable (NBD proto.md: FLUSH covers completed writes). */
  flush(luIndex: number): void {
    const entry = this.entry(luIndex);
    // The writes since the last flush, replayed on the media, are what reads see: no copy of the whole LU per FLUSH.
    for (const write of entry.writes) write.data.copy(entry.media, write.offsetBytes);
    entry.writes.length = 0;
    this.stats.luFlushes += 1;
  }

  /**
   * Power is cut: each LU keeps its media, its durable writes and a subset of
   * its volatile ones, each kept with `keepProbability`, replayed in landing
   * order, which is what the LU reads from now on.
   */
  powerCut(random: Random, keepProbability: number): void {
    assert.ok(keepProbability >= 0 && keepProbability <= 1);
    this.stats.cuts += 1;
    for (const entry of this.cached) {
      for (const write of entry.writes) {
        if (!write.durable && !random.chance(keepProbability)) {
          this.stats.volatileLost += 1;
          continue;
        }
        if (!write.durable) this.stats.volatileKept += 1;
        write.data.copy(entry.media, write.offsetBytes);
      }
      entry.writes.length = 0;
      entry.media.copy(entry.lu.bytes);
    }
  }

  private entry(luIndex: number): CachedLu {
    const entry = this.cached[luIndex];
    assert.ok(entry !== undefined, `no LU index ${luIndex}`);
    return entry;
  }
}
