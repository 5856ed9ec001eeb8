/**
 * Holds (claims 1, 4, 6, 18): Hold drains what is in flight before it
 * reports; what it holds does not run before Release and runs after it
 * through the new mapping; it holds only its byte ranges, and only writes
 * when asked to; asked to hold nothing, Apply drains instead.
 */
import { eventually, expectThat, settlesWithin, track, waitAtMost, type Tracked } from "../check.js";
import type { CaseContext } from "../context.js";
import { blockBytes, moveDiff, stamp, stampValue } from "../layout.js";
import { heldWindowMs, releasedBoundMs, unheldBoundMs, type ConformanceCase } from "./case.js";

/** Writes the drain case keeps in flight: enough that a Hold cannot miss them all by luck. */
const drainWritesCount = 8;
/** How long the suite waits for its writes to reach its own (slow) device before it sends Hold. */
const inFlightWaitMs = 2_000;

/** Hold request for extent `extentIndex` of volume A, whole. */
function holdExtent(context: CaseContext, changeId: string, extentIndex: number, mode: "HOLD_MODE_ALL" | "HOLD_MODE_WRITES" | "HOLD_MODE_NONE") {
  return {
    change_id: changeId,
    epoch: context.controller.epoch,
    base_generation: context.generation,
    ranges: [{ volume: context.layout.volumeA.name, offset_bytes: context.offsetIn(extentIndex), length_bytes: context.layout.extentSizeBytes }],
    mode,
  };
}

async function expectAllSettle(tracked: readonly Tracked[], what: string): Promise<void> {
  for (const one of tracked) {
    expectThat(await settlesWithin(one, releasedBoundMs), `${what} did not finish within ${releasedBoundMs} ms of Release`);
    expectThat(one.error === undefined, `${what} failed after Release: ${String(one.error)}`);
  }
}

function area(context: CaseContext, extentIndex: number) {
  const found = context.layout.volumeA.areas[extentIndex];
  if (found === undefined) throw new Error(`volume A has no extent ${extentIndex}`);
  return found;
}

async function drainCase(context: CaseContext): Promise<void> {
  const writes = await writesInFlight(context);
  const changeId = context.changeId("drain");
  await context.controller.hold(holdExtent(context, changeId, 0, "HOLD_MODE_ALL"));
  // What is on the device the moment Hold has reported drained.
  const onDevice = await Promise.all(writes.map((write) => context.areaStamp(area(context, 0), write.block)));
  await waitAtMost(Promise.all(writes.map((write) => write.tracked.done)), context.writeDelayMs + unheldBoundMs);
  const releaseSentAtMs = performance.now();
  await context.controller.release({ change_id: changeId, epoch: context.controller.epoch });
  await Promise.all(writes.map((write) => write.tracked.done));
  writes.forEach((write, index) => {
    const acknowledgedBeforeRelease = write.tracked.error === undefined && (write.tracked.settledAtMs ?? Infinity) < releaseSentAtMs;
    // Held writes are acknowledged only after Release; one acknowledged before was admitted before the Hold.
    expectThat(
      !acknowledgedBeforeRelease || onDevice[index] === write.value,
      `write ${index + 1} of ${drainWritesCount} was in flight when Hold arrived and was acknowledged before Release, ` +
        "but it was not on the device when Hold reported drained: Hold must wait for I/O in flight before it reports",
    );
  });
}

/** Writes to extent 0 kept in flight on the suite's slow device, once they have reached it. */
async function writesInFlight(context: CaseContext): Promise<{ block: number; value: number; tracked: Tracked }[]> {
  const disk = context.disk;
  if (disk !== undefined) disk.writeDelayMs = context.writeDelayMs;
  const writes = Array.from({ length: drainWritesCount }, (_, block) => {
    const value = context.nextStamp();
    return { block, value, tracked: track(context.volumeA.write(context.offsetIn(0, block), stamp(value))) };
  });
  if (disk !== undefined) {
    const reached = await eventually(() => Promise.resolve(disk.writesInFlight >= drainWritesCount), inFlightWaitMs, 5);
    expectThat(reached, `precondition: only ${disk.writesInFlight} of ${drainWritesCount} writes reached the suite's device within ${inFlightWaitMs} ms`);
  }
  return writes;
}

