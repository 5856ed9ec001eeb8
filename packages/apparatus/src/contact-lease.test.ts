// Goal: the contact lease keeps its promise over any renewal port (issue 18
// item 3: with etcd the apparatus renews with the coordination, not a
// device): a fenced answer stops serving at once; silence lets the lease
// run out one lease after the last granted renewal was sent; a granted
// answer extends from when it was sent, never from when it came; and an
// answer later than the renewal's timeout is not heard at all.
// Method: a fake port whose answers the test settles by hand, the lease's
// clock a number the test moves; the timeout is a real (short) timer.
import { afterEach, describe, expect, it } from "vitest";
import { ContactLease, type ContactOutcome, type ContactRenewalPort } from "./contact-lease.js";

const leaseMs = 400;
/** The lease's renewal timeout: a quarter lease (contact-lease.ts). */
const renewalTimeoutMs = leaseMs / 4;

/** A port whose answers the test gives; it records each renewal's timeout. */
class HandPort implements ContactRenewalPort {
  readonly timeoutsMs: number[] = [];
  private answer: ((outcome: ContactOutcome) => void) | undefined;
  closed = false;
  renew(_apparatusId: string, _key: string, timeoutMs: number): Promise<ContactOutcome> {
    this.timeoutsMs.push(timeoutMs);
    return new Promise((resolve) => {
      this.answer = resolve;
    });
  }
  settle(outcome: ContactOutcome): void {
    if (this.answer === undefined) throw new Error("no renewal in flight");
    this.answer(outcome);
  }
  close(): void {
    this.closed = true;
  }
}

const leases: ContactLease[] = [];
afterEach(() => {
  for (const lease of leases.splice(0)) lease.close();
});

function leaseOver(port: ContactRenewalPort, clock: { nowMs: number }): { lease: ContactLease; fenced: string[] } {
  const fenced: string[] = [];
  const lease = new ContactLease((reason) => fenced.push(reason), { renewal: port, now: () => clock.nowMs });
  leases.push(lease);
  lease.start("a1", "k1", leaseMs, "ignored:1");
  // The test sends renewals itself.
  lease.stop();
  return { lease, fenced };
}

describe("contact lease over a renewal port", () => {
  it("stops serving on a fenced answer", async () => {
    const port = new HandPort();
    const { lease, fenced } = leaseOver(port, { nowMs: 1_000 });
    const renewal = lease.renew();
    port.settle("fenced");
    expect(await renewal).toBe("fenced");
    expect(fenced).toEqual(["the controller fenced this apparatus"]);
    expect(port.timeoutsMs).toEqual([renewalTimeoutMs]);
  });

  it("lets the lease run out when the port is silent", async () => {
    const port = new HandPort();
    const clock = { nowMs: 1_000 };
    const { lease, fenced } = leaseOver(port, clock);
    clock.nowMs = 1_300;
    expect(await lease.renew()).toBeUndefined();
    expect(lease.deadlineMs).toBe(1_000 + leaseMs);
    expect(fenced).toEqual([]);
  });

  it("extends a granted lease from the send, not from the answer", async () => {
    const port = new HandPort();
    const clock = { nowMs: 1_000 };
    const { lease } = leaseOver(port, clock);
    clock.nowMs = 1_200;
    const renewal = lease.renew();
    clock.nowMs = 1_290;
    port.settle("granted");
    expect(await renewal).toBe("granted");
    expect(lease.deadlineMs).toBe(1_200 + leaseMs);
  });

  it("does not hear an answer that comes after the renewal's timeout", async () => {
    const port = new HandPort();
    const clock = { nowMs: 1_000 };
    const { lease } = leaseOver(port, clock);
    clock.nowMs = 1_300;
    expect(await lease.renew()).toBeUndefined();
    port.settle("granted");
    await new Promise((resolve) => setImmediate(resolve));
    expect(lease.deadlineMs).toBe(1_000 + leaseMs);
  });

  it("does not take an answer about a key it no longer presents", async () => {
    const port = new HandPort();
    const { lease, fenced } = leaseOver(port, { nowMs: 1_000 });
    const renewal = lease.renew();
    lease.start("a1", "k2", leaseMs, "ignored:1");
    lease.stop();
    port.settle("fenced");
    expect(await renewal).toBeUndefined();
    expect(fenced).toEqual([]);
  });

  it("closes the port with the lease", () => {
    const port = new HandPort();
    const { lease } = leaseOver(port, { nowMs: 0 });
    lease.close();
    expect(port.closed).toBe(true);
  });
});
