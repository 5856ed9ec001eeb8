/**
 * One change run by the real change-control core (ChangeRun) and the real
 * driver (driveChange) on virtual time: the driver's ports are the control
 * link, the simulated device and store, and the virtual world's scheduler,
 * whose timers are events at the exact deadline the core asks for.
 */
import type { VirtualizationApparatus } from "@switchyard/apparatus";
import { ChangeRun, driveChange, type ChangePlan, type MessagePhase, type Outcome, type PhaseAnswer, type Scheduler } from "@switchyard/controller";
import type { ControlLink } from "./control-link.js";
import type { Random } from "./prng.js";
import type { SimulatedStore } from "./simulated-store.js";
import type { VirtualWorld } from "./virtual-world.js";

/** The store write that commits a change: its seeded duration, and how often it is refused (the change must abort cleanly). */
export interface CommitModel {
  readonly commitMinMs: number;
  readonly commitMaxMs: number;
  readonly commitFailureProbability: number;
}

export interface ChangeContext {
  readonly world: VirtualWorld;
  readonly random: Random;
  readonly link: ControlLink;
  readonly store: SimulatedStore;
  readonly apparatuses: ReadonlyMap<string, VirtualizationApparatus>;
  readonly commits: CommitModel;
  readonly epoch: number;
  readonly phaseTimeoutMs: number;
  /**
   * How long the commit waits after the last fence when the change fenced
   * someone: until every fenced apparatus has surely stopped writing, under
   * lease-only fencing (the change core waits one apparatus lease before
   * the commit, change-run.ts).
   */
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
 * (driveChange): its sends become messages on the control link, its commit
 * the simulated store's, its fences the simulation's; resolves with what
 * happened.
 */
export async function runChange(context: ChangeContext, plan: ChangePlan, changeId: string, range: readonly string[]): Promise<ChangeRecord> {
  const { world } = context;
  // The core waits out the fenced apparatuses' leases before the commit (change-run.ts), as in production.
  const run = new ChangeRun(changeId, range, context.phaseTimeoutMs, { fenceWaitMs: context.commitWaitAfterFenceMs });
  const startedAtMs = world.nowMs;
  world.note(`change ${changeId} starts: ${plan.summary}; range ${range.join(",")}`);
  const result = await driveChange(run, {
    send: (phase, apparatusId) => send(context, plan, changeId, phase, apparatusId),
    effect: () => new Promise<void>((resolve, reject) => {
      commit(context, plan, (ok, message) => {
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

/** The commit (the store write), after a seeded delay; sometimes the store refuses it. */
function commit(context: ChangeContext, plan: ChangePlan, done: (ok: boolean, message: string) => void): void {
  const { random, commits } = context;
  const fails = random.chance(commits.commitFailureProbability);
  context.world.schedule(random.between(commits.commitMinMs, commits.commitMaxMs), () => {
    if (fails) {
      context.world.note("commit fails");
      done(false, "simulated commit failure");
      return;
    }
    context.store.commit(plan);
    context.world.note("commit done");
    done(true, "");
  });
}
