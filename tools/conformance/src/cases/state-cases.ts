/**
 * What the apparatus says about itself and whether it stops when told:
 * GetState tells the truth at every phase of a change, a fenced apparatus
 * (claim 3: removed from the control range) serves no host I/O, and the
 * standard grpc.health.v1 service answers.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { callUnary, deadlineAfter, registrationKeyDigest, type ApparatusState__Output, type HealthCheckResponse__Output } from "@switchyard/proto";
import { eventually, expectRefused, expectThat, settlesWithin, track } from "../check.js";
import type { CaseContext } from "../context.js";
import { baselineTable, blockBytes, moveDiff, stamp } from "../layout.js";
import { apparatusLeaseMs, callTimeoutMs } from "../suite-controller.js";
import { heldWindowMs, releasedBoundMs, unheldBoundMs, type ConformanceCase } from "./case.js";

/** A fenced apparatus must stop serving within its lease; this much more covers a renewal in flight. */
const fenceSlackMs = 500;

function describeState(state: ApparatusState__Output): string {
  return JSON.stringify({ generation: state.generation, status: state.status, pending: `${state.pending_change_id}/${state.pending_phase}`, holds: state.holds.length });
}

async function baselineStateCheck(context: CaseContext): Promise<ApparatusState__Output> {
  const state = await context.controller.getState();
  const seen = describeState(state);
  expectThat(state.apparatus_id === context.controller.apparatusId, `GetState names apparatus ${state.apparatus_id}, expected ${context.controller.apparatusId}`);
  expectThat(state.generation === context.generation, `GetState says generation ${state.generation} after LoadTable of ${context.generation}`);
  expectThat(state.status === "APPARATUS_STATUS_SERVING", `a registered apparatus with no hold says ${state.status} (${seen})`);
  expectThat(state.holds.length === 0 && state.pending_change_id === "" && state.pending_phase === "", `no change is pending, but GetState says ${seen}`);
  expectThat(state.epoch_seen === context.controller.epoch, `GetState says epoch_seen ${state.epoch_seen}, the suite sent ${context.controller.epoch}`);
  expectThat(state.registration_key_sha256 === registrationKeyDigest(context.controller.registrationKey), "GetState's registration_key_sha256 is not the digest of the key the suite registered it with");
  return state;
}

async function getStateCase(context: CaseContext): Promise<void> {
  const { controller } = context;
  await baselineStateCheck(context);
  const changeId = context.changeId("state");
  const range = { volume: context.layout.volumeA.name, offset_bytes: context.offsetIn(1), length_bytes: context.layout.extentSizeBytes };
  await controller.hold({ change_id: changeId, epoch: controller.epoch, base_generation: context.generation, ranges: [range], mode: "HOLD_MODE_WRITES" });
  const write = track(context.volumeA.write(context.offsetIn(1, 6), stamp(context.nextStamp())));
  await settlesWithin(write, heldWindowMs);
  const held = await controller.getState();
  const hold = held.holds.find((candidate) => candidate.change_id === changeId);
  expectThat(held.status === "APPARATUS_STATUS_HELD", `while holding GetState says ${held.status}`);
  expectThat(held.pending_change_id === changeId && held.pending_phase === "held", `after Hold GetState says pending ${held.pending_change_id}/${held.pending_phase}`);
  expectThat(hold !== undefined, "after Hold GetState lists no hold of the change");
  expectThat(hold.mode === "HOLD_MODE_WRITES", `the hold's mode is ${hold.mode}, the Hold asked for HOLD_MODE_WRITES`);
  const covered = hold.ranges.some((held) => held.volume === range.volume && held.offset_bytes <= range.offset_bytes &&
    held.offset_bytes + held.length_bytes >= range.offset_bytes + range.length_bytes);
  expectThat(covered, `the hold's ranges ${JSON.stringify(hold.ranges)} do not cover the range held ${JSON.stringify(range)}`);
  expectThat(hold.held_requests === 1, `one write is held, GetState says held_requests ${hold.held_requests}`);
  await controller.apply({ change_id: changeId, epoch: controller.epoch, diff: moveDiff(context.layout, context.generation, 1, context.layout.spare) });
  const applied = await controller.getState();
  expectThat(applied.generation === context.generation + 1, `after Apply GetState says generation ${applied.generation}, expected ${context.generation + 1}`);
  expectThat(applied.pending_phase === "applied", `after Apply GetState says phase ${JSON.stringify(applied.pending_phase)}`);
  expectThat(applied.active_face !== held.active_face, "after Apply the active face did not change (claim 13: the faces switch)");
  await controller.release({ change_id: changeId, epoch: controller.epoch });
  await settlesWithin(write, releasedBoundMs);
  const released = await controller.getState();
  expectThat(released.status === "APPARATUS_STATUS_SERVING" && released.holds.length === 0 && released.pending_change_id === "",
    `after Release GetState says ${describeState(released)}`);
  expectThat(released.generation === context.generation + 1 && released.active_face === applied.active_face, `after Release GetState says ${describeState(released)}, face ${released.active_face}`);
}