/**
 * HOLD_MODE_NONE (a switch the device's mirror covers): Hold holds nothing,
 * and Apply answers only once what was admitted under the old face has ended.
 */
async function unheldApplyDrainsCase(context: CaseContext): Promise<void> {
  const writes = await writesInFlight(context);
  const changeId = context.changeId("unheld");
  await context.controller.hold(holdExtent(context, changeId, 0, "HOLD_MODE_NONE"));
  const during = track(context.volumeA.write(context.offsetIn(0, drainWritesCount), stamp(context.nextStamp())));
  await context.controller.apply({ change_id: changeId, epoch: context.controller.epoch, diff: moveDiff(context.layout, context.generation, 0, context.layout.spare) });
  // What is on the old area the moment Apply has answered.
  const onDevice = await Promise.all(writes.map((write) => context.areaStamp(area(context, 0), write.block)));
  expectThat(await settlesWithin(during, context.writeDelayMs + unheldBoundMs), "a write to the range of a HOLD_MODE_NONE hold was held: that mode holds nothing");
  expectThat(during.error === undefined, `a write during a HOLD_MODE_NONE hold failed: ${String(during.error)}`);
  await context.controller.release({ change_id: changeId, epoch: context.controller.epoch });
  await waitAtMost(Promise.all(writes.map((write) => write.tracked.done)), context.writeDelayMs + releasedBoundMs);
  writes.forEach((write, index) => {
    expectThat(
      write.tracked.error !== undefined || onDevice[index] === write.value,
      `write ${index + 1} of ${drainWritesCount} was admitted before Apply under HOLD_MODE_NONE but was not on the old area when Apply answered: ` +
        "without a hold, Apply must wait for the I/O admitted under the old face before it answers",
    );
  });
}

async function heldUntilReleaseCase(context: CaseContext): Promise<void> {
  const changeId = context.changeId("held");
  await context.controller.hold(holdExtent(context, changeId, 1, "HOLD_MODE_ALL"));
  const value = context.nextStamp();
  const write = track(context.volumeA.write(context.offsetIn(1, 0), stamp(value)));
  const read = track(context.volumeA.read(context.offsetIn(1, 1), Buffer.alloc(blockBytes)));
  const expectStillHeld = async (after: string): Promise<void> => {
    await settlesWithin(write, heldWindowMs);
    expectThat(!write.settled, `a write to the held range was answered ${after}, before Release`);
    expectThat(!read.settled, `a read of a range held for all I/O was answered ${after}, before Release`);
    const landed = [await context.areaStamp(area(context, 1), 0), await context.areaStamp(context.layout.spare, 0)];
    expectThat(!landed.includes(value), `a held write reached the device ${after}, before Release`);
  };
  await expectStillHeld("after Hold");
  await context.controller.apply({ change_id: changeId, epoch: context.controller.epoch, diff: moveDiff(context.layout, context.generation, 1, context.layout.spare) });
  await expectStillHeld("after Apply");
  await context.controller.release({ change_id: changeId, epoch: context.controller.epoch });
  await expectAllSettle([write, read], "held I/O");
}

async function releaseNewMappingCase(context: CaseContext): Promise<void> {
  const [oldValue, newValue, writeValue] = [context.nextStamp(), context.nextStamp(), context.nextStamp()];
  const oldArea = area(context, 1);
  await context.stampArea(oldArea, 1, oldValue);
  await context.stampArea(context.layout.spare, 1, newValue);
  const changeId = context.changeId("remap");
  await context.controller.hold(holdExtent(context, changeId, 1, "HOLD_MODE_ALL"));
  const into = Buffer.alloc(blockBytes);
  const read = track(context.volumeA.read(context.offsetIn(1, 1), into));
  const write = track(context.volumeA.write(context.offsetIn(1, 2), stamp(writeValue)));
  await settlesWithin(read, heldWindowMs);
  await context.controller.apply({ change_id: changeId, epoch: context.controller.epoch, diff: moveDiff(context.layout, context.generation, 1, context.layout.spare) });
  await context.controller.release({ change_id: changeId, epoch: context.controller.epoch });
  await expectAllSettle([read, write], "held I/O");
  const readValue = stampValue(into);
  expectThat(readValue !== oldValue, "a read held before Apply returned the old area's data after Release: held I/O must be mapped again by the new table");
  expectThat(readValue === newValue, `a held read returned ${readValue}, expected the new area's stamp ${newValue}`);
  expectThat((await context.areaStamp(context.layout.spare, 2)) === writeValue, "a write held before Apply did not land in the extent's new area after Release");
  expectThat((await context.areaStamp(oldArea, 2)) !== writeValue, "a write held before Apply landed in the extent's old area");
}

