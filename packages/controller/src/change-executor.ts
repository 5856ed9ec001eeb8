/**
 * Runs planned changes: zeroes new areas, drives the change-control core
 * (ChangeRun) over the Apparatus gRPC service, commits to the configuration
 * store (the commit point), and keeps
 * the change journal. One change at a time: the caller serializes.
 */
import {
  type ChangeInfo,
  type ChangeState,
  type JournalEntry,
  type JournalEntry__Output,
  type StoreDelta,
} from "@switchyard/proto";
import type { ChangePlan } from "./change-plans.js";
import { ChangeRun, type MessagePhase } from "./change-run.js";
import { driveChange, type ChangeEffects, type ChangePortsDecorator, type PhaseAnswer } from "./change-driver.js";
import type { CancelTimer, Scheduler } from "./scheduler.js";
import type { Entropy, Warn } from "./environment.js";
import { ChangePhaseLog, type ChangeLogger } from "./change-log.js";
import type { ApparatusPort } from "./apparatus-port.js";
import { isSilence, refusalMessage } from "./call-errors.js";

/**
 * How long a commit whose answer was lost is asked about and tried again (a
 * device restart takes seconds) before the change gives up on it.
 */
export const commitOutcomeWaitMs = 30_000;
/** Pause between those tries. */
export const commitRetryPauseMs = 250;

/** Default phase timeout: an apparatus silent this long in one phase is fenced (claim 3). */
export const phaseTimeoutMsDefault = 2_000;
/** Journal entries the store keeps: the newest, for `change list`. The store trims to it. */
export { journalEntriesMax } from "@switchyard/proto";
/**
 * A committed change's final record (its release and end) waits this long
 * for the next commit to carry it, and is written by itself after that.
 * Written at once, it cost the device an append with its fdatasync and a
 * call, a quarter of a move's CPU across the processes (pnpm bench:pause),
 * while the commit record already holds the outcome.
 */
export const finalRecordDelayMs = 1_000;

export interface ControlledApparatus {
  readonly id: string;
  /** Hold, Apply, Release and Abort go through it. */
  readonly port: ApparatusPort;
}

export interface ChangeExecutorOptions {
  readonly phaseTimeoutMs: number;
  /** The apparatuses in the control range now (not fenced). */
  readonly controlRange: () => readonly ControlledApparatus[];
  /** Removes an apparatus from the control range; resolves once the device refuses its renewals. */
  readonly fence: (apparatusId: string, epoch: number) => Promise<void>;
  /** The lease apparatuses hold: a fenced one has stopped serving this long after its fence. */
  readonly apparatusLeaseMs: number;
  /** Appends to the configuration store: a commit (diff and journal entry) under its change's epoch, or a journal update. */
  readonly commitDelta: (delta: StoreDelta, changeEpoch?: number) => Promise<void>;
  /**
   * Runs `work` in its turn among the controller's store writes. The timed
   * write of waiting final records goes through it: appended between the
   * read and the write of a whole-store update (`device add-external`, say),
   * it would make that write's sequence stale.
   */
  readonly serialize: (work: () => Promise<void>) => Promise<void>;
  /** The stored table's generation: whether a commit whose answer was lost took place. */
  readonly storeGeneration: () => Promise<number>;
  /** The controller's own apparatus, if it runs in one: told to `decoratePorts`. */
  readonly selfId?: string;
  /** Wraps the ports each change runs over (change-driver.ts); the ports as they are if absent. */
  readonly decoratePorts?: ChangePortsDecorator;
  /** Where each change's phases are logged, one line each (change-log.ts); none if absent. */
  readonly logger?: ChangeLogger;
  /** The clock and timers of every change. */
  readonly scheduler: Scheduler;
  /** Where change ids get their random part. */
  readonly entropy: Entropy;
  readonly warn: Warn;
}

export class ChangeExecutor {
  private readonly options: ChangeExecutorOptions;
  private readonly running = new Map<string, { run: ChangeRun; plan: ChangePlan; epoch: number; startedAtMs: number }>();
  /** Final records of committed changes the store does not have yet, oldest first (recordLater). */
  private readonly unrecorded: JournalEntry[] = [];
  private cancelFinalRecordTimer: CancelTimer | undefined;

  constructor(options: ChangeExecutorOptions) {
    this.options = options;
  }

