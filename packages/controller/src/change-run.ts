/**
 * The change-control loop for one change (claims 1, 3, 6, 9, 18, 20), as a
 * sans-I/O state machine: it takes reports, effect results and the time, and
 * returns what to do next. Sockets, timers and the store belong to the
 * driver (change-driver.ts), so the same core runs in production, in unit
 * tests and in a seeded simulator.
 *
 * hold -> apply and commit at once -> release -> committed
 *   a refused hold, or a failed commit -> abort -> release -> aborted
 * The commit does not wait for the apply round: while every apparatus holds
 * the writes of the range, the old and new areas hold the same bytes, so
 * an apparatus may read either, and flipping faces before or after the
 * store write makes no difference to any host. What must follow both is
 * Release, the first moment a write can land on one area only. This saves
 * a round of the switch, the time hosts' writes to the range wait.
 *   An apparatus that refuses Apply or misses it while the commit lands
 *   is fenced, and Release waits until it has stopped serving (as the
 *   commit waits below): it may still read the old area. If the device
 *   does not record that fence, nothing is released (releaseAfterFences).
 *   When the hold fenced anyone, the commit waits for that (below), so
 *   hold -> apply -> commit -> release, any refusal before the commit
 *   aborting, as before.
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

/** "release-wait": the commit landed beside the apply round, and Release waits for that round's fences. */
type State = MessagePhase | EffectKind | "release-wait" | "done";
/** Where the commit is (see the header): not begun, under way, or decided. */
type CommitStep = "idle" | "fence-wait" | "writing" | "checking" | "pausing" | "landed" | "failed";

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
  private commitStep: CommitStep = "idle";
  /** The commit runs beside the apply round (the hold fenced nobody). */
  private commitWithApply = false;
  /** Apparatuses that refused Apply while the commit ran beside it: fenced if it lands. */
  private readonly applyRefusals: string[] = [];
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
    const deadlines: number[] = [];
    if (this.awaiting.size > 0) deadlines.push(this.phaseStartedMs + this.phaseTimeoutMs);
    if (this.commitStep === "pausing") deadlines.push(this.pauseUntilMs);
    if (this.waitingForFences() && this.fencesPending.size === 0) deadlines.push(this.lastFenceRecordedMs + this.fenceWaitMs);
    return deadlines.length === 0 ? undefined : Math.min(...deadlines);
  }

  /** The commit (sequential), or Release (after a commit beside the apply round), waits for fences to be recorded and a lease. */
  private waitingForFences(): boolean {
    return (this.state === "commit" && this.commitStep === "fence-wait") || this.state === "release-wait";
  }

  start(nowMs: number): Command[] {
    return this.enterMessagePhase("hold", nowMs);
  }

  onReport(apparatusId: string, phase: MessagePhase, ok: boolean, message: string, nowMs: number): Command[] {
    if (phase !== this.state || !this.awaiting.has(apparatusId)) return []; // late or repeated: the phase moved on
    this.awaiting.delete(apparatusId);
    this.reports.push({ phase, apparatusId, ok, message, elapsedMs: nowMs - this.phaseStartedMs });
    if (!ok && phase === "apply" && this.commitWithApply) this.applyRefusals.push(apparatusId);
    else if (!ok && (phase === "hold" || phase === "apply")) this.failure ||= `${apparatusId} refused ${phase}: ${message}`;
    return this.awaiting.size === 0 ? this.afterPhase(nowMs) : [];
  }

  /** An effect's result; `silent` when it got no answer (it may still have happened). */
  onEffect(effect: EffectKind, ok: boolean, message: string, nowMs: number, silent = false): Command[] {
    assert.equal(this.commitStep, "writing", `effect ${effect} reported while the commit is ${this.commitStep}, in phase ${this.state}`);
    return this.afterCommitWrite(ok, message, silent, nowMs);
  }

  /** The device recorded (ok) or refused a fence this change sent. */
  onFenced(apparatusId: string, ok: boolean, message: string, nowMs: number): Command[] {
    if (!this.fencesPending.delete(apparatusId)) return [];
    this.lastFenceRecordedMs = Math.max(this.lastFenceRecordedMs, nowMs);
    if (!ok) this.fenceFailure ||= `the device did not record the fencing of ${apparatusId}: ${message}`;
    if (!this.waitingForFences() || this.fencesPending.size > 0) return [];
    return this.afterFences(nowMs);
  }

  /** The stored generation, read after a commit got no answer; undefined if that read got none either. */
  onStoredGeneration(generation: number | undefined, nowMs: number): Command[] {
    const timing = this.commitTiming;
    assert.ok(this.commitStep === "checking" && timing !== undefined, `a stored generation while the commit is ${this.commitStep}, in phase ${this.state}`);
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
    const commands: Command[] = [];
    if (this.commitStep === "pausing" && nowMs >= this.pauseUntilMs) commands.push(...this.writeCommit(nowMs));
    if (this.awaiting.size > 0) {
      if (nowMs >= this.phaseStartedMs + this.phaseTimeoutMs) commands.push(...this.fenceSilent(nowMs));
    } else if (this.waitingForFences() && this.fencesPending.size === 0 && nowMs >= this.lastFenceRecordedMs + this.fenceWaitMs) {
      commands.push(...this.afterFences(nowMs));
    }
    return commands;
  }

  /** Whoever has not reported in the phase leaves the control range (claim 3). */
  private fenceSilent(nowMs: number): Command[] {
    const phase = this.state as MessagePhase;
    const commands: Command[] = [];
    for (const apparatusId of this.awaiting) {
      commands.push(this.fence(apparatusId, phase));
      this.reports.push({ phase, apparatusId, ok: false, message: `no report within ${this.phaseTimeoutMs} ms: fenced`, elapsedMs: nowMs - this.phaseStartedMs });
    }
    this.awaiting.clear();
    return [...commands, ...this.afterPhase(nowMs)];
  }

  private fence(apparatusId: string, phase: MessagePhase): Command {
    this.inRange.delete(apparatusId);
    this.fenced.push(apparatusId);
    this.fencesPending.add(apparatusId);
    return { kind: "fence", apparatusId, phase };
  }

  private afterPhase(nowMs: number): Command[] {
    this.endPhase(this.state, nowMs);
    switch (this.state) {
      case "hold":
        if (this.failure !== "") return this.enterMessagePhase("abort", nowMs);
        // A fence of the hold must be recorded before the commit: the apply round goes first.
        return this.fenced.length === 0 ? this.enterApplyWithCommit(nowMs) : this.enterMessagePhase("apply", nowMs);
      case "apply":
        if (this.commitWithApply) return this.afterApplyWithCommit(nowMs);
        if (this.failure !== "") return this.enterMessagePhase("abort", nowMs);
        return this.enterCommit(nowMs);
      case "release":
        return this.failure === "" ? this.finish("committed", "", nowMs) : this.finish("aborted", this.failure, nowMs);
      case "abort":
        return this.enterMessagePhase("release", nowMs);
      case "commit":
      case "release-wait":
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

  /** The apply round and the commit at once: the commit write goes out with the Apply messages. */
  private enterApplyWithCommit(nowMs: number): Command[] {
    this.commitWithApply = true;
    this.state = "apply";
    this.phaseStartedMs = nowMs;
    this.phases.push({ phase: "apply", startedAtMs: nowMs, endedAtMs: undefined });
    this.phases.push({ phase: "commit", startedAtMs: nowMs, endedAtMs: undefined });
    const commit = this.writeCommit(nowMs);
    this.awaiting = new Set(this.inRange);
    if (this.awaiting.size === 0) return [...commit, ...this.afterPhase(nowMs)];
    return [{ kind: "send", phase: "apply", apparatusIds: [...this.awaiting] }, ...commit];
  }

  /** The apply round ended beside the commit: go on once the commit is decided. */
  private afterApplyWithCommit(nowMs: number): Command[] {
    switch (this.commitStep) {
      case "landed":
        return this.releaseAfterCommit(nowMs);
      case "failed":
        return this.enterMessagePhase("abort", nowMs);
      default:
        this.state = "commit";
        return [];
    }
  }

  /**
   * The commit landed beside the apply round: whoever refused Apply is
   * fenced now, and Release waits, as the commit would have, until every
   * apparatus fenced in the round has stopped serving the old mapping.
   */
  private releaseAfterCommit(nowMs: number): Command[] {
    const fences = this.applyRefusals.filter((apparatusId) => this.inRange.has(apparatusId)).map((apparatusId) => this.fence(apparatusId, "apply"));
    if (this.fenced.length === 0) return this.enterMessagePhase("release", nowMs);
    this.state = "release-wait";
    return [...fences, ...(this.fencesPending.size === 0 ? this.afterFences(nowMs) : [])];
  }

  private afterFences(nowMs: number): Command[] {
    if (this.state !== "release-wait" && this.fenceFailure !== "") return this.commitFailed(this.fenceFailure, nowMs);
    if (nowMs < this.lastFenceRecordedMs + this.fenceWaitMs) return [];
    return this.state === "release-wait" ? this.releaseAfterFences(nowMs) : this.writeCommit(nowMs);
  }

  /**
   * After a commit that landed, a fence the device did not record leaves an
   * apparatus that may still read the old area, so nothing is released: at
   * each apparatus's hold deadline its held writes fail and it stops serving
   * the volume, and the controller's membership probe, finding the volume
   * shut, loads the table into it (membership.ts).
   */
  private releaseAfterFences(nowMs: number): Command[] {
    if (this.fenceFailure === "") return this.enterMessagePhase("release", nowMs);
    const message = `committed and not released: ${this.fenceFailure}, which may still read the old area; held writes fail at each apparatus's hold deadline, and the table is loaded again`;
    return this.finish("committed", message, nowMs);
  }

  private writeCommit(nowMs: number): Command[] {
    if (this.commitStep === "fence-wait" || this.commitStep === "idle") this.commitDeadlineMs = nowMs + (this.commitTiming?.outcomeWaitMs ?? 0);
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
    this.commitStep = "landed";
    this.endPhase("commit", nowMs);
    if (this.state === "apply") return []; // the apply round decides when it ends
    return this.commitWithApply ? this.releaseAfterCommit(nowMs) : this.enterMessagePhase("release", nowMs);
  }

  private commitFailed(message: string, nowMs: number): Command[] {
    this.commitStep = "failed";
    this.endPhase("commit", nowMs);
    this.failure = `commit failed: ${message}`;
    if (this.state === "apply") return [];
    return this.enterMessagePhase("abort", nowMs);
  }

  /** Ends the last record of `phase`, if it is still open: the apply round and the commit may overlap. */
  private endPhase(phase: State, nowMs: number): void {
    const record = this.phases.findLast((candidate) => candidate.phase === phase);
    if (record !== undefined && record.endedAtMs === undefined) record.endedAtMs = nowMs;
  }

  private finish(outcome: Outcome, message: string, nowMs: number): Command[] {
    this.endPhase("release", nowMs);
    this.state = "done";
    return [{ kind: "finished", outcome, message }];
  }
}
