// Goal: the membership core decides the control range as claim 3 says: a
// fenced apparatus is out at once and owed to the device until the device
// acknowledges; it rejoins only after answering probes in a row (a newly
// enrolled one at its first answer); an operator's fence is never lifted by
// a probe; a takeover keeps an apparatus's key only when it serves and this
// controller has not fenced it.
// Method: the core alone, fed events; no I/O and no clock.
import { describe, expect, it } from "vitest";
import { MembershipCore } from "./membership-core.js";

describe("the membership core", () => {
  it("takes a fenced apparatus out at once and owes its fence until the device records it", () => {
    const core = new MembershipCore(["a0", "a1"], 2);
    core.joined("a0", "k0");
    core.joined("a1", "k1");
    core.fence("a1");
    expect(core.inRange()).toEqual(["a0"]);
    expect(core.keyOf("a1")).toBeUndefined();
    expect(core.owedFences()).toEqual(["a1"]);
    expect(core.keysInRange()).toEqual([["a0", "k0"]]);
    core.fenceRecorded("a1");
    expect(core.owedFences()).toEqual([]);
  });

  it("lets a fenced apparatus rejoin after answering probes in a row, and starts the count again at a silence", () => {
    const core = new MembershipCore(["a0"], 2);
    core.fence("a0");
    expect(core.probeTargets()).toEqual(["a0"]);
    expect(core.probed("a0", true)).toBe(false);
    expect(core.probed("a0", false)).toBe(false);
    expect(core.probed("a0", true)).toBe(false);
    expect(core.probed("a0", true)).toBe(true);
    core.joined("a0", "k");
    expect(core.inRange()).toEqual(["a0"]);
    expect(core.probeTargets()).toEqual([]);
  });

  it("takes a newly enrolled apparatus in at its first answer", () => {
    const core = new MembershipCore([], 2);
    core.enrolled("a5");
    expect(core.isFenced("a5")).toBe(true);
    expect(core.probed("a5", true)).toBe(true);
  });

  it("never probes an apparatus an operator fenced", () => {
    const core = new MembershipCore(["a0", "a1"], 1);
    core.setOperatorFenced(["a1"]);
    core.fence("a0");
    core.fence("a1");
    expect(core.probeTargets()).toEqual(["a0"]);
    core.operatorFence("a1", false);
    expect(core.probeTargets()).toEqual(["a0", "a1"]);
  });

  it("drops an owed fence when the apparatus joins under a new key", () => {
    const core = new MembershipCore(["a0"], 1);
    core.fence("a0");
    core.joined("a0", "fresh");
    expect(core.owedFences()).toEqual([]);
    expect(core.keyOf("a0")).toBe("fresh");
  });

  // Found by the cluster simulation: an apparatus this controller had fenced answered a second
  // takeover while still serving, kept its key, then heard of the fence and stopped for good.
  it("keeps a reported key only for a serving apparatus this controller has not fenced", () => {
    const core = new MembershipCore(["a0", "a1"], 2);
    expect(core.keepsKey("a0", { keyDigest: "k0", fenced: false })).toBe(true);
    expect(core.keepsKey("a0", { keyDigest: "", fenced: false })).toBe(false);
    expect(core.keepsKey("a0", { keyDigest: "k0", fenced: true })).toBe(false);
    core.fence("a1");
    expect(core.keepsKey("a1", { keyDigest: "k1", fenced: false })).toBe(false);
  });

  it("finds an apparatus in the range out of step when it says it is fenced or shut a volume, never one already fenced", () => {
    const core = new MembershipCore(["a0", "a1"], 2);
    expect(core.outOfStep("a0", { fenced: false, volumesShut: [] })).toBe(false);
    expect(core.outOfStep("a0", { fenced: true, volumesShut: [] })).toBe(true);
    expect(core.outOfStep("a0", { fenced: false, volumesShut: ["v"] })).toBe(true);
    core.fence("a1");
    expect(core.outOfStep("a1", { fenced: true, volumesShut: ["v"] })).toBe(false);
  });
});
