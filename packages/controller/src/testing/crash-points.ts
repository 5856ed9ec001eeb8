/**
 * Crash points, a decorator of the ports a change runs over (change-driver.ts),
 * for tests only: the controller's process kills itself (SIGKILL, as a power
 * cut would) or stops itself (SIGSTOP, as a long pause would, to be resumed
 * by the test) at a named point of its next change, so that failover tests
 * lose the controller in exactly that phase (issue 4) instead of at whatever
 * point a timer happens to hit. At "after-hold", "after-apply" and
 * "during-release" one apparatus other than the controller's own gets the
 * phase's message and answers it, the others never get it, and then the
 * process dies: the survivors are left in different states, which is what a
 * successor must sort out.
 *
 * A controller on a worker thread gets it as `crashPointsModule(crash)`
 * (controller-serve.ts ChangePortsModule): this module, loaded there.
 */
import assert from "node:assert/strict";
import type { ChangeEffects, ChangePortsDecorator, PhaseAnswer } from "../change-driver.js";
import type { MessagePhase } from "../change-run.js";
import type { ChangePortsModule } from "../controller-serve.js";

export type CrashPoint = "before-hold" | "after-hold" | "after-apply" | "after-commit" | "during-release";
export const crashPoints: readonly CrashPoint[] = ["before-hold", "after-hold", "after-apply", "after-commit", "during-release"];

export interface TestCrash {
  readonly point: CrashPoint;
  readonly signal: "SIGKILL" | "SIGSTOP";
}

const phaseOfPoint: Readonly<Partial<Record<CrashPoint, MessagePhase>>> = { "after-hold": "hold", "after-apply": "apply", "during-release": "release" };

/** Sends the signal to this process; after a SIGSTOP it goes on where it was once resumed. */
function crashNow(crash: TestCrash, where: string): void {
  process.stderr.write(`switchyard: test ${crash.signal} of the controller's process ${where}\n`);
  process.kill(process.pid, crash.signal);
}

type Send = ChangeEffects["send"];

/**
 * `send`, except at the crash point's phase: only `victim` gets the message,
 * and its answer brings the signal. The others' messages are never sent (the
 * phase times out for them, should the process be resumed).
 */
function sendWithCrash(crash: TestCrash, phase: MessagePhase, victim: string, send: Send): Send {
  return async (sent, apparatusId) => {
    if (sent !== phase) return send(sent, apparatusId);
    if (apparatusId !== victim) return new Promise<PhaseAnswer>(() => undefined);
    const answer = await send(sent, apparatusId);
    crashNow(crash, `after ${apparatusId} answered ${sent}`);
    return answer;
  };
}

/** The decorator that signals the process at `crash.point` of every change. */
export function crashingPorts(crash: TestCrash): ChangePortsDecorator {
  return (ports, change) => {
    const phase = phaseOfPoint[crash.point];
    const victim = change.apparatusIds.find((id) => id !== change.selfId);
    const forward: Send = (sent, apparatusId) => ports.send(sent, apparatusId);
    const send = phase === undefined || victim === undefined ? forward : sendWithCrash(crash, phase, victim, forward);
    let holdSent = false;
    return {
      ...ports,
      send: (sent, apparatusId) => {
        // The first Hold message is the first thing a change sends: nothing has left yet.
        if (crash.point === "before-hold" && sent === "hold" && !holdSent) crashNow(crash, `before the Hold of ${change.changeId}`);
        if (sent === "hold") holdSent = true;
        return send(sent, apparatusId);
      },
      effect: async (kind) => {
        await ports.effect(kind);
        if (crash.point === "after-commit") crashNow(crash, `right after the commit of ${change.changeId}`);
      },
    };
  };
}

function isTestCrash(value: unknown): value is TestCrash {
  if (typeof value !== "object" || value === null || !("point" in value) || !("signal" in value)) return false;
  return crashPoints.some((point) => point === value.point) && (value.signal === "SIGKILL" || value.signal === "SIGSTOP");
}

/** The factory controller-serve.ts looks for in a ChangePortsModule; `settings` is a TestCrash. */
export function changePortsDecorator(settings: unknown): ChangePortsDecorator {
  // Settings that are no TestCrash are a broken composition, not an operating error.
  assert.ok(isTestCrash(settings), `crash-points.js: settings must be a TestCrash, not ${JSON.stringify(settings)}`);
  return crashingPorts(settings);
}

/** This module as a ChangePortsModule: what to give serveController or a prepared controller (prepareController) in any thread mode. */
export function crashPointsModule(crash: TestCrash): ChangePortsModule {
  return { url: import.meta.url, settings: crash };
}