async function fencedCase(context: CaseContext): Promise<void> {
  const { controller } = context;
  const area = context.layout.volumeA.areas[0];
  if (area === undefined) throw new Error("volume A has no extent 0");
  await context.volumeA.write(context.offsetIn(0, 7), stamp(context.nextStamp()));
  await controller.fence();
  try {
    // It may serve until its lease, counted from its last granted renewal, runs out.
    await sleep(apparatusLeaseMs + fenceSlackMs);
    const value = context.nextStamp();
    const read = track(context.volumeA.read(context.offsetIn(0, 7), Buffer.alloc(blockBytes)));
    const write = track(context.volumeA.write(context.offsetIn(0, 8), stamp(value)));
    for (const [kind, one] of [["read", read], ["write", write]] as const) {
      await settlesWithin(one, unheldBoundMs);
      expectThat(!one.settled || one.error !== undefined, `a ${kind} succeeded ${apparatusLeaseMs + fenceSlackMs} ms after the apparatus was fenced (its lease is ${apparatusLeaseMs} ms)`);
    }
    expectThat((await context.areaStamp(area, 8)) !== value, "a fenced apparatus's write reached the device");
    const fenced = await controller.getState();
    expectThat(fenced.status === "APPARATUS_STATUS_FENCED", `a fenced apparatus's GetState says ${fenced.status}`);
  } finally {
    // Rejoin (DESIGN.md): the whole current table, then a fresh registration.
    await controller.loadTable(baselineTable(context.layout, context.generation));
    await controller.register();
  }
  let lastError: unknown;
  const serves = await eventually(async () => {
    try {
      await context.reconnectHosts();
      await context.readStamp(context.volumeA, context.offsetIn(0, 7));
      return true;
    } catch (error) {
      lastError = error;
      return false;
    }
  }, unheldBoundMs, 50);
  expectThat(serves, `after LoadTable and Register the apparatus did not serve again: ${String(lastError)}`);
}

async function healthCase(context: CaseContext): Promise<void> {
  const check = (service: string): Promise<HealthCheckResponse__Output> =>
    callUnary<HealthCheckResponse__Output>((done) => context.controller.health.Check({ service }, { deadline: deadlineAfter(callTimeoutMs) }, done));
  for (const service of ["", "switchyard.v1.Apparatus"]) {
    const answer = await check(service);
    expectThat(answer.status === "SERVING", `health Check(${JSON.stringify(service)}) says ${answer.status}, expected SERVING`);
  }
  await expectRefused(check("no.such.Service"), status.NOT_FOUND, "health Check of an unknown service (grpc health spec)");
}

export const stateCases: readonly ConformanceCase[] = [
  { id: "get-state", title: "GetState tells the truth at every phase", checks: "apparatus.proto ApparatusState; claim 13 (faces)", run: getStateCase },
  { id: "fenced-no-io", title: "a fenced apparatus serves no I/O", checks: "claim 3 (removed from the control range); DESIGN.md fencing", run: fencedCase },
  { id: "health", title: "the grpc.health.v1 health service answers", checks: "grpc health checking protocol (grpc.health.v1.Health/Check)", run: healthCase },
];
