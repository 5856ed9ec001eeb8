// Goal: a barrier waits for exactly the writes started before it: not for
// later ones (a steady stream of new writes never starves it), and a later
// barrier also waits for the writes an earlier one is still waiting for.
import { describe, expect, it } from "vitest";
import { WriteBarriers } from "./write-barriers.js";

/** Whether `promise` has resolved, after the microtasks queued so far ran. */
async function isDone(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => { done = true; });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe("WriteBarriers", () => {
  it("resolves at once with no write in flight", async () => {
    expect(await isDone(new WriteBarriers().settled())).toBe(true);
  });

  it("waits for the writes started before it, and not for later ones", async () => {
    const barriers = new WriteBarriers();
    const first = barriers.started();
    const second = barriers.started();
    const settled = barriers.settled();
    const later = barriers.started();
    barriers.ended(first);
    expect(await isDone(settled)).toBe(false);
    barriers.ended(second);
    expect(await isDone(settled)).toBe(true);
    barriers.ended(later);
  });

  it("makes a later barrier wait for what an earlier one waits for too", async () => {
    const barriers = new WriteBarriers();
    const old = barriers.started();
    const earlier = barriers.settled();
    const middle = barriers.started();
    const later = barriers.settled();
    barriers.ended(middle);
    expect([await isDone(earlier), await isDone(later)]).toEqual([false, false]);
    barriers.ended(old);
    expect([await isDone(earlier), await isDone(later)]).toEqual([true, true]);
  });

  it("refuses a write that ends twice", () => {
    const barriers = new WriteBarriers();
    const epoch = barriers.started();
    void barriers.settled();
    barriers.ended(epoch);
    expect(() => { barriers.ended(epoch); }).toThrow(/ended twice/);
  });
});
