// Goal (issue 17): an epoch is bound to the certificate it was granted to.
// A call under it from another id is PERMISSION_DENIED, under an epoch never
// granted FAILED_PRECONDITION (an old one whose holder is not known goes to
// the handler, whose floor is the newest epoch named), and
// when the granter cannot be asked UNAVAILABLE; calls under a new epoch that
// arrive together ask the granter once.
// Method: LeaseHolderCheck with a lookup the test answers by hand.
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { LeaseHolderCheck, epochBindingsKept, type EpochHolder } from "./lease-holder-check.js";

const a0 = { role: "apparatus", id: "a0" } as const;
const a1 = { role: "apparatus", id: "a1" } as const;

/** A check whose granter answers `answers` in turn (the last one again after that), counting lookups. */
function checkAnswering(...answers: (EpochHolder | undefined | Error)[]): { check: LeaseHolderCheck; lookups: () => number } {
  let lookups = 0;
  const check = new LeaseHolderCheck(() => {
    const answer = answers[Math.min(lookups, answers.length - 1)];
    lookups += 1;
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  });
  return { check, lookups: () => lookups };
}

async function codeOf(check: LeaseHolderCheck, identity: typeof a0 | typeof a1, epoch: unknown): Promise<grpc.status | undefined> {
  return (await check.refusal("Hold", identity, epoch))?.code;
}

describe("LeaseHolderCheck", () => {
  it("lets the holder act under its epoch and refuses another apparatus", async () => {
    const { check, lookups } = checkAnswering({ holderId: "a0", epoch: 4 });
    expect(await codeOf(check, a0, 4)).toBeUndefined();
    expect(await codeOf(check, a1, 4)).toBe(grpc.status.PERMISSION_DENIED);
    expect(lookups()).toBe(1);
  });

  it("refuses an epoch never granted, and asks again for each newer one", async () => {
    const { check, lookups } = checkAnswering({ holderId: "a0", epoch: 4 }, { holderId: "a1", epoch: 5 });
    expect(await codeOf(check, a0, 5)).toBe(grpc.status.FAILED_PRECONDITION);
    expect(await codeOf(check, a1, 5)).toBeUndefined();
    expect(await codeOf(check, a0, 4)).toBeUndefined();
    expect(lookups()).toBe(2);
  });

  it("passes an old epoch whose holder it never learnt to the handler, and names the newest as the floor", async () => {
    const { check } = checkAnswering({ holderId: "a1", epoch: 9 });
    expect(await codeOf(check, a1, 9)).toBeUndefined();
    expect(check.newestEpoch).toBe(9);
    expect(await codeOf(check, a0, 8)).toBeUndefined();
  });

  it("says UNAVAILABLE when the granter cannot be asked, and asks again on the next call", async () => {
    const { check, lookups } = checkAnswering(new Error("device unreachable"), { holderId: "a0", epoch: 2 });
    const refused = await check.refusal("Hold", a0, 2);
    expect(refused?.code).toBe(grpc.status.UNAVAILABLE);
    expect(refused?.details).toMatch(/device unreachable/);
    expect(await codeOf(check, a0, 2)).toBeUndefined();
    expect(lookups()).toBe(2);
  });

  it("leaves what is not an epoch to the handler's range check", async () => {
    const { check, lookups } = checkAnswering(undefined);
    for (const epoch of [0, -1, 2 ** 64, "7", undefined]) expect(await codeOf(check, a1, epoch)).toBeUndefined();
    expect(lookups()).toBe(0);
  });

  it("shares one lookup among calls under a new epoch that arrive together", async () => {
    const { check, lookups } = checkAnswering({ holderId: "a0", epoch: 3 });
    const codes = await Promise.all([codeOf(check, a0, 3), codeOf(check, a1, 3), codeOf(check, a0, 3)]);
    expect(codes).toEqual([undefined, grpc.status.PERMISSION_DENIED, undefined]);
    expect(lookups()).toBe(1);
  });

  it(`keeps the newest ${epochBindingsKept} bindings`, async () => {
    const { check } = checkAnswering(undefined);
    for (let epoch = 1; epoch <= epochBindingsKept + 1; epoch += 1) check.learn({ holderId: "a0", epoch });
    expect(await codeOf(check, a0, epochBindingsKept + 1)).toBeUndefined();
    expect(await codeOf(check, a0, 2)).toBeUndefined();
    // Forgotten: the handler's floor (newestEpoch) refuses it as stale.
    expect(await codeOf(check, a1, 1)).toBeUndefined();
    expect(await codeOf(check, a1, 2)).toBe(grpc.status.PERMISSION_DENIED);
  });
});
