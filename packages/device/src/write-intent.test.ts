// Goal: the write-intent ledger lets no mirrored write start before its
// region's mark is durable, clears a mark only after a flush that started
// once the region's last write (or recopy) had ended, stays within its
// bound, and costs a stream of writes to marked regions no file write.
// Method: the sans-I/O core driven by hand for each rule, then by a seeded
// random schedule of writes, file versions and flushes against a model of
// what the file holds durably, checking both rules after every step.
import { describe, expect, it } from "vitest";
import { SeededRandom } from "./testing/seeded-random.js";
import { WriteIntentLedger, regionKey, type IntentRegion } from "./write-intent.js";

const mirror = "m";

/** Takes a snapshot and makes it durable at once: the file write the shell would do. */
function writeFile(ledger: WriteIntentLedger): IntentRegion[] {
  const { version, regions } = ledger.snapshot();
  ledger.written(version);
  return regions;
}

describe("the write-intent ledger", () => {
  it("makes a write wait for a file version listing a new region, and no later write to it", () => {
    const ledger = new WriteIntentLedger(8);
    expect(ledger.begin(mirror, 3)).toBe("write");
    expect(ledger.isMarked(mirror, 3)).toBe(false);
    // A second write before the file is written waits too.
    expect(ledger.begin(mirror, 3)).toBe("write");
    expect(writeFile(ledger)).toEqual([{ mirrorId: mirror, regionIndex: 3 }]);
    expect(ledger.isMarked(mirror, 3)).toBe(true);
    ledger.end(mirror, 3);
    ledger.end(mirror, 3);
    for (let write = 0; write < 1000; write += 1) {
      expect(ledger.begin(mirror, 3)).toBe("marked");
      ledger.end(mirror, 3);
    }
    expect(ledger.fileBehind).toBe(false);
  });

  it("does not count a region listed only in a version still being written as marked", () => {
    const ledger = new WriteIntentLedger(8);
    ledger.begin(mirror, 1);
    const { version } = ledger.snapshot();
    expect(ledger.begin(mirror, 1)).toBe("write");
    ledger.written(version);
    expect(ledger.begin(mirror, 1)).toBe("marked");
  });

  it("clears a region only after a flush that started once its writes had ended", () => {
    const ledger = new WriteIntentLedger(8);
    ledger.begin(mirror, 0);
    ledger.begin(mirror, 1);
    ledger.begin(mirror, 2);
    writeFile(ledger);
    ledger.end(mirror, 0);
    const first = ledger.startFlush();
    // Region 1's write ends during the flush; region 2's is still in flight after it.
    ledger.end(mirror, 1);
    expect(ledger.flushed(first)).toBe(1);
    expect(ledger.isMarked(mirror, 0)).toBe(false);
    expect(ledger.isMarked(mirror, 1)).toBe(true);
    expect(ledger.fileBehind).toBe(true);
    const second = ledger.startFlush();
    expect(ledger.flushed(second)).toBe(1);
    expect(ledger.isMarked(mirror, 2)).toBe(true);
    ledger.end(mirror, 2);
    expect(ledger.flushed(ledger.startFlush())).toBe(1);
    expect(writeFile(ledger)).toEqual([]);
  });

  it("refuses a new region when full, counting nothing, and has room again once one clears", () => {
    const ledger = new WriteIntentLedger(2);
    ledger.begin(mirror, 0);
    ledger.begin(mirror, 1);
    expect(ledger.begin(mirror, 2)).toBe("full");
    expect(ledger.size).toBe(2);
    // A marked region takes more writes when full.
    expect(ledger.begin(mirror, 1)).toBe("write");
    writeFile(ledger);
    ledger.end(mirror, 0);
    ledger.flushed(ledger.startFlush());
    expect(ledger.begin(mirror, 2)).toBe("write");
  });

  it("holds recovered marks until recopied and flushed, and drops a forgotten mirror's once its writes end", () => {
    const ledger = new WriteIntentLedger(8);
    ledger.recover([{ mirrorId: mirror, regionIndex: 5 }, { mirrorId: mirror, regionIndex: 2 }, { mirrorId: "other", regionIndex: 0 }]);
    expect(ledger.pendingRecopies(mirror)).toEqual([2, 5]);
    expect(ledger.isMarked(mirror, 5)).toBe(true);
    expect(ledger.flushed(ledger.startFlush())).toBe(0);
    ledger.recopied(mirror, 2);
    expect(ledger.pendingRecopies(mirror)).toEqual([5]);
    expect(ledger.flushed(ledger.startFlush())).toBe(1);
    expect(ledger.begin("other", 0)).toBe("marked");
    ledger.forget("other");
    expect(ledger.mirrorIds()).toEqual(new Set([mirror, "other"]));
    ledger.end("other", 0);
    expect(ledger.mirrorIds()).toEqual(new Set([mirror]));
  });

  it("keeps both rules over seeded random schedules", () => {
    for (let seed = 0; seed < 50; seed += 1) randomSchedule(seed);
  });
});