  async run(plan: ChangePlan, epoch: number): Promise<ChangeInfo> {
    const changeId = `${plan.kind}-${plan.baseGeneration + 1}-${this.options.entropy.hex(3)}`;
    const range = this.options.controlRange();
    const run = new ChangeRun(changeId, range.map((peer) => peer.id), this.options.phaseTimeoutMs, {
      // claim 3: a fenced apparatus stops serving a lease after the device refuses its renewals (contact-lease.ts).
      fenceWaitMs: this.options.apparatusLeaseMs,
      commit: { baseGeneration: plan.baseGeneration, generation: plan.baseGeneration + 1, outcomeWaitMs: commitOutcomeWaitMs, retryPauseMs: commitRetryPauseMs },
    });
    const startedAtMs = this.options.scheduler.now();
    this.running.set(changeId, { run, plan, epoch, startedAtMs });
    const peers = new Map(range.map((peer) => [peer.id, peer]));
    let committed: JournalEntry | undefined;
    const log = this.options.logger === undefined ? undefined : new ChangePhaseLog(this.options.logger, run, { kind: plan.kind, summary: plan.summary, epoch, baseGeneration: plan.baseGeneration });
    const ports: ChangeEffects = {
      stepped: () => log?.stepped(),
      send: (phase, apparatusId) => this.send(peers.get(apparatusId), phase, changeId, epoch, plan),
      effect: async () => {
        committed = this.entry(changeId, plan, run, epoch, startedAtMs, "CHANGE_STATE_COMMITTED", "");
        // claim 1 / DESIGN step 3: the commit point is this one store write.
        // claim 2: it carries the diff, so its cost does not grow with the
        // table; the store refuses it unless the stored generation is still
        // the plan's base. It also carries earlier changes' final records.
        // The core waits out fences first and tries again when no answer came.
        await this.carryingWaiting((earlier) => this.options.commitDelta({ diff: plan.diff, journal_entry: committed, earlier_journal_entries: earlier }, epoch));
      },
      isSilence,
      storedGeneration: () => this.options.storeGeneration(),
      fence: async (apparatusId) => {
        try {
          await this.options.fence(apparatusId, epoch);
        } catch (error: unknown) {
          // Before the commit point the core aborts for it; after it, there is no commit to hold back: still say so.
          this.options.warn(`change ${changeId}: the device did not record the fencing of ${apparatusId}: ${String(error)}`);
          throw error;
        }
      },
    };
    const decorate = this.options.decoratePorts;
    const context = { changeId, apparatusIds: range.map((peer) => peer.id), selfId: this.options.selfId };
    const result = await driveChange(run, decorate === undefined ? ports : decorate(ports, context), this.options.scheduler);
    this.running.delete(changeId);
    log?.finished(result.outcome, result.message, this.options.scheduler.now() - startedAtMs);
    const outcome: ChangeState = result.outcome === "committed" ? "CHANGE_STATE_COMMITTED" : "CHANGE_STATE_ABORTED";
    const final = this.entry(changeId, plan, run, epoch, startedAtMs, outcome, result.message);
    final.ended_at_ms = Math.round(this.options.scheduler.now());
    // An abort has no commit record: its final record is the only one, written now.
    if (outcome === "CHANGE_STATE_COMMITTED") this.recordLater(final);
    else await this.record(final);
    return infoOf(final);
  }

  /** Committed changes whose final records the store does not have yet, as the console shows them. */
  unrecordedChanges(): ChangeInfo[] {
    return this.unrecorded.map(infoOf);
  }

  /** Writes the final records still waiting; at the controller's close. */
  async flushFinalRecords(): Promise<void> {
    this.cancelFinalRecordTimer?.();
    this.cancelFinalRecordTimer = undefined;
    if (this.unrecorded.length === 0) return;
    try {
      await this.carryingWaiting((waiting) => this.options.commitDelta({ journal_entry: waiting.at(-1), earlier_journal_entries: waiting.slice(0, -1) }));
    } catch (error) {
      this.options.warn(`could not record the final journal entries of ${this.unrecorded.map((entry) => entry.change_id ?? "").join(", ")}: ${String(error)}`);
    }
  }

  /**
   * Runs `write` with every final record waiting, for it to carry; gives them
   * back if it fails, so the next commit or record carries them instead.
   */
  private async carryingWaiting(write: (waiting: JournalEntry[]) => Promise<void>): Promise<void> {
    const waiting = this.unrecorded.splice(0);
    try {
      await write(waiting);
    } catch (error) {
      this.unrecorded.unshift(...waiting);
      throw error;
    }
  }

  /**
   * Queues a committed change's final record for the next commit, or for
   * finalRecordDelayMs from now. Few ever wait: every commit, and every
   * abort's record, takes all there are.
   */
  private recordLater(final: JournalEntry): void {
    this.unrecorded.push(final);
    // A controller closing without flushFinalRecords loses them; the system scheduler's timers keep no process up.
    const { scheduler } = this.options;
    this.cancelFinalRecordTimer ??= scheduler.at(scheduler.now() + finalRecordDelayMs, () => {
      this.cancelFinalRecordTimer = undefined;
      void this.options.serialize(() => this.flushFinalRecords());
    });
  }

