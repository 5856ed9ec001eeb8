// Goal: the lease core (claim 12) leads only while the arbiter's grant can
// still hold, counts a lease from when it asked, never has two requests in
// flight, steps down when a renewal is refused or never comes, tells who
// leads, and campaigns at once when the coordinator says the holder's term
// ended (a vacancy) rather than at its next tick. Method: the core alone, fed times and answers by hand; every
// command list is compared whole.
import { describe, expect, it } from "vitest";
import { LeaseCore, type LeaseAnswer } from "./lease-core.js";

const leaseMs = 3_000;

function granted(epoch: number, holderAddress = "me:1"): LeaseAnswer {
  return { granted: true, epoch, holderAddress, leaseMs };
}

function refused(holderAddress: string, epoch = 1): LeaseAnswer {
  return { granted: false, epoch, holderAddress, leaseMs };
}

/** A core that won the lease at `epoch`, asked at time 0 and answered at 10 ms. */
function leading(epoch = 4): LeaseCore {
  const core = new LeaseCore(leaseMs);
  core.onTick(0);
  core.onAnswer(granted(epoch), 10);
  return core;
}

describe("LeaseCore", () => {
  it("campaigns, leads at the granted epoch, and counts the lease from when it asked", () => {
    const core = new LeaseCore(leaseMs);
    expect(core.epochAt(0)).toBeUndefined();
    expect(core.onTick(100)).toEqual([{ kind: "acquire" }]);
    expect(core.nextTickMs).toBe(1_100);
    expect(core.onAnswer(granted(7), 400)).toEqual([{ kind: "leader", address: "me:1" }, { kind: "lead", epoch: 7 }]);
    expect(core.epochAt(3_099)).toBe(7);
    expect(core.epochAt(3_100)).toBeUndefined();
  });

  it("follows another holder: no lead, the leader named once, and a new campaign at the next tick", () => {
    const core = new LeaseCore(leaseMs);
    core.onTick(0);
    expect(core.onAnswer(refused("other:2"), 5)).toEqual([{ kind: "leader", address: "other:2" }]);
    expect(core.onTick(1_000)).toEqual([{ kind: "acquire" }]);
    expect(core.onAnswer(refused("other:2"), 1_005)).toEqual([]);
    expect(core.epochAt(1_005)).toBeUndefined();
  });

  it("renews while leading and looks after the apparatuses after each renewal", () => {
    const core = leading(4);
    expect(core.onTick(1_000)).toEqual([{ kind: "renew", epoch: 4 }]);
    expect(core.onAnswer(granted(4), 1_020)).toEqual([{ kind: "look-after", epoch: 4 }]);
    // The renewal counts from 1 000 ms, when it was sent.
    expect(core.epochAt(3_999)).toBe(4);
    expect(core.epochAt(4_000)).toBeUndefined();
  });

  it("never sends a second request while one is in flight", () => {
    const core = new LeaseCore(leaseMs);
    expect(core.onTick(0)).toEqual([{ kind: "acquire" }]);
    expect(core.onTick(1_000)).toEqual([]);
    expect(core.onSilence(1_500)).toEqual([]);
    expect(core.onTick(2_000)).toEqual([{ kind: "acquire" }]);
  });

  it("steps down when the arbiter refuses a renewal", () => {
    const core = leading(4);
    core.onTick(1_000);
    expect(core.onAnswer(refused("", 4), 1_010)).toEqual([{ kind: "step-down", epoch: 4, reason: "the arbiter refused to renew epoch 4" }]);
    expect(core.epochAt(1_010)).toBeUndefined();
    expect(core.onTick(1_100)).toEqual([{ kind: "acquire" }]);
  });

  it("steps down when renewals go unanswered until the lease runs out, then campaigns", () => {
    const core = leading(4);
    core.onTick(1_000);
    expect(core.onSilence(2_000)).toEqual([]);
    expect(core.epochAt(2_999)).toBe(4);
    expect(core.onTick(3_000)).toEqual([{ kind: "step-down", epoch: 4, reason: "the lease at epoch 4 ran out without a renewal" }, { kind: "acquire" }]);
  });

  it("does not lead on a grant that arrives after its own lease has run out", () => {
    const core = new LeaseCore(leaseMs);
    core.onTick(0);
    expect(core.onAnswer(granted(9), 3_000)).toEqual([{ kind: "leader", address: "me:1" }]);
    expect(core.epochAt(3_000)).toBeUndefined();
  });

  it("refuses answers nobody asked for, and a granted epoch that goes back", () => {
    const core = new LeaseCore(leaseMs);
    expect(() => core.onAnswer(granted(1), 0)).toThrow(/no request in flight/);
    expect(() => core.onSilence(0)).toThrow(/no request in flight/);
    const held = leading(5);
    held.onTick(1_000);
    expect(() => held.onAnswer(granted(4), 1_001)).toThrow(/below the held 5/);
  });

  it("campaigns at once on a vacancy, the next tick a third of a lease from then", () => {
    const core = new LeaseCore(leaseMs);
    core.onTick(0);
    core.onAnswer(refused("other:2"), 5);
    expect(core.onVacancy(400)).toEqual([{ kind: "acquire" }]);
    expect(core.nextTickMs).toBe(1_400);
    expect(core.onAnswer(granted(8), 420)).toEqual([{ kind: "leader", address: "me:1" }, { kind: "lead", epoch: 8 }]);
    expect(core.epochAt(3_399)).toBe(8);
  });

  it("campaigns again as soon as a campaign in flight during a vacancy is refused, once", () => {
    const core = new LeaseCore(leaseMs);
    core.onTick(0);
    expect(core.onVacancy(10)).toEqual([]);
    // The campaign in flight saw the old holder still there.
    expect(core.onAnswer(refused("other:2"), 20)).toEqual([{ kind: "leader", address: "other:2" }, { kind: "acquire" }]);
    expect(core.onAnswer(refused("other:3"), 30)).toEqual([{ kind: "leader", address: "other:3" }]);
    expect(core.onTick(1_000)).toEqual([{ kind: "acquire" }]);
  });

  it("ignores a vacancy while leading, and one whose campaign went unanswered (the next tick campaigns)", () => {
    const held = leading(4);
    expect(held.onVacancy(500)).toEqual([]);
    expect(held.epochAt(500)).toBe(4);
    const core = new LeaseCore(leaseMs);
    core.onTick(0);
    expect(core.onVacancy(10)).toEqual([]);
    expect(core.onSilence(2_000)).toEqual([]);
    expect(core.onTick(2_000)).toEqual([{ kind: "acquire" }]);
    expect(core.onAnswer(refused("other:2"), 2_010)).toEqual([{ kind: "leader", address: "other:2" }]);
  });
});
