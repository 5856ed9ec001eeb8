// Goal: the benchmarks' write log keeps every write however long the run,
// so a phase that runs long on a busy machine is measured, not left empty.
import { describe, expect, it } from "vitest";
import { WriteLog, phaseCodes } from "./host-writes.js";

describe("WriteLog", () => {
  it("grows past its first capacity and keeps every write's fields, latencies set before and after it grew", () => {
    const log = new WriteLog();
    const writes = 20_000;
    const firstIndex = log.append({ extentIndex: 3, client: 1, phase: "baseline", round: 0, startMs: 1_000 });
    for (let index = 1; index < writes; index += 1) {
      log.append({ extentIndex: index % 7, client: index % 2, phase: index < writes / 2 ? "moves" : "cpu-bursts", round: index % 3, startMs: 1_000 + index });
    }
    // A write issued before the log grew is answered after: its latency lands in the grown arrays.
    log.latencyMs[firstIndex] = 2.5;
    expect(log.count).toBe(writes);
    expect(log.latencyMs[firstIndex]).toBe(2.5);
    expect([log.extentIndex[0], log.client[0], log.phase[0], log.startMs[0]]).toEqual([3, 1, phaseCodes.baseline, 1_000]);
    const last = writes - 1;
    expect([log.extentIndex[last], log.client[last], log.phase[last], log.round[last], log.startMs[last]]).toEqual([last % 7, last % 2, phaseCodes["cpu-bursts"], last % 3, 1_000 + last]);
    expect(Number.isNaN(log.latencyMs[last])).toBe(true);
  });
});
