// Goal: /proc's CPU times are read right: a busy loop of this process shows.
import { describe, expect, it } from "vitest";
import { addCpuBetween, processCpuMs } from "./process-cpu.js";

describe("processCpuMs", () => {
  it("grows by about the CPU this process burns", () => {
    const beforeMs = processCpuMs(process.pid);
    const startMs = performance.now();
    let spin = 0;
    while (performance.now() - startMs < 200) spin += 1;
    const afterMs = processCpuMs(process.pid);
    expect(spin).toBeGreaterThan(0);
    // Ticks are 10 ms; the loop ran 200 ms of wall time, nearly all on the CPU.
    expect(afterMs - beforeMs).toBeGreaterThanOrEqual(100);
    expect(afterMs - beforeMs).toBeLessThan(1_000);
  });

  it("sums the CPU of several intervals per process", () => {
    const total = new Map<string, number>();
    addCpuBetween(total, new Map([["a", 100]]), new Map([["a", 350]]));
    addCpuBetween(total, new Map([["a", 400], ["b", 10]]), new Map([["a", 450], ["b", 30]]));
    expect(total).toEqual(new Map([["a", 300], ["b", 20]]));
  });
});
