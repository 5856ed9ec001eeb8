/**
 * One change run by the real change-control core (ChangeRun) and the real
 * driver (driveChange) on virtual time: the driver's ports are the control
 * link, the simulated device and store, and the virtual world's scheduler,
 * whose timers are events at the exact deadline the core asks for.
 */
import type { VirtualizationApparatus } from "@switchyard/apparatus";
import { ChangeRun, driveChange, type ChangePlan, type EffectKind, type MessagePhase, type Outcome, type PhaseAnswer, type Scheduler } from "@switchyard/controller";
import type { ControlLink } from "./control-link.js";
import type { Random } from "./prng.js";
import type { SimulatedDevice } from "./simulated-device.js";
import type { SimulatedStore } from "./simulated-store.js";
import type { VirtualWorld } from "./virtual-world.js";

export interface EffectModel {
  readonly copyMinMs: number;
  readonly copyMaxMs: number;
  readonly commitMinMs: number;
  readonly commitMaxMs: number;
  /** Effects that fail before the commit point: the change must abort cleanly. */
  readonly copyFailureProbability: number;
  readonly commitFailureProbability: number;
}

export interface ChangeContext {
  readonly world: VirtualWorld;
  readonly random: Random;
  readonly link: ControlLink;
  readonly device: SimulatedDevice;
  readonly store: SimulatedStore;
  readonly apparatuses: ReadonlyMap<string, VirtualizationApparatus>;
  readonly effects: EffectModel;
  readonly epoch: number;
  readonly phaseTimeoutMs: number;
  /**
   * How long the copy, and the commit after the last fence, wait when the
   * change fenced someone: until every fenced apparatus has surely stopped
   * writing, under lease-only fencing (the change core waits one apparatus
   * lease before the commit, change-run.ts).
   */
  readonly copyWaitAfterFenceMs: number;
  readonly commitWaitAfterFenceMs: number;
  /** Called when the core fences an apparatus: it leaves the control range. */
  readonly onFence: (apparatusId: string) => void;
}

export interface ChangeRecord {
  readonly changeId: string;
  readonly summary: string;
  readonly outcome: Outcome;
  readonly message: string;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  readonly fenced: readonly string[];
}

/** The virtual world's clock and events as the controller's scheduler port. */
export function worldScheduler(world: VirtualWorld): Scheduler {
  return {
    now: () => world.nowMs,
    at: (atMs, fire) => {
      let cancelled = false;
      // A cancelled timer's event still comes up in the queue, and does nothing.
      world.scheduleAt(Math.max(atMs, world.nowMs), () => {
        if (!cancelled) fire();
      });
      return () => {
        cancelled = true;
      };
    },
  };
}

/**
 * Runs one planned change to its end through the controller's own driver
 * (driveChange): its sends become messages on the control link, its copy
 * and commit effects the simulated device's and store's, its fences the
 * simulation's; resolves with what happened.
 */
export async function runChange(context: ChangeContext, plan: ChangePlan, changeId: string, range: readonly string[]): Promise<ChangeRecord> {
  const { world } = context;
  // The core waits out the fenced apparatuses' leases before the commit (change-run.ts), as in production.
  const run = new ChangeRun(changeId, range, context.phaseTimeoutMs, plan.copy !== undefined, { fenceWaitMs: context.commitWaitAfterFenceMs });
  const startedAtMs = world.nowMs;
  world.note(`change ${changeId} starts: ${plan.summary}; range ${range.join(",")}`);
  const result = await driveChange(run, {
    send: (phase, apparatusId) => send(context, plan, changeId, phase, apparatusId),
    effect: (kind) => new Promise<void>((resolve, reject) => {
      effect(context, plan, kind, run.fenced.length > 0, (ok, message) => {
        if (ok) resolve();
        else reject(new Error(message));
      });
    }),
    // Simulated failures are refusals: a commit is never left unanswered.
    isSilence: () => false,
    storedGeneration: () => Promise.resolve(context.store.generation),
    fence: (apparatusId) => {
      world.note(`fence ${apparatusId} in ${run.phase} of ${changeId}`);
      context.onFence(apparatusId);
      return Promise.resolve();
    },
  }, worldScheduler(world));
  world.note(`change ${changeId} ${result.outcome}${result.message === "" ? "" : `: ${result.message}`}`);
  return { changeId, summary: plan.summary, outcome: result.outcome, message: result.message, startedAtMs, endedAtMs: world.nowMs, fenced: [...run.fenced] };
}

/** One phase message on the control link; a message the link loses is never answered (the phase timeout decides). */
function send(context: ChangeContext, plan: ChangePlan, changeId: string, phase: MessagePhase, apparatusId: string): Promise<PhaseAnswer> {
  const apparatus = context.apparatuses.get(apparatusId);
  if (apparatus === undefined) throw new Error(`no apparatus ${apparatusId}`);
  return new Promise<PhaseAnswer>((resolve) => {
    context.link.send(phase, apparatus, changeId, context.epoch, plan, (reply) => {
      context.world.note(`${phase} ${reply.ok ? "report" : "refusal"} from ${apparatusId}: ${reply.message}`);
      resolve(reply);
    });
  });
}

/** The copy (device copy offload) or the commit (the store write), after a seeded delay; sometimes it fails. */
function effect(context: ChangeContext, plan: ChangePlan, kind: EffectKind, fencedSomeone: boolean, done: (ok: boolean, message: string) => void): void {
  const { random, effects } = context;
  const copying = kind === "copy";
  const waitMs = fencedSomeone && copying ? context.copyWaitAfterFenceMs : 0;
  const delayMs = waitMs + (copying ? random.between(effects.copyMinMs, effects.copyMaxMs) : random.between(effects.commitMinMs, effects.commitMaxMs));
  const fails = random.chance(copying ? effects.copyFailureProbability : effects.commitFailureProbability);
  context.world.schedule(delayMs, () => {
    if (fails) {
      context.world.note(`${kind} fails`);
      done(false, `simulated ${kind} failure`);
      return;
    }
    if (copying) {
      const step = plan.copy;
      if (step === undefined) throw new Error("a copy effect for a plan without a copy");
      const { store } = context;
      context.device.copyArea(store.luIndexOf(step.sourceLuId), step.sourceAreaIndex, store.luIndexOf(step.destinationLuId), step.destinationAreaIndex, step.lengthBytes);
    } else {
      context.store.commit(plan);
    }
    context.world.note(`${kind} done`);
    done(true, "");
  });
}
