/**
 * Runs a ChangeRun against the world: sends each phase's message to the
 * apparatuses, performs the copy and the commit, fences, and calls the
 * core's timer. Everything the core decides stays in the core.
 */
import type { ChangeRun, Command, EffectKind, MessagePhase, Outcome } from "./change-run.js";

/** An apparatus's answer: ok, a refusal (it answered and said no), or silence (undefined). */
/** An apparatus's answer to one phase, with what it reported (how much a Hold drained) or why it refused; undefined: no answer. */
export type PhaseAnswer = { readonly ok: boolean; readonly message: string } | undefined;

export interface ChangeEffects {
  /** Never rejects; undefined when the apparatus could not be reached (the phase timeout decides). */
  send(phase: MessagePhase, apparatusId: string): Promise<PhaseAnswer>;
  effect(effect: EffectKind): Promise<void>;
  fence(apparatusId: string): void;
  now(): number;
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

export function driveChange(run: ChangeRun, effects: ChangeEffects): Promise<ChangeResult> {
  return new Promise<ChangeResult>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const execute = (commands: readonly Command[]): void => {
      effects.stepped?.();
      for (const command of commands) perform(command);
      if (timer !== undefined) clearTimeout(timer);
      const deadline = run.deadlineMs;
      if (deadline !== undefined && !run.done) {
        timer = setTimeout(() => {
          execute(run.onTick(effects.now()));
        }, Math.max(0, deadline - effects.now()));
      }
    };
    const perform = (command: Command): void => {
      switch (command.kind) {
        case "send":
          for (const apparatusId of command.apparatusIds) {
            void effects.send(command.phase, apparatusId).then((answer) => {
              if (answer === undefined) return;
              execute(run.onReport(apparatusId, command.phase, answer.ok, answer.message, effects.now()));
            });
          }
          return;
        case "effect":
          effects.effect(command.effect).then(
            () => {
              execute(run.onEffect(command.effect, true, "", effects.now()));
            },
            (error: unknown) => {
              execute(run.onEffect(command.effect, false, error instanceof Error ? error.message : String(error), effects.now()));
            },
          );
          return;
        case "fence":
          effects.fence(command.apparatusId);
          return;
        case "finished":
          if (timer !== undefined) clearTimeout(timer);
          resolve({ outcome: command.outcome, message: command.message });
          return;
      }
    };
    execute(run.start(effects.now()));
  });
}
