/**
 * The change-control loop for one change (claims 1, 3, 6, 9, 18, 20), as a
 * sans-I/O state machine: it takes reports, effect results and the time, and
 * returns what to do next. Sockets, timers and the store belong to the
 * driver (change-driver.ts), so the same core runs in production, in unit
 * tests and in a seeded simulator.
 *
 * hold -> apply -> commit -> release -> committed
 *   any refusal or failure before commit -> abort -> release -> aborted
 * The commit phase has steps of its own, all timed by the core:
 *   fence wait: when the change fenced anyone, the commit waits until the
 *     device has recorded every fence and then one apparatus lease more, by
 *     when each fenced apparatus has stopped serving the old mapping;
 *   commit: one store write; a refusal aborts;
 *   check: when the write got no answer it may still have landed, so the
 *     stored generation is read: the new one means committed, the base one
 *     (or no answer) means try again after a pause, until the outcome wait
 *     has passed; anything else aborts.
 * Abort flips every apparatus back but keeps its holds; only when all have
 * flipped back does Release let held writes run, on the old areas, so that
 * no apparatus still reading a new area misses them.
 * An apparatus that does not report within the phase timeout is removed from
 * the control range (fenced) and the change goes on without it (claim 3).
 */
import assert from "node:assert/strict";

export type MessagePhase = "hold" | "apply" | "release" | "abort";
/** The one effect a change has: its store write. Copies happen before, in mirror state (mirrored-copy.ts). */
export type EffectKind = "commit";
export type Outcome = "committed" | "aborted";

export type Command =
  | { readonly kind: "send"; readonly phase: MessagePhase; readonly apparatusIds: readonly string[] }
  | { readonly kind: "effect"; readonly effect: EffectKind }
  /** Read the stored generation: whether a commit whose answer was lost took place. */
  | { readonly kind: "check-commit" }
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
/** Where the commit phase is (see the header). */
type CommitStep = "fence-wait" | "writing" | "checking" | "pausing";

/** The commit's own timing; without it a commit that gets no answer aborts. */
export interface CommitTiming {
  readonly baseGeneration: number;
  readonly generation: number;
  /** How long a commit whose answer was lost is asked about and tried again. */
  readonly outcomeWaitMs: number;
  /** Pause between those tries. */
  readonly retryPauseMs: number;
}

export interface ChangeRunOptions {
  /** After the device has recorded the last fence, how long the commit waits more: one apparatus lease (default 0). */
  readonly fenceWaitMs?: number;
  readonly commit?: CommitTiming;
}

export class ChangeRun {
  readonly changeId: string;
  readonly phases: PhaseRecord[] = [];
  readonly reports: ReportRecord[] = [];
  readonly fenced: string[] = [];
  private readonly phaseTimeoutMs: number;
  /** The control range: apparatuses that take part. */
  private readonly inRange: Set<string>;
  private state: State = "hold";
  private awaiting = new Set<string>();
  private phaseStartedMs = 0;
  private failure = "";
  private readonly fenceWaitMs: number;
  private readonly commitTiming: CommitTiming | undefined;
  /** Fences sent and not yet recorded by the device, and when the last one was. */
  private readonly fencesPending = new Set<string>();
  private lastFenceRecordedMs = 0;
  private fenceFailure = "";
  private commitStep: CommitStep = "fence-wait";
  /** A commit write went unanswered: it may have landed, so no later refusal decides alone. */
  private commitMayHaveLanded = false;
  private commitDeadlineMs = 0;
  private pauseUntilMs = 0;
  private lastCommitError = "";

  constructor(changeId: string, apparatusIds: readonly string[], phaseTimeoutMs: number, options: ChangeRunOptions = {}) {
    assert.ok(phaseTimeoutMs > 0);
    const fenceWaitMs = options.fenceWaitMs ?? 0;
    assert.ok(Number.isFinite(fenceWaitMs) && fenceWaitMs >= 0);
    if (options.commit !== undefined) {
      assert.equal(options.commit.generation, options.commit.baseGeneration + 1);
      assert.ok(options.commit.retryPauseMs > 0 && options.commit.outcomeWaitMs >= 0);
    }
    this.changeId = changeId;
    this.inRange = new Set(apparatusIds);
    this.phaseTimeoutMs = phaseTimeoutMs;
    this.fenceWaitMs = fenceWaitMs;
    this.commitTiming = options.commit;
  }

  get done(): boolean {
    return this.state === "done";
  }

  get phase(): State {
    return this.state;
  }

