/**
 * The rest of the change protocol (claims 2, 13 and DESIGN.md "The change
 * protocol"): Apply writes only the diff's rows, Abort restores the old
 * mapping and keeps holding until Release (docs/design-notes.md), stale
 * epochs and wrong generations are refused with nothing changed, repeated
 * messages are answered as before, malformed diffs are refused.
 */
import { status } from "@grpc/grpc-js";
import type { ApparatusState__Output, DifferenceTable } from "@switchyard/proto";
import { expectRefused, expectThat, settlesWithin, track } from "../check.js";
import type { CaseContext } from "../context.js";
import { moveDiff, stamp, volumeAExtents } from "../layout.js";
import { heldWindowMs, releasedBoundMs, type ConformanceCase } from "./case.js";

function holdOf(context: CaseContext, changeId: string, extentIndex: number, options: { epoch?: number; baseGeneration?: number } = {}) {
  return {
    change_id: changeId,
    epoch: options.epoch ?? context.controller.epoch,
    base_generation: options.baseGeneration ?? context.generation,
    ranges: [{ volume: context.layout.volumeA.name, offset_bytes: context.offsetIn(extentIndex), length_bytes: context.layout.extentSizeBytes }],
    mode: "HOLD_MODE_ALL" as const,
  };
}

function areaOf(context: CaseContext, extentIndex: number) {
  const found = context.layout.volumeA.areas[extentIndex];
  if (found === undefined) throw new Error(`volume A has no extent ${extentIndex}`);
  return found;
}

/** What a refused message must leave as it was. */
function essentials(state: ApparatusState__Output): string {
  return JSON.stringify({
    generation: state.generation,
    active_face: state.active_face,
    holds: state.holds.map((hold) => ({ change_id: hold.change_id, ranges: hold.ranges, mode: hold.mode })),
    pending_change_id: state.pending_change_id,
    pending_phase: state.pending_phase,
    epoch_seen: state.epoch_seen,
    status: state.status,
  });
}

async function expectUnchanged(context: CaseContext, before: string, after: string): Promise<void> {
  const now = essentials(await context.controller.getState());
  expectThat(now === before, `GetState changed after ${after}: before ${before}, after ${now}`);
}

async function applyDiffOnlyCase(context: CaseContext): Promise<void> {
  const { volumeA, volumeB, spare } = context.layout;
  const values = volumeA.areas.map(() => context.nextStamp());
  for (const [index, value] of values.entries()) await context.volumeA.write(context.offsetIn(index), stamp(value));
  const bystander = context.nextStamp();
  await context.volumeB.write(0, stamp(bystander));
  const spareValue = context.nextStamp();
  await context.stampArea(spare, 0, spareValue);
  const changeId = context.changeId("diff");
  await context.controller.hold(holdOf(context, changeId, 2));
  await context.controller.apply({ change_id: changeId, epoch: context.controller.epoch, diff: moveDiff(context.layout, context.generation, 2, spare) });
  await context.controller.release({ change_id: changeId, epoch: context.controller.epoch });
  for (const [index, value] of values.entries()) {
    const expected = index === 2 ? spareValue : value;
    const got = await context.readStamp(context.volumeA, context.offsetIn(index));
    const why = index === 2 ? "the diff's row must map it to the new area" : "the diff does not name this row, so it must not change";
    expectThat(got === expected, `extent ${index} of ${volumeA.name} reads ${got}, expected ${expected}: ${why}`);
  }
  let got: number;
  try {
    got = await context.readStamp(context.volumeB, 0);
  } catch (error) {
    throw new Error(`volume ${volumeB.name}, which the diff does not name, is no longer served: ${String(error)}`, { cause: error });
  }
  expectThat(got === bystander, `volume ${volumeB.name}, which the diff does not name, reads ${got}, expected ${bystander}`);
  const state = await context.controller.getState();
  expectThat(state.generation === context.generation + 1, `after Apply and Release the generation is ${state.generation}, expected ${context.generation + 1}`);
}

/** Hold, Apply (extent 1 to the spare area), Abort: the steps both Abort cases share. */
async function heldAppliedAborted(context: CaseContext, changeId: string): Promise<void> {
  await context.controller.hold(holdOf(context, changeId, 1));
  await context.controller.apply({ change_id: changeId, epoch: context.controller.epoch, diff: moveDiff(context.layout, context.generation, 1, context.layout.spare) });
  const report = await context.controller.abort({ change_id: changeId, epoch: context.controller.epoch });
  expectThat(report.generation === context.generation, `Abort reported generation ${report.generation}, expected the old ${context.generation}`);
}

