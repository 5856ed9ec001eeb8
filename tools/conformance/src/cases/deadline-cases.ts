/**
 * The hold deadline (DESIGN.md invariants, "Progress": every hold ends
 * within a bound; past its deadline the apparatus fences itself for the
 * volume and answers held requests with an NBD error; no host request
 * waits longer than the deadline plus one phase timeout). The suite holds
 * an extent and never releases it: the held write and read must fail with
 * ESHUTDOWN or EIO in time, new requests to the volume too, until a
 * controller loads the table again.
 */
import { eventually, expectThat, settlesWithin, track, type Tracked } from "../check.js";
import type { CaseContext } from "../context.js";
import { baselineTable, blockBytes, stamp } from "../layout.js";
import { heldWindowMs, unheldBoundMs, type ConformanceCase } from "./case.js";
import { nbdCodeOf } from "./nbd-peer.js";

/** DESIGN.md: the controller's phase timeout, the one phase a request may wait past the deadline. */
const phaseTimeoutMs = 2_000;
/** The errors proto.md lets a server give a request it will never serve: ESHUTDOWN, or EIO. */
const expiredCodes = ["ESHUTDOWN", "EIO"] as const;

/** The held write and read end with ESHUTDOWN or EIO by the deadline plus one phase. */
async function expectExpired(context: CaseContext, held: readonly (readonly [string, Tracked])[], heldAtMs: number): Promise<void> {
  const deadlineMs = context.features.holdDeadlineMs;
  for (const [kind, one] of held) {
    const leftMs = deadlineMs + phaseTimeoutMs - (performance.now() - heldAtMs);
    expectThat(await settlesWithin(one, Math.max(leftMs, 0)), `a held ${kind} was still waiting ${deadlineMs + phaseTimeoutMs} ms after a Hold with no Release (deadline ${deadlineMs} ms plus one phase)`);
    const code = one.error === undefined ? "success" : nbdCodeOf(one.error);
    expectThat((expiredCodes as readonly string[]).includes(code), `a held ${kind} past the hold deadline ended with ${code}, expected ESHUTDOWN or EIO`);
  }
}

async function holdDeadlineCase(context: CaseContext): Promise<void> {
  const { controller } = context;
  const changeId = context.changeId("deadline");
  await controller.hold({
    change_id: changeId, epoch: controller.epoch, base_generation: context.generation, mode: "HOLD_MODE_ALL",
    ranges: [{ volume: context.layout.volumeA.name, offset_bytes: context.offsetIn(1), length_bytes: context.layout.extentSizeBytes }],
  });
  const heldAtMs = performance.now();
  const write = track(context.volumeA.write(context.offsetIn(1, 6), stamp(context.nextStamp())));
  const read = track(context.volumeA.read(context.offsetIn(1, 7), Buffer.alloc(blockBytes)));
  try {
    await settlesWithin(write, Math.min(heldWindowMs, context.features.holdDeadlineMs / 2));
    expectThat(!write.settled, "precondition: a write to the held range was answered at once");
    await expectExpired(context, [["write", write], ["read", read]], heldAtMs);
  } catch (error) {
    // An apparatus that still holds them: Release, so the next case (and the run's end) do not wait on them.
    await controller.release({ change_id: changeId, epoch: controller.epoch }).catch((releaseError: unknown) => {
      throw new Error(`${String(error)}; and the Release that was to end the hold failed: ${String(releaseError)}`, { cause: error });
    });
    throw error;
  }
  // The held volume stays unserved (the apparatus cannot know which face is committed) until a table comes.
  const later = track(context.volumeA.read(context.offsetIn(0), Buffer.alloc(blockBytes)));
  await settlesWithin(later, unheldBoundMs);
  expectThat(later.settled && later.error !== undefined, "a read of the volume after its hold expired was served before a controller loaded the table");
  await controller.loadTable(baselineTable(context.layout, context.generation));
  await controller.register();
  const serves = await eventually(async () => {
    try {
      await context.reconnectHosts();
      await context.volumeA.read(context.offsetIn(1, 6), Buffer.alloc(blockBytes));
      return true;
    } catch {
      return false;
    }
  }, unheldBoundMs, 50);
  expectThat(serves, "after the hold expired, LoadTable and Register did not bring the volume back");
}

export const deadlineCases: readonly ConformanceCase[] = [
  { id: "hold-deadline", title: "a hold without Release ends by the deadline, held requests get ESHUTDOWN or EIO", checks: "DESIGN.md invariants, \"Progress\" (each hold has a deadline; the apparatus fences the volume itself)", needs: ["hold-deadline"], run: holdDeadlineCase },
];