  /** Stops the final-record timer; records still waiting are lost (flushFinalRecords first to keep them). */
  close(): void {
    this.cancelFinalRecordTimer?.();
    this.cancelFinalRecordTimer = undefined;
  }

  /** Rewrites (or appends) the change's journal entry with its final phases, and any waiting; best effort, the commit already stands. */
  private async record(entry: JournalEntry): Promise<void> {
    try {
      await this.carryingWaiting((earlier) => this.options.commitDelta({ journal_entry: entry, earlier_journal_entries: earlier }));
    } catch (error) {
      this.options.warn(`change ${entry.change_id ?? ""}: could not record its journal entry: ${String(error)}`);
    }
  }

  private entry(changeId: string, plan: ChangePlan, run: ChangeRun, epoch: number, startedAtMs: number, state: ChangeState, message: string): JournalEntry {
    return {
      change_id: changeId,
      kind: plan.kind,
      summary: plan.summary,
      state,
      base_generation: plan.baseGeneration,
      epoch,
      started_at_ms: Math.round(startedAtMs),
      ended_at_ms: 0,
      diff: plan.diff,
      message,
      phases: run.phases.map((phase) => ({
        phase: phase.phase,
        started_at_ms: Math.round(phase.startedAtMs),
        elapsed_ms: phase.endedAtMs === undefined ? 0 : Math.round(phase.endedAtMs - phase.startedAtMs),
      })),
      reports: run.reports.map((report) => ({ phase: report.phase, apparatus_id: report.apparatusId, ok: report.ok, message: report.message, elapsed_ms: Math.round(report.elapsedMs) })),
      fenced: [...run.fenced],
      hold_mode: plan.holdMode,
    };
  }

  /** Changes in progress, as the console shows them. */
  runningChanges(): ChangeInfo[] {
    return Array.from(this.running.entries(), ([changeId, entry]) =>
      infoOf(this.entry(changeId, entry.plan, entry.run, entry.epoch, entry.startedAtMs, "CHANGE_STATE_RUNNING", `in phase ${entry.run.phase}`)),
    );
  }

  private async send(peer: ControlledApparatus | undefined, phase: MessagePhase, changeId: string, epoch: number, plan: ChangePlan): Promise<PhaseAnswer> {
    if (peer === undefined) return undefined;
    // The phase timeout bounds each message, as the unary call's deadline did.
    const timeoutMs = this.options.phaseTimeoutMs;
    const control = peer.port;
    try {
      switch (phase) {
        case "hold": {
          const report = await control.hold({ change_id: changeId, epoch, base_generation: plan.baseGeneration, ranges: [...plan.holdRanges], mode: plan.holdMode }, timeoutMs);
          // Under HOLD_MODE_NONE a Hold neither gates nor drains: the Apply waits for the requests admitted before it.
          if (plan.holdMode === "HOLD_MODE_NONE") return { ok: true, message: "held nothing; its Apply drains" };
          return { ok: true, message: `drained ${report.drained_requests} requests in ${report.drain_ms} ms` };
        }
        case "apply":
          await control.apply({ change_id: changeId, epoch, diff: plan.diff }, timeoutMs);
          break;
        case "release":
          await control.release({ change_id: changeId, epoch }, timeoutMs);
          break;
        case "abort":
          await control.abort({ change_id: changeId, epoch }, timeoutMs);
          break;
      }
      return { ok: true, message: "" };
    } catch (error) {
      if (isSilence(error)) return undefined;
      return { ok: false, message: refusalMessage(error) };
    }
  }
}

/** A journal entry as the console sees a change. */
export function infoOf(entry: JournalEntry | JournalEntry__Output): ChangeInfo {
  return {
    id: entry.change_id ?? "",
    kind: entry.kind ?? "",
    summary: entry.summary ?? "",
    state: entry.state ?? "CHANGE_STATE_UNSPECIFIED",
    base_generation: entry.base_generation ?? 0,
    epoch: entry.epoch ?? 0,
    started_at_ms: entry.started_at_ms ?? 0,
    ended_at_ms: entry.ended_at_ms ?? 0,
    phases: entry.phases ?? [],
    reports: entry.reports ?? [],
    fenced: entry.fenced ?? [],
    message: entry.message ?? "",
    copy_progress: entry.copy_progress ?? [],
    copied_bytes: (entry.copy_progress ?? []).reduce((sum, row) => sum + Number(row.watermark_bytes ?? 0), 0),
    hole_bytes_skipped: (entry.copy_progress ?? []).reduce((sum, row) => sum + Number(row.hole_bytes_skipped ?? 0), 0),
    chunks_copied_again: (entry.copy_progress ?? []).reduce((sum, row) => sum + Number(row.chunks_copied_again ?? 0), 0),
    total_bytes: Number(entry.total_bytes ?? 0),
    hold_mode: entry.hold_mode ?? "HOLD_MODE_UNSPECIFIED",
  };
}
