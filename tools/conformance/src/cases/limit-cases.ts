/**
 * Epochs, generations and byte ranges at the limits of their 64-bit fields
 * (claim 12, DESIGN.md errors and limits). A number no real arbiter or
 * table will reach (2^64 - 1, or 2^53, past what a double holds exactly)
 * is bad input: refused with a status that says so, changing nothing. Taken
 * as a real epoch it would outrank every controller to come and wedge the
 * apparatus; so each case then runs a whole change at the current epoch
 * and generation to see that the apparatus still obeys.
 */
import * as grpc from "@grpc/grpc-js";
import { loadGrpc, type ApparatusState__Output } from "@switchyard/proto";
import { expectThat, statusName } from "../check.js";
import type { CaseContext } from "../context.js";
import { callMethod, type CallOutcome } from "../grpc-call.js";
import { baselineTable, moveDiff } from "../layout.js";
import { callTimeoutMs } from "../suite-controller.js";
import type { ConformanceCase } from "./case.js";

/** The largest value of a uint64 field, as protobuf text: no JavaScript number holds it. */
const uint64Max = "18446744073709551615";
/** 2^53: the first integer a double cannot tell from its neighbour. */
const doublePrecisionEnd = "9007199254740992";
const limitValues = [uint64Max, doublePrecisionEnd] as const;

/** Refusals that say the request itself is wrong: bad input, out of range, or a state it cannot apply to. */
const clearRefusals: readonly grpc.status[] = [grpc.status.INVALID_ARGUMENT, grpc.status.OUT_OF_RANGE, grpc.status.FAILED_PRECONDITION];

type ApparatusMethod = "Hold" | "Apply" | "Release" | "Abort" | "LoadTable" | "Register";

/** Calls `method` as the controller with a request the typed helpers would not build (limit values as text); never rejects. */
function call(context: CaseContext, method: ApparatusMethod, request: object): Promise<CallOutcome> {
  const definition = loadGrpc().switchyard.v1.Apparatus.service[method] as grpc.MethodDefinition<object, unknown>;
  return callMethod(context.controller.apparatusAddress, context.controller.credentials, definition, request, callTimeoutMs);
}

async function expectClearRefusal(context: CaseContext, method: ApparatusMethod, request: object, what: string): Promise<void> {
  const outcome = await call(context, method, request);
  const expected = "a refusal (INVALID_ARGUMENT, OUT_OF_RANGE or FAILED_PRECONDITION)";
  expectThat(outcome.code !== grpc.status.OK, `${what}: expected ${expected}, but it was accepted`);
  expectThat(clearRefusals.includes(outcome.code), `${what}: expected ${expected}, got ${statusName(outcome.code)} (${outcome.details})`);
}

function essentials(state: ApparatusState__Output): string {
  return JSON.stringify({ generation: state.generation, epoch_seen: state.epoch_seen, holds: state.holds.length, pending: state.pending_change_id, status: state.status, face: state.active_face });
}

function holdRequest(context: CaseContext, changeId: string, overrides: object = {}): object {
  return {
    change_id: changeId, epoch: context.controller.epoch, base_generation: context.generation, mode: "HOLD_MODE_ALL",
    ranges: [{ volume: context.layout.volumeA.name, offset_bytes: context.offsetIn(1), length_bytes: context.layout.extentSizeBytes }],
    ...overrides,
  };
}

/** The apparatus still obeys the current epoch and generation: one whole change, and GetState shows it. */
async function expectNotWedged(context: CaseContext, after: string): Promise<void> {
  const { controller } = context;
  const changeId = context.changeId("after-limit");
  try {
    await controller.hold(holdRequest(context, changeId));
    await controller.apply({ change_id: changeId, epoch: controller.epoch, diff: moveDiff(context.layout, context.generation, 1, context.layout.spare) });
    await controller.release({ change_id: changeId, epoch: controller.epoch });
  } catch (error) {
    throw new Error(`after ${after} a change at the current epoch ${controller.epoch} failed: the apparatus is wedged (${String(error)})`, { cause: error });
  }
  const state = await controller.getState();
  expectThat(state.generation === context.generation + 1, `after ${after} and one change the generation is ${state.generation}, expected ${context.generation + 1}`);
}