async function rangeOnlyCase(context: CaseContext): Promise<void> {
  const changeId = context.changeId("range");
  await context.controller.hold(holdExtent(context, changeId, 1, "HOLD_MODE_ALL"));
  const extentBytes = context.layout.extentSizeBytes;
  const targets = [
    { what: "the block just before the held range", client: context.volumeA, offset: context.offsetIn(1) - blockBytes },
    { what: "the block just after the held range", client: context.volumeA, offset: context.offsetIn(2) },
    { what: "extent 0 of the held volume", client: context.volumeA, offset: context.offsetIn(0, 5) },
    { what: "extent 3 of the held volume", client: context.volumeA, offset: 3 * extentBytes + 5 * blockBytes },
    { what: "another volume", client: context.volumeB, offset: 5 * blockBytes },
  ];
  try {
    for (const target of targets) {
      const write = track(target.client.write(target.offset, stamp(context.nextStamp())));
      const read = track(target.client.read(target.offset, Buffer.alloc(blockBytes)));
      for (const [kind, one] of [["write", write], ["read", read]] as const) {
        expectThat(await settlesWithin(one, unheldBoundMs), `a ${kind} of ${target.what} was held: claim 4 holds only the range being changed`);
        expectThat(one.error === undefined, `a ${kind} of ${target.what} failed during the hold: ${String(one.error)}`);
      }
    }
  } finally {
    await context.controller.release({ change_id: changeId, epoch: context.controller.epoch });
  }
}

async function writesOnlyCase(context: CaseContext): Promise<void> {
  const changeId = context.changeId("writes");
  await context.controller.hold(holdExtent(context, changeId, 1, "HOLD_MODE_WRITES"));
  const read = track(context.volumeA.read(context.offsetIn(1, 3), Buffer.alloc(blockBytes)));
  const write = track(context.volumeA.write(context.offsetIn(1, 4), stamp(context.nextStamp())));
  expectThat(await settlesWithin(read, unheldBoundMs), "a read of a range held for writes only was held: HOLD_MODE_WRITES lets reads through");
  expectThat(read.error === undefined, `a read of a range held for writes only failed: ${String(read.error)}`);
  await settlesWithin(write, heldWindowMs);
  expectThat(!write.settled, "a write to a range held for writes was answered before Release");
  await context.controller.release({ change_id: changeId, epoch: context.controller.epoch });
  await expectAllSettle([write], "a held write");
}

export const holdCases: readonly ConformanceCase[] = [
  { id: "hold-drains", title: "Hold drains in-flight I/O before reporting", checks: "claims 1, 6, 18 (complete the I/O being processed, then report)", run: drainCase },
  { id: "hold-until-release", title: "held I/O does not run before Release", checks: "claims 1, 18 (hold until the release instruction)", run: heldUntilReleaseCase },
  { id: "release-new-mapping", title: "held I/O runs after Release through the new mapping", checks: "claims 1, 13 (held I/O is mapped again by the new active face)", run: releaseNewMappingCase },
  { id: "hold-range-only", title: "I/O outside a range hold is not held", checks: "claim 4 (hold only the address range being changed)", run: rangeOnlyCase },
  { id: "hold-writes-only", title: "a writes-only hold lets reads through and holds writes", checks: "apparatus.proto HOLD_MODE_WRITES", run: writesOnlyCase },
  { id: "unheld-apply-drains", title: "HOLD_MODE_NONE holds nothing, and Apply drains the old face before answering", checks: "claim 6, apparatus.proto HOLD_MODE_NONE", run: unheldApplyDrainsCase },
];
