/**
 * A test hook, never set in production: the controller's process kills
 * itself (SIGKILL, as a power cut would) at a named point of its next change,
 * so that failover tests lose the controller in exactly that phase (issue 4)
 * instead of at whatever point a timer happens to hit. At "after-hold",
 * "after-apply" and "during-release" one apparatus other than the
 * controller's own gets the phase's message and answers it, the others never
 * get it, and then the process dies: the survivors are left in different
 * states, which is what a successor must sort out.
 */
import type { MessagePhase } from "./change-run.js";
import type { PhaseAnswer } from "./change-driver.js";

export type CrashPoint = "before-hold" | "after-hold" | "after-apply" | "after-commit" | "during-release";
export const crashPoints: readonly CrashPoint[] = ["before-hold", "after-hold", "after-apply", "after-commit", "during-release"];

const phaseOfPoint: Readonly<Partial<Record<CrashPoint, MessagePhase>>> = { "after-hold": "hold", "after-apply": "apply", "during-release": "release" };

export function crashNow(where: string): never {
  process.stderr.write(`switchyard: test crash of the controller's process ${where}\n`);
  process.kill(process.pid, "SIGKILL");
  throw new Error("SIGKILL did not end the process");
}

type Send = (phase: MessagePhase, apparatusId: string) => Promise<PhaseAnswer>;

/** `send`, except at the crash point's phase: only `victim` gets the message, and its answer ends the process. */
export function sendWithCrash(point: CrashPoint | undefined, victim: string | undefined, send: Send): Send {
  const phase = point === undefined ? undefined : phaseOfPoint[point];
  if (phase === undefined || victim === undefined) return send;
  return async (sent, apparatusId) => {
    if (sent !== phase) return send(sent, apparatusId);
    if (apparatusId !== victim) return new Promise<PhaseAnswer>(() => undefined);
    await send(sent, apparatusId);
    return crashNow(`after ${apparatusId} answered ${sent}`);
  };
}