async function epochLimitCase(context: CaseContext): Promise<void> {
  const { controller } = context;
  const before = essentials(await controller.getState());
  for (const epoch of limitValues) {
    const changeId = context.changeId("epoch-limit");
    await expectClearRefusal(context, "Hold", holdRequest(context, changeId, { epoch }), `Hold with epoch ${epoch}`);
    await expectClearRefusal(context, "LoadTable", { epoch, table: baselineTable(context.layout, context.generation) }, `LoadTable with epoch ${epoch}`);
    await expectClearRefusal(context, "Register", { epoch, registration_key: controller.registrationKey, lease_ms: 1_000, device_address: controller.deviceAddress }, `Register with epoch ${epoch}`);
    for (const method of ["Release", "Abort"] as const) await expectClearRefusal(context, method, { change_id: changeId, epoch }, `${method} with epoch ${epoch}`);
  }
  const after = essentials(await controller.getState());
  expectThat(after === before, `GetState changed after messages with epochs at the limit: before ${before}, after ${after}`);
  await expectNotWedged(context, "epochs at the limit");
}

async function generationLimitCase(context: CaseContext): Promise<void> {
  const { controller } = context;
  const before = essentials(await controller.getState());
  for (const generation of limitValues) {
    await expectClearRefusal(context, "Hold", holdRequest(context, context.changeId("generation-limit"), { base_generation: generation }), `Hold for base generation ${generation}`);
    await expectClearRefusal(context, "LoadTable", { epoch: controller.epoch, table: { ...baselineTable(context.layout, 0), generation } }, `LoadTable of a table at generation ${generation}`);
  }
  expectThat(essentials(await controller.getState()) === before, "GetState changed after Hold and LoadTable at the generation limit");
  const changeId = context.changeId("generation-limit-apply");
  await controller.hold(holdRequest(context, changeId));
  const held = essentials(await controller.getState());
  const diff = moveDiff(context.layout, context.generation, 1, context.layout.spare);
  for (const generation of limitValues) {
    await expectClearRefusal(context, "Apply", { change_id: changeId, epoch: controller.epoch, diff: { ...diff, generation } }, `Apply of a diff to generation ${generation}`);
    await expectClearRefusal(context, "Apply", { change_id: changeId, epoch: controller.epoch, diff: { ...diff, base_generation: generation } }, `Apply of a diff from generation ${generation}`);
  }
  expectThat(essentials(await controller.getState()) === held, "GetState changed after Applies at the generation limit");
  await controller.release({ change_id: changeId, epoch: controller.epoch });
  context.generation = (await controller.getState()).generation;
  await expectNotWedged(context, "generations at the limit");
}

async function rangeLimitCase(context: CaseContext): Promise<void> {
  const volume = context.layout.volumeA.name;
  const before = essentials(await context.controller.getState());
  const ranges = [
    { volume, offset_bytes: uint64Max, length_bytes: 1 },
    { volume, offset_bytes: 0, length_bytes: uint64Max },
    { volume, offset_bytes: doublePrecisionEnd, length_bytes: context.layout.extentSizeBytes },
  ];
  for (const range of ranges) {
    await expectClearRefusal(context, "Hold", holdRequest(context, context.changeId("range-limit"), { ranges: [range] }), `Hold of the range ${JSON.stringify(range)}`);
  }
  const after = essentials(await context.controller.getState());
  expectThat(after === before, `GetState changed after Holds of ranges at the limit: before ${before}, after ${after}`);
  await expectNotWedged(context, "Holds of ranges at the limit");
}

const limitClause = "DESIGN.md \"Errors and limits\" (bad input gets a precise error and changes nothing)";

export const limitCases: readonly ConformanceCase[] = [
  { id: "epoch-limit", title: "epochs at the uint64 limit are refused and do not wedge the apparatus", checks: `claim 12 (the epoch is a fencing token); ${limitClause}`, run: epochLimitCase },
  { id: "generation-limit", title: "generations at the uint64 limit are refused and change nothing", checks: `DESIGN.md change protocol (generations); ${limitClause}`, run: generationLimitCase },
  { id: "hold-range-limit", title: "Hold ranges at the uint64 limit are refused and change nothing", checks: `claim 4 (hold ranges); ${limitClause}`, run: rangeLimitCase },
];
