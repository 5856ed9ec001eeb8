// Goal: the pause benchmark charges a change only with writes that began while
// it was in progress, so slow writes of other causes do not gather in its
// buckets, and judges each round against its own quiet phase. Method: small
// hand-made logs and windows, with the expected bucket of every write.
import { describe, expect, it } from "vitest";
import { WriteLog, type Phase } from "./host-writes.js";
import type { MoveWindow } from "./move-worker.js";
import { classify, roundRatios, windowAt } from "./pause-classify.js";

function window(extentIndex: number, startMs: number, endMs: number): MoveWindow {
  const middleMs = (startMs + endMs) / 2;
  return {
    changeId: `change-${extentIndex}-${startMs}`, extentIndex, startMs, endMs, holdToReleaseMs: endMs - startMs, phaseMs: new Map(),
    phaseSpans: [{ phase: "hold", startMs, endMs: middleMs }, { phase: "copy", startMs: middleMs, endMs }],
  };
}

/** A log of writes, each [phase, round, extent, start ms, latency ms]. */
function logOf(writes: readonly (readonly [Phase, number, number, number, number])[]): WriteLog {
  const log = new WriteLog();
  for (const [phase, round, extentIndex, startMs, latencyMs] of writes) {
    const index = log.append({ extentIndex, client: 0, phase, round, startMs });
    log.latencyMs[index] = latencyMs;
  }
  return log;
}

describe("windowAt", () => {
  const windows = [window(1, 100, 110), window(2, 120, 130)];

  it("finds the change in progress, its start included and its end not", () => {
    expect(windowAt(windows, 100)?.extentIndex).toBe(1);
    expect(windowAt(windows, 109.9)?.extentIndex).toBe(1);
    expect(windowAt(windows, 110)).toBeUndefined();
    expect(windowAt(windows, 125)?.extentIndex).toBe(2);
    expect(windowAt(windows, 99)).toBeUndefined();
    expect(windowAt(windows, 131)).toBeUndefined();
  });
});

describe("classify", () => {
  it("sorts moves-phase writes by the change in progress when they began, not by overlap", () => {
    const log = logOf([
      ["baseline", 0, 5, 10, 1],
      ["baseline", 0, 5, 11, 2],
      // Began before the change and lasted through it: slow for its own reasons, so not the change's.
      ["moves", 0, 5, 95, 30],
      ["moves", 0, 5, 102, 4],
      ["moves", 0, 5, 107, 6],
      ["moves", 0, 3, 106, 9],
      ["moves", 0, 5, 115, 1],
      ["idle-load", 0, 5, 200, 3],
      ["cpu-bursts", 0, 5, 210, 7],
    ]);
    const classified = classify(log, [window(3, 100, 110)]);
    expect(classified.baseline).toEqual([1, 2]);
    expect(classified.between).toEqual([30, 1]);
    expect(classified.elsewhere).toEqual([4, 6]);
    expect(classified.elsewhereBeganIn).toEqual(["hold", "copy"]);
    expect(classified.moved).toEqual([9]);
    expect(classified.idleLoad).toEqual([3]);
    expect(classified.cpuBursts).toEqual([7]);
  });

  it("counts unanswered writes apart", () => {
    const log = logOf([["baseline", 0, 1, 10, 1], ["moves", 0, 1, 20, Number.NaN]]);
    const classified = classify(log, []);
    expect(classified.unanswered).toBe(1);
    expect(classified.baseline).toEqual([1]);
    expect(classified.between).toEqual([]);
  });

  it("weighs each round's writes elsewhere against that round's baseline", () => {
    const log = logOf([
      ["baseline", 0, 1, 0, 2],
      ["moves", 0, 1, 101, 4],
      ["baseline", 1, 1, 200, 10],
      ["moves", 1, 1, 301, 5],
    ]);
    const classified = classify(log, [window(0, 100, 110), window(0, 300, 310)]);
    expect(roundRatios(classified, "elsewhere")).toEqual([2, 0.5]);
  });
});