async function abortRestoresCase(context: CaseContext): Promise<void> {
  const [oldValue, newValue, writeValue] = [context.nextStamp(), context.nextStamp(), context.nextStamp()];
  const oldArea = areaOf(context, 1);
  await context.stampArea(oldArea, 0, oldValue);
  await context.stampArea(context.layout.spare, 0, newValue);
  const changeId = context.changeId("abort");
  await heldAppliedAborted(context, changeId);
  await context.controller.release({ change_id: changeId, epoch: context.controller.epoch });
  const state = await context.controller.getState();
  expectThat(state.generation === context.generation, `after Abort and Release GetState says generation ${state.generation}, expected ${context.generation}`);
  const got = await context.readStamp(context.volumeA, context.offsetIn(1));
  expectThat(got === oldValue, `after Abort extent 1 reads ${got}, expected the old area's ${oldValue}: Abort must flip back to the old mapping`);
  await context.volumeA.write(context.offsetIn(1, 3), stamp(writeValue));
  expectThat((await context.areaStamp(oldArea, 3)) === writeValue, "after Abort a write did not land in the extent's old area");
  expectThat((await context.areaStamp(context.layout.spare, 3)) !== writeValue, "after Abort a write landed in the area of the aborted change");
}

async function abortKeepsHoldsCase(context: CaseContext): Promise<void> {
  const changeId = context.changeId("abort-hold");
  await heldAppliedAborted(context, changeId);
  const value = context.nextStamp();
  const write = track(context.volumeA.write(context.offsetIn(1, 4), stamp(value)));
  await settlesWithin(write, heldWindowMs);
  expectThat(!write.settled, "a write to the held range ran after Abort, before Release: Abort flips back but keeps holding until Release (docs/design-notes.md)");
  await context.controller.release({ change_id: changeId, epoch: context.controller.epoch });
  expectThat(await settlesWithin(write, releasedBoundMs), `a write held across Abort did not finish within ${releasedBoundMs} ms of Release`);
  expectThat(write.error === undefined, `a write held across Abort failed after Release: ${String(write.error)}`);
  expectThat((await context.areaStamp(areaOf(context, 1), 4)) === value, "a write held across Abort did not land in the old area after Release");
}

async function staleEpochCase(context: CaseContext): Promise<void> {
  const epoch = context.controller.epoch;
  const stale = epoch - 1;
  const before = essentials(await context.controller.getState());
  const changeId = context.changeId("stale");
  await expectRefused(context.controller.hold(holdOf(context, changeId, 1, { epoch: stale })), status.FAILED_PRECONDITION, `Hold with stale epoch ${stale} (current ${epoch})`);
  await expectUnchanged(context, before, "a Hold with a stale epoch");
  await expectRefused(context.controller.loadTable({ generation: context.generation + 5, lus: [], volumes: [] }, stale), status.FAILED_PRECONDITION, "LoadTable with a stale epoch");
  await expectUnchanged(context, before, "a LoadTable with a stale epoch");
  await context.controller.hold(holdOf(context, changeId, 1));
  const held = essentials(await context.controller.getState());
  const diff = moveDiff(context.layout, context.generation, 1, context.layout.spare);
  await expectRefused(context.controller.apply({ change_id: changeId, epoch: stale, diff }), status.FAILED_PRECONDITION, "Apply with a stale epoch");
  await expectRefused(context.controller.release({ change_id: changeId, epoch: stale }), status.FAILED_PRECONDITION, "Release with a stale epoch");
  await expectRefused(context.controller.abort({ change_id: changeId, epoch: stale }), status.FAILED_PRECONDITION, "Abort with a stale epoch");
  await expectUnchanged(context, held, "Apply, Release and Abort with a stale epoch");
  await context.controller.release({ change_id: changeId, epoch });
}

async function wrongGenerationCase(context: CaseContext): Promise<void> {
  const before = essentials(await context.controller.getState());
  const changeId = context.changeId("generation");
  for (const baseGeneration of [context.generation + 1, context.generation - 1]) {
    await expectRefused(context.controller.hold(holdOf(context, changeId, 1, { baseGeneration })), status.FAILED_PRECONDITION, `Hold for base generation ${baseGeneration} (apparatus at ${context.generation})`);
  }
  await expectUnchanged(context, before, "Holds for a wrong base generation");
  await context.controller.hold(holdOf(context, changeId, 1));
  const held = essentials(await context.controller.getState());
  const ahead = moveDiff(context.layout, context.generation + 1, 1, context.layout.spare);
  await expectRefused(context.controller.apply({ change_id: changeId, epoch: context.controller.epoch, diff: ahead }), status.FAILED_PRECONDITION, `Apply of a diff from generation ${context.generation + 1}`);
  await expectUnchanged(context, held, "an Apply for a wrong base generation");
  await context.controller.apply({ change_id: changeId, epoch: context.controller.epoch, diff: moveDiff(context.layout, context.generation, 1, context.layout.spare) });
  await context.controller.release({ change_id: changeId, epoch: context.controller.epoch });
}

