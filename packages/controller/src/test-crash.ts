/**
 * A test hook, never set in production: the controller's process kills
 * itself (SIGKILL, as a power cut would) or stops itself (SIGSTOP, as a long
 * pause would, to be resumed by the test) at a named point of its next
 * change, so that failover tests lose the controller in exactly that phase
 * (issue 4) instead of at whatever point a timer happens to hit. At "after-hold",
 * "after-apply" and "during-release" one apparatus other than the
 * controller's own gets the phase's message and answers it, the others never
 * get it, and then the process dies: the survivors are left in different
 * states, which is what a successor must sort out.
 */
import type { MessagePhase } from "./change-run.js";
import type { PhaseAnswer } from "./change-driver.js";

export type CrashPoint = "before-hold" | "after-hold" | "after-apply" | "after-commit" | "during-release";
export const crashPoints: readonly CrashPoint[] = ["before-hold", "after-hold", "after-apply", "after-commit", "during-release"];

export interface TestCrash {
  readonly point: CrashPoint;
  readonly signal: "SIGKILL" | "SIGSTOP";
}

const phaseOfPoint: Readonly<Partial<Record<CrashPoint, MessagePhase>>> = { "after-hold": "hold", "after-apply": "apply", "during-release": "release" };

/** Sends the signal to this process; after a SIGSTOP it goes on where it was once resumed. */
export function crashNow(crash: TestCrash, where: string): void {
  process.stderr.write(`switchyard: test ${crash.signal} of the controller's process ${where}\n`);
  process.kill(process.pid, crash.signal);
}

type Send = (phase: MessagePhase, apparatusId: string) => Promise<PhaseAnswer>;

/**
 * `send`, except at the crash point's phase: only `victim` gets the message,
 * and its answer brings the signal. The others' messages are never sent (the
 * phase times out for them, should the process be resumed).
 */
export function sendWithCrash(crash: TestCrash | undefined, victim: string | undefined, send: Send): Send {
  const phase = crash === undefined ? undefined : phaseOfPoint[crash.point];
  if (crash === undefined || phase === undefined || victim === undefined) return send;
  return async (sent, apparatusId) => {
    if (sent !== phase) return send(sent, apparatusId);
    if (apparatusId !== victim) return new Promise<PhaseAnswer>(() => undefined);
    const answer = await send(sent, apparatusId);
    crashNow(crash, `after ${apparatusId} answered ${sent}`);
    return answer;
  };
}
