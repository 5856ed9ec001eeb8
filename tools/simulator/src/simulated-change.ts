/**
 * One change driven through the real change-control core (ChangeRun) on
 * virtual time: its commands become messages on the control link, a copy
 * and a commit on the simulated device and store, and fences at the device;
 * its timer is an event at the exact deadline it asks for. It does what
 * change-driver.ts does in production, with the world's clock instead of
 * setTimeout.
 */
import type { VirtualizationApparatus } from "@switchyard/apparatus";
import { ChangeRun, type ChangePlan, type Command, type EffectKind, type MessagePhase, type Outcome } from "@switchyard/controller";
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
   * How long the copy and the commit wait when the change fenced someone:
   * until every fenced apparatus has surely stopped writing, under lease-only
   * fencing (change-executor.ts waits one apparatus lease before the commit).
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

/** Runs one planned change to its end; resolves with what happened. */
export function runChange(context: ChangeContext, plan: ChangePlan, changeId: string, range: readonly string[]): Promise<ChangeRecord> {
  const { world } = context;
  const run = new ChangeRun(changeId, range, context.phaseTimeoutMs, plan.copy !== undefined);
  const startedAtMs = world.nowMs;
  let tickAtMs: number | undefined;
  world.note(`change ${changeId} starts: ${plan.summary}; range ${range.join(",")}`);
  return new Promise<ChangeRecord>((resolve) => {
    const execute = (commands: readonly Command[]): void => {
      for (const command of commands) perform(command);
      const deadline = run.deadlineMs;
      if (deadline !== undefined && !run.done && deadline !== tickAtMs) {
        tickAtMs = deadline;
        world.scheduleAt(deadline, () => {
          execute(run.onTick(world.nowMs));
        });
      }
    };
    const perform = (command: Command): void => {
      switch (command.kind) {
        case "send":
          for (const apparatusId of command.apparatusIds) send(command.phase, apparatusId);
          return;
        case "effect":
          effect(context, plan, command.effect, run.fenced.length > 0, (ok, message) => {
            execute(run.onEffect(command.effect, ok, message, world.nowMs));
          });
          return;
        case "fence":
          world.note(`fence ${command.apparatusId} in ${command.phase} of ${changeId}`);
          context.onFence(command.apparatusId);
          return;
        case "finished":
          world.note(`change ${changeId} ${command.outcome}${command.message === "" ? "" : `: ${command.message}`}`);
          resolve({ changeId, summary: plan.summary, outcome: command.outcome, message: command.message, startedAtMs, endedAtMs: world.nowMs, fenced: [...run.fenced] });
          return;
      }
    };
    const send = (phase: MessagePhase, apparatusId: string): void => {
      const apparatus = context.apparatuses.get(apparatusId);
      if (apparatus === undefined) throw new Error(`no apparatus ${apparatusId}`);
      context.link.send(phase, apparatus, changeId, context.epoch, plan, (reply) => {
        world.note(`${phase} ${reply.ok ? "report" : "refusal"} from ${apparatusId}: ${reply.message}`);
        execute(run.onReport(apparatusId, phase, reply.ok, reply.message, world.nowMs));
      });
    };
    execute(run.start(world.nowMs));
  });
}

/** The copy (device copy offload) or the commit (the store write), after a seeded delay; sometimes it fails. */
function effect(context: ChangeContext, plan: ChangePlan, kind: EffectKind, fencedSomeone: boolean, done: (ok: boolean, message: string) => void): void {
  const { random, effects } = context;
  const copying = kind === "copy";
  const waitMs = fencedSomeone ? (copying ? context.copyWaitAfterFenceMs : context.commitWaitAfterFenceMs) : 0;
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