async function idempotentCase(context: CaseContext): Promise<void> {
  const { controller } = context;
  const changeId = context.changeId("repeat");
  const firstHold = await controller.hold(holdOf(context, changeId, 1));
  const secondHold = await controller.hold(holdOf(context, changeId, 1));
  expectThat(secondHold.change_id === firstHold.change_id, "a repeated Hold was answered for another change");
  const holds = (await controller.getState()).holds.filter((hold) => hold.change_id === changeId);
  expectThat(holds.length === 1, `after a repeated Hold GetState lists ${holds.length} holds of the change, expected 1`);
  const diff = moveDiff(context.layout, context.generation, 1, context.layout.spare);
  const firstApply = await controller.apply({ change_id: changeId, epoch: controller.epoch, diff });
  const secondApply = await controller.apply({ change_id: changeId, epoch: controller.epoch, diff });
  expectThat(secondApply.generation === firstApply.generation && secondApply.active_face === firstApply.active_face,
    `a repeated Apply answered generation ${secondApply.generation} face ${secondApply.active_face}, the first ${firstApply.generation} face ${firstApply.active_face}`);
  await controller.release({ change_id: changeId, epoch: controller.epoch });
  await controller.release({ change_id: changeId, epoch: controller.epoch });
  const after = await controller.getState();
  expectThat(after.generation === context.generation + 1, `after repeated Apply and Release the generation is ${after.generation}, expected ${context.generation + 1}`);
  expectThat(after.holds.length === 0 && after.pending_change_id === "", "after a repeated Release a hold or a pending change is left");
  const aborted = context.changeId("repeat-abort");
  await controller.hold(holdOf(context, aborted, 1, { baseGeneration: context.generation + 1 }));
  const firstAbort = await controller.abort({ change_id: aborted, epoch: controller.epoch });
  const secondAbort = await controller.abort({ change_id: aborted, epoch: controller.epoch });
  expectThat(secondAbort.generation === firstAbort.generation, `a repeated Abort answered generation ${secondAbort.generation}, the first ${firstAbort.generation}`);
  await controller.release({ change_id: aborted, epoch: controller.epoch });
  await controller.release({ change_id: aborted, epoch: controller.epoch });
}

function malformedDiffs(context: CaseContext): { what: string; diff: DifferenceTable | undefined }[] {
  const good = moveDiff(context.layout, context.generation, 1, context.layout.spare);
  const row = good.rows?.[0];
  if (row === undefined) throw new Error("a move diff has one row");
  return [
    { what: "no difference table", diff: undefined },
    { what: "a generation that does not follow its base", diff: { ...good, generation: context.generation + 2 } },
    { what: "a row for a volume that does not exist", diff: { ...good, rows: [{ ...row, volume: "no-such-volume" }] } },
    { what: "a row past the volume's last extent", diff: { ...good, rows: [{ ...row, extent_index: volumeAExtents }] } },
    { what: "a row on an unknown LU", diff: { ...good, rows: [{ ...row, lu_index: 9_999 }] } },
    { what: "two rows for one extent", diff: { ...good, rows: [row, { ...row, area_index: 0 }] } },
  ];
}

async function malformedDiffCase(context: CaseContext): Promise<void> {
  const changeId = context.changeId("malformed");
  await context.controller.hold(holdOf(context, changeId, 1));
  const held = essentials(await context.controller.getState());
  for (const { what, diff } of malformedDiffs(context)) {
    const request = { change_id: changeId, epoch: context.controller.epoch, ...(diff === undefined ? {} : { diff }) };
    await expectRefused(context.controller.apply(request), status.INVALID_ARGUMENT, `Apply with ${what}`);
    await expectUnchanged(context, held, `an Apply with ${what}`);
  }
  await context.controller.apply({ change_id: changeId, epoch: context.controller.epoch, diff: moveDiff(context.layout, context.generation, 1, context.layout.spare) });
  await context.controller.release({ change_id: changeId, epoch: context.controller.epoch });
}

export const changeCases: readonly ConformanceCase[] = [
  { id: "apply-diff-only", title: "Apply changes only the diff's rows", checks: "claims 2, 7 (the difference information changes only its entries)", run: applyDiffOnlyCase },
  { id: "abort-restores", title: "Abort restores the old mapping", checks: "DESIGN.md change protocol: Abort before the commit point flips back", run: abortRestoresCase },
  { id: "abort-keeps-holds", title: "Abort keeps the holds until Release", checks: "docs/design-notes.md \"Abort keeps holding until Release\"", run: abortKeepsHoldsCase },
  { id: "stale-epoch", title: "a stale epoch is refused with FAILED_PRECONDITION and nothing changes", checks: "claim 12 (the epoch is a fencing token); DESIGN.md errors", run: staleEpochCase },
  { id: "wrong-generation", title: "a wrong base generation is refused with FAILED_PRECONDITION and nothing changes", checks: "DESIGN.md change protocol: an Apply whose base generation is not its own", run: wrongGenerationCase },
  { id: "idempotent", title: "a repeated message is answered as before", checks: "DESIGN.md change protocol: each message carries change_id, epoch and generation", run: idempotentCase },
  { id: "malformed-diff", title: "malformed diffs are refused with INVALID_ARGUMENT and nothing changes", checks: "claim 2; DESIGN.md errors (bad input changes nothing)", run: malformedDiffCase },
];
