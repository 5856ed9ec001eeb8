// Goal: the gate holds exactly the requests that overlap a hold's ranges (by
// scope), releases them in arrival order, and a drain barrier waits only for
// requests admitted before it. Method: the gate and admission driven directly.
import { describe, expect, it } from "vitest";
import { Admission, HoldGate } from "./hold-gate.js";

describe("HoldGate", () => {
  it("holds overlapping requests by scope, and releases them in arrival order", async () => {
    const gate = new HoldGate();
    gate.install("c", [{ volume: "v", startBytes: 100, endBytes: 200 }], "writes");
    expect(gate.wait("v", 0, 100, true)).toBeUndefined();
    expect(gate.wait("v", 200, 10, true)).toBeUndefined();
    expect(gate.wait("w", 150, 10, true)).toBeUndefined();
    expect(gate.wait("v", 150, 10, false)).toBeUndefined();
    const order: number[] = [];
    const first = gate.wait("v", 199, 1, true)?.then(() => order.push(1));
    const second = gate.wait("v", 50, 100, true)?.then(() => order.push(2));
    expect(gate.summaries()[0]?.heldRequests).toBe(2);
    expect(gate.release("c")).toBe(2);
    await Promise.all([first, second]);
    expect(order).toEqual([1, 2]);
    expect(gate.empty).toBe(true);
    expect({ installed: gate.stats.holdsInstalled, active: gate.stats.holdsActive, held: gate.stats.heldRequests }).toEqual({ installed: 1, active: 0, held: 2 });
    expect(gate.stats.duration.count).toBe(1);
  });

  it("tells how long the oldest hold in force has lasted, and 0 with none", () => {
    const gate = new HoldGate();
    expect(gate.oldestHoldAgeMs()).toBe(0);
    const range = [{ volume: "v", startBytes: 0, endBytes: 10 }];
    gate.install("first", range, "writes");
    gate.install("second", range, "all");
    const now = performance.now();
    expect(gate.oldestHoldAgeMs(now + 1_000)).toBeGreaterThanOrEqual(1_000);
    gate.release("first");
    gate.release("second");
    expect(gate.oldestHoldAgeMs(now + 1_000)).toBe(0);
  });
});

describe("Admission", () => {
  it("drains what came before the barrier, not what came after", async () => {
    const admission = new Admission();
    const before = admission.begin();
    let done = false;
    const barrier = admission.barrier().then((count) => {
      done = true;
      return count;
    });
    const after = admission.begin();
    await Promise.resolve();
    expect(done).toBe(false);
    admission.end(before);
    expect(await barrier).toBe(1);
    expect(admission.inFlight).toBe(1);
    admission.end(after);
    expect(await admission.barrier()).toBe(0);
  });
});
