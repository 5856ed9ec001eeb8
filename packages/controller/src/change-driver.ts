/**
 * Runs a ChangeRun against the world: sends each phase's message to the
 * apparatuses, performs the copy and the commit, fences, and calls the
 * core's timer. Everything the core decides stays in the core; everything
 * it touches is a port (the effects and the scheduler), so production and
 * the simulator (tools/simulator) run this one driver.
 */
import type { ChangeRun, Command, EffectKind, MessagePhase, Outcome } from "./change-run.js";
import type { CancelTimer, Scheduler } from "./scheduler.js";

/** An apparatus's answer to one phase, with what it reported (how much a Hold drained) or why it refused; undefined: no answer. */
export type PhaseAnswer = { readonly ok: boolean; readonly message: string } | undefined;

export interface ChangeEffects {
  /** Never rejects; undefined when the apparatus could not be reached (the phase timeout decides). */
  send(phase: MessagePhase, apparatusId: string): Promise<PhaseAnswer>;
  /** One try of the copy or the commit; rejects when it failed. */
  effect(effect: EffectKind): Promise<void>;
  /** Whether an effect's failure was silence (it may still have happened) rather than a refusal. */
  isSilence(error: unknown): boolean;
  /** The stored table's generation, to tell whether a commit whose answer was lost took place. */
  storedGeneration(): Promise<number>;
  /** Has the device refuse the apparatus's I/O (claim 3); resolves once the device has recorded it. */
  fence(apparatusId: string): Promise<void>;
  /** Called after every step of the core, to follow the change as it goes (the phase log). */
  stepped?(): void;
}

/** The change a set of ports is made for, for a decorator to go by. */
export interface ChangeContext {
  readonly changeId: string;
  /** The apparatuses in its control range when it starts. */
  readonly apparatusIds: readonly string[];
  /** The controller's own apparatus, if it runs in one. */
  readonly selfId: string | undefined;
}

/**
 * Wraps the ports one change runs over (its control transport, its copy and
 * commit): whoever composes the controller may watch or alter what crosses
 * them, as a test does to lose the controller at a chosen step, while the
 * executor keeps one code path.
 */
export type ChangePortsDecorator = (ports: ChangeEffects, change: ChangeContext) => ChangeEffects;

export interface ChangeResult {
  readonly outcome: Outcome;
  readonly message: string;
}

export function driveChange(run: ChangeRun, effects: ChangeEffects, scheduler: Scheduler): Promise<ChangeResult> {
  return new Promise<ChangeResult>((resolve) => {
    let cancelTimer: CancelTimer | undefined;
    let timerAtMs: number | undefined;
    const execute = (commands: readonly Command[]): void => {
      effects.stepped?.();
      for (const command of commands) perform(command);
      const deadline = run.done ? undefined : run.deadlineMs;
      // One timer at the core's deadline; a new deadline replaces it.
      if (deadline === timerAtMs) return;
      cancelTimer?.();
      cancelTimer = undefined;
      timerAtMs = deadline;
      if (deadline === undefined) return;
      cancelTimer = scheduler.at(deadline, () => {
        cancelTimer = undefined;
        timerAtMs = undefined;
        execute(run.onTick(scheduler.now()));
      });
    };
    const perform = (command: Command): void => {
      switch (command.kind) {
        case "send":
          for (const apparatusId of command.apparatusIds) {
            void effects.send(command.phase, apparatusId).then((answer) => {
              if (answer === undefined) return;
              execute(run.onReport(apparatusId, command.phase, answer.ok, answer.message, scheduler.now()));
            });
          }
          return;
        case "effect":
          effects.effect(command.effect).then(
            () => {
              execute(run.onEffect(command.effect, true, "", scheduler.now()));
            },
            (error: unknown) => {
              execute(run.onEffect(command.effect, false, messageOf(error), scheduler.now(), effects.isSilence(error)));
            },
          );
          return;
        case "check-commit":
          effects.storedGeneration().then(
            (generation) => {
              execute(run.onStoredGeneration(generation, scheduler.now()));
            },
            () => {
              execute(run.onStoredGeneration(undefined, scheduler.now()));
            },
          );
          return;
        case "fence": {
          const apparatusId = command.apparatusId;
          effects.fence(apparatusId).then(
            () => {
              execute(run.onFenced(apparatusId, true, "", scheduler.now()));
            },
            (error: unknown) => {
              execute(run.onFenced(apparatusId, false, messageOf(error), scheduler.now()));
            },
          );
          return;
        }
        case "finished":
          cancelTimer?.();
          cancelTimer = undefined;
          resolve({ outcome: command.outcome, message: command.message });
          return;
      }
    };
    execute(run.start(scheduler.now()));
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
