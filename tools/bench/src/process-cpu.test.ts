// Goal: /proc's CPU times are read right: a busy loop of this process shows.
import { describe, expect, it } from "vitest";
import { addCpuBetween, processCpuMs } from "./process-cpu.js";

describe("processCpuMs", () => {
  it("grows by the CPU this process burns, as the kernel's own accounting of it says", () => {
    const beforeMs = processCpuMs(process.pid);
    const usageBefore = process.cpuUsage();
    // Until 200 ms of CPU are spent, however long that takes on a busy machine (other tests, other processes).
    const burnedMs = (): number => {
      const usage = process.cpuUsage(usageBefore);
      return (usage.user + usage.system) / 1000;
    };
    let spin = 0;
    while (burnedMs() < 200) spin += 1;
    const afterMs = processCpuMs(process.pid);
    const burned = burnedMs();
    expect(spin).toBeGreaterThan(0);
    // /proc counts in 10 ms ticks, so each of the two readings may be a tick short; other threads of this process add a little.
    expect(afterMs - beforeMs).toBeGreaterThanOrEqual(burned - 20);
    expect(afterMs - beforeMs).toBeLessThan(burned + 100);
  });

  it("sums the CPU of several intervals per process", () => {
    const total = new Map<string, number>();
    addCpuBetween(total, new Map([["a", 100]]), new Map([["a", 350]]));
    addCpuBetween(total, new Map([["a", 400], ["b", 10]]), new Map([["a", 450], ["b", 30]]));
    expect(total).toEqual(new Map([["a", 300], ["b", 20]]));
  });
});