  /** When onTick must be called next: a phase's timeout, the end of the fence wait, or the end of a pause between commits. */
  get deadlineMs(): number | undefined {
    if (this.awaiting.size > 0) return this.phaseStartedMs + this.phaseTimeoutMs;
    if (this.state !== "commit") return undefined;
    if (this.commitStep === "pausing") return this.pauseUntilMs;
    if (this.commitStep === "fence-wait" && this.fencesPending.size === 0) return this.lastFenceRecordedMs + this.fenceWaitMs;
    return undefined;
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

  /** An effect's result; `silent` when it got no answer (it may still have happened). */
  onEffect(effect: EffectKind, ok: boolean, message: string, nowMs: number, silent = false): Command[] {
    assert.equal(this.state, effect, `effect ${effect} reported in phase ${this.state}`);
    return this.afterCommitWrite(ok, message, silent, nowMs);
  }

  /** The device recorded (ok) or refused a fence this change sent. */
  onFenced(apparatusId: string, ok: boolean, message: string, nowMs: number): Command[] {
    if (!this.fencesPending.delete(apparatusId)) return [];
    this.lastFenceRecordedMs = Math.max(this.lastFenceRecordedMs, nowMs);
    if (!ok) this.fenceFailure ||= `the device did not record the fencing of ${apparatusId}: ${message}`;
    if (this.state !== "commit" || this.commitStep !== "fence-wait" || this.fencesPending.size > 0) return [];
    return this.afterFences(nowMs);
  }

  /** The stored generation, read after a commit got no answer; undefined if that read got none either. */
  onStoredGeneration(generation: number | undefined, nowMs: number): Command[] {
    const timing = this.commitTiming;
    assert.ok(this.state === "commit" && this.commitStep === "checking" && timing !== undefined, `a stored generation in phase ${this.state}`);
    if (generation === timing.generation) return this.committed(nowMs);
    if (generation !== undefined && generation !== timing.baseGeneration) {
      return this.commitFailed(`${this.lastCommitError} (the table moved on to generation ${generation} without this change)`, nowMs);
    }
    if (nowMs >= this.commitDeadlineMs) return this.commitFailed(this.lastCommitError, nowMs);
    this.commitStep = "pausing";
    this.pauseUntilMs = nowMs + timing.retryPauseMs;
    return [];
  }

  /** Phase timeout: whoever has not reported leaves the control range (claim 3). Also the commit's own timers. */
  onTick(nowMs: number): Command[] {
    const deadline = this.deadlineMs;
    if (deadline === undefined || nowMs < deadline) return [];
    if (this.state === "commit") return this.commitStep === "fence-wait" ? this.afterFences(nowMs) : this.writeCommit(nowMs);
    const phase = this.state as MessagePhase;
    const commands: Command[] = [];
    for (const apparatusId of this.awaiting) {
      this.inRange.delete(apparatusId);
      this.fenced.push(apparatusId);
      this.fencesPending.add(apparatusId);
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
        return this.enterMessagePhase("apply", nowMs);
      case "apply":
        if (this.failure !== "") return this.enterMessagePhase("abort", nowMs);
        return this.enterCommit(nowMs);
      case "release":
        return this.failure === "" ? this.finish("committed", "", nowMs) : this.finish("aborted", this.failure, nowMs);
      case "abort":
        return this.enterMessagePhase("release", nowMs);
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

  /**
   * claim 3: the commit waits until every apparatus this change fenced has
   * stopped serving the old mapping; claim 1 / DESIGN step 3: then the one
   * store write that is the commit point.
   */
  private enterCommit(nowMs: number): Command[] {
    this.state = "commit";
    this.phases.push({ phase: "commit", startedAtMs: nowMs, endedAtMs: undefined });
    this.commitStep = "fence-wait";
    if (this.fenced.length === 0) return this.writeCommit(nowMs);
    return this.fencesPending.size === 0 ? this.afterFences(nowMs) : [];
  }

  private afterFences(nowMs: number): Command[] {
    if (this.fenceFailure !== "") return this.commitFailed(this.fenceFailure, nowMs);
    return nowMs >= this.lastFenceRecordedMs + this.fenceWaitMs ? this.writeCommit(nowMs) : [];
  }

  private writeCommit(nowMs: number): Command[] {
    if (this.commitStep === "fence-wait") this.commitDeadlineMs = nowMs + (this.commitTiming?.outcomeWaitMs ?? 0);
    this.commitStep = "writing";
    return [{ kind: "effect", effect: "commit" }];
  }

  private afterCommitWrite(ok: boolean, message: string, silent: boolean, nowMs: number): Command[] {
    assert.equal(this.commitStep, "writing", `a commit result while ${this.commitStep}`);
    if (ok) return this.committed(nowMs);
    this.lastCommitError = message;
    // After a write nobody answered, a refusal may be the store turning away a second copy of a commit that
    // landed (its base generation is gone): only the stored generation tells.
    this.commitMayHaveLanded ||= silent;
    if (!this.commitMayHaveLanded || this.commitTiming === undefined) return this.commitFailed(message, nowMs);
    this.commitStep = "checking";
    return [{ kind: "check-commit" }];
  }

  private committed(nowMs: number): Command[] {
    this.endPhase(nowMs);
    return this.enterMessagePhase("release", nowMs);
  }

  private commitFailed(message: string, nowMs: number): Command[] {
    this.endPhase(nowMs);
    this.failure = `commit failed: ${message}`;
    return this.enterMessagePhase("abort", nowMs);
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