/**
 * Writes begin and end on a few regions, file versions are taken and made
 * durable (or lost) out of step with them, flushes start and complete
 * late. After each step: every write let through (begun as "marked", or
 * after a version listing it was written) has its region in the durable
 * file; and a region the ledger cleared had its last end before the flush
 * that cleared it started.
 */
function randomSchedule(seed: number): void {
  const random = new SeededRandom(seed);
  const ledger = new WriteIntentLedger(4);
  let durableFile = new Set<string>();
  /** Writes in flight: region key, and whether the write was let through to the LUs. */
  const writes: { key: string; regionIndex: number; through: boolean; waitsFor: number }[] = [];
  const snapshots: { version: number; keys: Set<string> }[] = [];
  const flushes: { ticket: number; startedAtStep: number }[] = [];
  const lastEndStep = new Map<string, number>();
  for (let step = 0; step < 400; step += 1) {
    const action = random.below(6);
    if (action === 0) {
      const regionIndex = random.below(6);
      const need = ledger.begin(mirror, regionIndex);
      if (need !== "full") writes.push({ key: regionKey(mirror, regionIndex), regionIndex, through: need === "marked", waitsFor: snapshots.length + 1 });
    } else if (action === 1 && writes.length > 0) {
      const [write] = writes.splice(random.below(writes.length), 1);
      if (write === undefined) continue;
      ledger.end(mirror, write.regionIndex);
      lastEndStep.set(write.key, step);
    } else if (action === 2) {
      const { version, regions } = ledger.snapshot();
      snapshots.push({ version, keys: new Set(regions.map((region) => regionKey(region.mirrorId, region.regionIndex))) });
    } else if (action === 3 && snapshots.length > 0) {
      // Versions complete in order; one is lost now and then (a failed write), and the next covers it.
      const snapshot = snapshots.shift();
      if (snapshot === undefined || random.chance(0.1)) continue;
      ledger.written(snapshot.version);
      durableFile = snapshot.keys;
      for (const write of writes) if (!write.through && ledger.isMarked(mirror, write.regionIndex)) write.through = true;
    } else if (action === 4) {
      flushes.push({ ticket: ledger.startFlush(), startedAtStep: step });
    } else if (action === 5 && flushes.length > 0) {
      const flush = flushes.shift();
      if (flush === undefined) continue;
      const marked = [0, 1, 2, 3, 4, 5].filter((index) => ledger.isMarked(mirror, index));
      ledger.flushed(flush.ticket);
      for (const index of marked) {
        if (ledger.isMarked(mirror, index)) continue;
        const key = regionKey(mirror, index);
        expect(writes.some((write) => write.key === key), `seed ${seed}: cleared with a write in flight`).toBe(false);
        expect(lastEndStep.get(key) ?? -1, `seed ${seed}: cleared by a flush that started before its last write ended`).toBeLessThan(flush.startedAtStep);
      }
    }
    for (const write of writes) {
      if (write.through) expect(durableFile.has(write.key), `seed ${seed} step ${step}: a write let through without a durable mark`).toBe(true);
    }
  }
}
