/**
 * The change-control loop for one change (claims 1, 3, 6, 9, 18, 20), as a
 * sans-I/O state machine: it takes reports, effect results and the time, and
 * returns what to do next. Sockets, timers and the store belong to the
 * driver (change-driver.ts), so the same core runs in production, in unit
 * tests and in a seeded simulator.
 *
 * hold -> (copy) -> apply -> commit -> release -> committed
 *   any refusal or failure before commit -> abort -> release -> aborted
 * Abort flips every apparatus back but keeps its holds; only when all have
 * flipped back does Release let held writes run, on the old areas, so that
 * no apparatus still reading a new area misses them.
 * An apparatus that does not report within the phase timeout is removed from
 * the control range (fenced) and the change goes on without it (claim 3).
 */
import assert from "node:assert/strict";

export type MessagePhase = "hold" | "apply" | "release" | "abort";
export type EffectKind = "copy" | "commit";
export type Outcome = "committed" | "aborted";

export type Command =
  | { readonly kind: "send"; readonly phase: MessagePhase; readonly apparatusIds: readonly string[] }
  | { readonly kind: "effect"; readonly effect: EffectKind }
  | { readonly kind: "fence"; readonly apparatusId: string; readonly phase: MessagePhase }
  | { readonly kind: "finished"; readonly outcome: Outcome; readonly message: string };

export interface PhaseRecord {
  readonly phase: MessagePhase | EffectKind;
  readonly startedAtMs: number;
  endedAtMs: number | undefined;
}

export interface ReportRecord {
  readonly phase: MessagePhase;
  readonly apparatusId: string;
  readonly ok: boolean;
  readonly message: string;
  readonly elapsedMs: number;
}

type State = MessagePhase | EffectKind | "done";

export class ChangeRun {
  readonly changeId: string;
  readonly phases: PhaseRecord[] = [];
  readonly reports: ReportRecord[] = [];
  readonly fenced: string[] = [];
  private readonly phaseTimeoutMs: number;
  private readonly hasCopy: boolean;
  /** The control range: apparatuses that take part. */
  private readonly inRange: Set<string>;
  private state: State = "hold";
  private awaiting = new Set<string>();
  private phaseStartedMs = 0;
  private failure = "";

  constructor(changeId: string, apparatusIds: readonly string[], phaseTimeoutMs: number, hasCopy: boolean) {
    assert.ok(phaseTimeoutMs > 0);
    this.changeId = changeId;
    this.inRange = new Set(apparatusIds);
    this.phaseTimeoutMs = phaseTimeoutMs;
    this.hasCopy = hasCopy;
  }

  get done(): boolean {
    return this.state === "done";
  }

  get phase(): State {
    return this.state;
  }

  /** When onTick must be called next, if a phase waits on apparatuses. */
  get deadlineMs(): number | undefined {
    return this.awaiting.size > 0 ? this.phaseStartedMs + this.phaseTimeoutMs : undefined;
  }

  start(nowMs: number): Command[] {
    return this.enterMessagePhase("hold", nowMs);
  }

  onReport(apparatusId: string, phase: MessagePhase, ok: boolean, message: string, nowMs: number): Command[] {
    if (phase !== this.state || !this.awaiting.has(apparatusId)) return []; // late or repeated: the phase moved on
    this.awaiting.delete(apparatusId);
    this.reports.push({ phase, apparatusId, ok, message, elapsedMs: nowMs - this.phaseStartedMs });
    if (!ok && (phase === "hold" || phase === "apply")) this.failure ||= `${apparatusId} refused ${phase}: ${message}`;
    return this.awaiting.size === 0 ? this.afterPhase(nowMs) : [];
  }

  onEffect(effect: EffectKind, ok: boolean, message: string, nowMs: number): Command[] {
    assert.equal(this.state, effect, `effect ${effect} reported in phase ${this.state}`);
    this.endPhase(nowMs);
    if (!ok) {
      this.failure = `${effect} failed: ${message}`;
      return this.enterMessagePhase("abort", nowMs);
    }
    return effect === "copy" ? this.enterMessagePhase("apply", nowMs) : this.enterMessagePhase("release", nowMs);
  }

  /** Phase timeout: whoever has not reported leaves the control range (claim 3). */
  onTick(nowMs: number): Command[] {
    const deadline = this.deadlineMs;
    if (deadline === undefined || nowMs < deadline) return [];
    const phase = this.state as MessagePhase;
    const commands: Command[] = [];
    for (const apparatusId of this.awaiting) {
      this.inRange.delete(apparatusId);
      this.fenced.push(apparatusId);
      this.reports.push({ phase, apparatusId, ok: false, message: `no report within ${this.phaseTimeoutMs} ms: fenced`, elapsedMs: nowMs - this.phaseStartedMs });
      commands.push({ kind: "fence", apparatusId, phase });
    }
    this.awaiting.clear();
    return [...commands, ...this.afterPhase(nowMs)];
  }

  private afterPhase(nowMs: number): Command[] {
    this.endPhase(nowMs);
    switch (this.state) {
      case "hold":
        if (this.failure !== "") return this.enterMessagePhase("abort", nowMs);
        return this.hasCopy ? this.enterEffect("copy", nowMs) : this.enterMessagePhase("apply", nowMs);
      case "apply":
        if (this.failure !== "") return this.enterMessagePhase("abort", nowMs);
        return this.enterEffect("commit", nowMs);
      case "release":
        return this.failure === "" ? this.finish("committed", "", nowMs) : this.finish("aborted", this.failure, nowMs);
      case "abort":
        return this.enterMessagePhase("release", nowMs);
      case "copy":
      case "commit":
      case "done":
        assert.fail(`no apparatus reports are awaited in phase ${this.state}`);
    }
  }

  private enterMessagePhase(phase: MessagePhase, nowMs: number): Command[] {
    this.state = phase;
    this.phaseStartedMs = nowMs;
    this.phases.push({ phase, startedAtMs: nowMs, endedAtMs: undefined });
    this.awaiting = new Set(this.inRange);
    if (this.awaiting.size === 0) return this.afterPhase(nowMs);
    return [{ kind: "send", phase, apparatusIds: [...this.awaiting] }];
  }

  private enterEffect(effect: EffectKind, nowMs: number): Command[] {
    this.state = effect;
    this.phases.push({ phase: effect, startedAtMs: nowMs, endedAtMs: undefined });
    return [{ kind: "effect", effect }];
  }

  private endPhase(nowMs: number): void {
    const current = this.phases.at(-1);
    if (current !== undefined && current.endedAtMs === undefined) current.endedAtMs = nowMs;
  }

  private finish(outcome: Outcome, message: string, nowMs: number): Command[] {
    this.endPhase(nowMs);
    this.state = "done";
    return [{ kind: "finished", outcome, message }];
  }
}
