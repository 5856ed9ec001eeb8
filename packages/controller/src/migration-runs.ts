/**
 * The migrations and moves one controller runs (migration.ts runs each):
 * starting them journaled, resuming those the journal shows running (after
 * a takeover, or after one stopped on an error), cancelling, and the
 * device's mirrors and changes they run over. One copy engine (DESIGN.md
 * "Online migration"): every extent goes mirror -> device copy -> switch,
 * between two external devices in two such hops through a device LU.
 */
import assert from "node:assert/strict";
import type { ChangeInfo, CopyProgressRow, JournalEntry, Mirror__Output, StoreState__Output } from "@switchyard/proto";
import { isSilence, isStoreWriteRefused, refusalMessage } from "./call-errors.js";
import { freeAreaCount, usedAreaMaps } from "./allocation.js";
import { planMirror, planMirrorEnd, type ChangePlan } from "./change-plans.js";
import type { DevicePort } from "./device-port.js";
import type { Entropy, Warn } from "./environment.js";
import { ControllerError } from "./errors.js";
import { MigrationRun, moveSummary, planMigration, planMoveMigration, type DeviceMirrorEffects, type MigrationRequest, type StagingLu } from "./migration.js";
import type { MirrorReport, Placement } from "./mirrored-copy.js";
import { sleepOn, type Scheduler } from "./scheduler.js";
import type { TableKeeper } from "./table-keeper.js";

type MigrationEntry = JournalEntry & { copy_progress: CopyProgressRow[] };

export interface MigrationRunsOptions {
  readonly controllerId: string;
  readonly device: DevicePort;
  readonly table: TableKeeper;
  /** Runs a change planned from `state` (the table keeper's committed table). */
  readonly runChange: (state: StoreState__Output, plan: ChangePlan) => Promise<ChangeInfo>;
  /** Runs `work` in its turn among the controller's table operations. */
  readonly serialized: <T>(work: () => Promise<T>) => Promise<T>;
  /** The epoch this controller acts under, or NOT_CONTROLLER. */
  readonly epoch: () => number;
  readonly isLeader: () => boolean;
  readonly scheduler: Scheduler;
  readonly entropy: Entropy;
  readonly warn: Warn;
}

export class MigrationRuns {
  private readonly runs = new Map<string, { readonly run: MigrationRun; readonly done: Promise<void> }>();
  /** One stopped on an error other than a lost lease, or its start went unanswered: resumeStopped() looks. */
  private stopped = false;

  constructor(private readonly options: MigrationRunsOptions) {}

  /** The running ones, as the console shows them. */
  infos(): ChangeInfo[] {
    return Array.from(this.runs.values(), (migration) => migration.run.info());
  }

  /**
   * Migrations the journal shows running go on from their copy progress
   * table. A row a predecessor was moving starts again; if its move had
   * committed, moveExtent finds the extent on the target and counts it moved.
   */
  resume(state: StoreState__Output): void {
    for (const journaled of state.journal) {
      if ((journaled.kind !== "migrate" && journaled.kind !== "move") || journaled.state !== "CHANGE_STATE_RUNNING" || this.runs.has(journaled.change_id)) continue;
      const extentSizeBytes = state.lus.find((lu) => lu.id === journaled.target_lu_id)?.extent_size_bytes ?? 0;
      // Rows left copying stay so: the engine asks the table where each extent is.
      this.start({ ...journaled, copy_progress: journaled.copy_progress.map((row) => ({ ...row })) }, extentSizeBytes, state);
    }
  }

  /** Those that stopped on an error while this controller kept the lease go on from the journal. */
  async resumeStopped(): Promise<void> {
    if (!this.stopped) return;
    await this.options.serialized(() => this.reconcile());
  }

  /**
   * In the queue: once a run stopped or a start went unanswered, the journal
   * is read again and what it shows running goes on, so that this.runs is
   * every migration the journal has running before a new one is planned.
   */
  private async reconcile(): Promise<void> {
    if (!this.stopped) return;
    const { state } = await this.options.table.read({ omitExtents: true });
    this.stopped = false;
    this.resume(state);
  }

  /**
   * NOT_CONTROLLER before anything else: a deposed controller may still list
   * a run it started (it learns of the loss at its next store write), and
   * "extent 0 is being moved" would send the operator after a run its
   * successor now owns (seen in CI: a controller resumed after SIGSTOP).
   */
  private checkLeader(): void {
    this.options.epoch();
  }

  /**
   * One migration at a time per extent: two would each mirror, copy and
   * switch it from what they last saw, and one could switch it onto an area
   * nothing was copied to (the cluster simulator found two moves of one
   * extent after a start's answer was lost, and hosts read zeros).
   */
  private checkNotMoving(volume: string, extents: readonly number[]): void {
    for (const { run } of this.runs.values()) {
      const row = run.entry.copy_progress.find((candidate) => candidate.volume === volume && candidate.state !== "done" && extents.includes(candidate.extent_index ?? 0));
      if (row === undefined) continue;
      throw new ControllerError("FAILED_PRECONDITION", `extent ${row.extent_index ?? 0} of ${volume} is being moved by ${run.id}: watch it ('switchyard change watch ${run.id}') or cancel it ('switchyard migrate cancel ${run.id}') first`);
    }
  }

  /** `migrate`: starts moving a volume's extents to another LU, and answers at once with the migration's id and progress table. */
  submitMigrate(request: MigrationRequest): Promise<ChangeInfo> {
    return this.options.serialized(async () => {
      this.checkLeader();
      await this.reconcile();
      const { state } = await this.options.table.read({ omitJournal: true });
      // The LU as the store names it: `ext1` or `dev0:lu1` given, `ext1:disk` or `lu1` kept.
      const { rows, extentSizeBytes, targetLuId } = planMigration(state, request);
      this.checkNotMoving(request.volume, rows.map((row) => row.extent_index ?? 0));
      const summary = `migrate ${rows.length} extent${rows.length === 1 ? "" : "s"} of ${request.volume} to ${targetLuId}`;
      const entry = this.entry(`migrate-${state.generation}`, "migrate", summary, state, rows, targetLuId, request.rateBytesPerSecond, extentSizeBytes);
      // Recorded before the first extent moves: a controller that dies now leaves a migration its successor resumes.
      await this.journalStart(entry);
      return this.start(entry, extentSizeBytes, state).info();
    });
  }

  /**
   * `volume move`: a migration of one extent. A change puts it in mirror
   * state, the device copies it chunk by chunk, holding only the writes to
   * the chunk it copies, and a change switches it; no write waits for the
   * whole extent's copy. Answers when the move has ended, as the move it is.
   */
  async submitMove(volume: string, extentIndex: number, toLu: string): Promise<ChangeInfo> {
    const run = await this.options.serialized(async () => {
      this.checkLeader();
      await this.reconcile();
      this.checkNotMoving(volume, [extentIndex]);
      const state = await this.options.table.committed();
      const { rows, extentSizeBytes, targetLuId } = planMoveMigration(state, volume, extentIndex, toLu);
      const [row] = rows;
      assert.ok(row !== undefined && rows.length === 1);
      const entry = this.entry(`move-${state.generation + 1}`, "move", moveSummary(row), state, rows, targetLuId, 0, extentSizeBytes);
      // Journaled before it starts, as a migration is: a successor finishes a move its predecessor began.
      await this.journalStart(entry);
      return this.start(entry, extentSizeBytes, state);
    });
    // Outside the queue: the move's own changes take their turns in it.
    await this.runs.get(run.id)?.done;
    const info = run.info();
    if (info.state !== "CHANGE_STATE_RUNNING") return info;
    const follow = `'switchyard change show ${run.id}'`;
    // Stopped mid-move: the journal has it, and this controller (a journal write went unanswered) or its successor (the lease was lost) finishes it.
    if (this.options.isLeader()) return { ...info, message: `the move was interrupted (a store write went unanswered) and goes on: ${follow}` };
    return { ...info, message: `${this.options.controllerId} lost the controller lease; the next controller finishes the move: ${follow}` };
  }

  /** `migrate cancel`: extents already switched stay on the target; the others go back to their sources alone. */
  async cancel(id: string): Promise<ChangeInfo | undefined> {
    const migration = this.runs.get(id);
    if (migration === undefined) return undefined;
    migration.run.cancel();
    await migration.done;
    return migration.run.info();
  }

  /**
   * Writes a migration's first journal entry. Unanswered, it may have been
   * written: resumeStopped() takes it up if so, and the console is told.
   * Refused because the store could not write (isStoreWriteRefused), the
   * migration did not start: ABORTED, with the reason.
   */
  private async journalStart(entry: JournalEntry): Promise<void> {
    try {
      await this.options.table.commit({ journal_entry: entry });
    } catch (error) {
      const id = entry.change_id ?? "";
      if (isStoreWriteRefused(error)) {
        throw new ControllerError("ABORTED", `the configuration store did not take the journal entry that starts ${id}, so nothing started: ${refusalMessage(error)}`, { cause: error });
      }
      if (!isSilence(error)) throw error;
      this.stopped = true;
      throw new ControllerError("UNAVAILABLE", `the device did not answer the journal write that starts ${id}; if it was written, ${id} goes on: 'switchyard change show ${id}'`, { cause: error });
    }
  }

  /** The journal entry of a migration or a move, with its copy progress table. */
  private entry(idPrefix: string, kind: "migrate" | "move", summary: string, state: StoreState__Output, rows: CopyProgressRow[], targetLuId: string, rateBytesPerSecond: number, extentSizeBytes: number): MigrationEntry {
    return {
      change_id: `${idPrefix}-${this.options.entropy.hex(3)}`,
      kind,
      summary,
      state: "CHANGE_STATE_RUNNING",
      base_generation: state.generation,
      epoch: this.options.epoch(),
      started_at_ms: Math.round(this.options.scheduler.now()),
      ended_at_ms: 0,
      message: "",
      phases: [],
      reports: [],
      fenced: [],
      copy_progress: rows,
      target_lu_id: targetLuId,
      rate_bytes_per_second: rateBytesPerSecond,
      total_bytes: rows.length * extentSizeBytes,
    };
  }

  private start(entry: MigrationEntry, extentSizeBytes: number, state: StoreState__Output): MigrationRun {
    const { scheduler, serialized, table } = this.options;
    const external = new Set(state.lus.filter((lu) => lu.external).map((lu) => lu.id));
    const run = new MigrationRun(entry, extentSizeBytes, {
      mirrors: this.mirrorEffects(),
      isExternal: (luId) => external.has(luId),
      stagingLu: () => serialized(async () => stagingLuOf(await table.committed(), extentSizeBytes)),
      // In turn with the other store writes: appended between a whole-store read and write (a volume create
      // during a migration), a progress record made that write's sequence stale. No queued operation awaits
      // a migration (submitMigrate and a takeover start it; cancel waits outside the queue), so this
      // cannot wait on itself.
      persist: (journaled) => serialized(() => table.commit({ journal_entry: journaled })),
      sleep: (ms) => sleepOn(scheduler, ms),
      now: () => scheduler.now(),
    });
    const done = run.run().catch((error: unknown) => {
      // A journal write whose answer was lost, say: the journal still shows it running, and resumeStopped() takes it up.
      this.options.warn(`migration ${run.id} stopped, to be resumed: ${String(error)}`);
      this.stopped = true;
    });
    this.runs.set(run.id, { run, done });
    void done.finally(() => this.runs.delete(run.id));
    return run;
  }

  /** A migration's changes and the device's mirrors (mirrored-copy.ts). */
  private mirrorEffects(): DeviceMirrorEffects {
    const { device, serialized, table, runChange } = this.options;
    return {
      change: (kind, volume, extents, toLuId) => serialized(async () => {
        const state = await table.committed();
        const plan = kind === "mirror" ? planMirror(state, volume, extents, toLuId) : planMirrorEnd(state, volume, extents, kind);
        const info = await runChange(state, plan);
        return { info, rows: plan.diff.rows ?? [] };
      }),
      startMirror: async (row, group, rateBytesPerSecond) => {
        const mirror = {
          volume: row.volume, extent_index: row.extent_index, source_lu_id: row.source_lu_id, source_area_index: row.source_area_index,
          destination_lu_id: row.destination_lu_id, destination_area_index: row.destination_area_index,
          // The device owns the watermark: it keeps its own for a mirror it has, and one it has not
          // (its mirrors.json lost) copies from the start, since writes below a reported watermark
          // may have reached only the source since that report.
          watermark_bytes: 0, group, rate_bytes_per_second: rateBytesPerSecond,
        };
        return mirrorReport(await device.startMirror({ epoch: this.options.epoch(), mirror }));
      },
      listMirrors: async (afterProgress, waitMs) => {
        const listed = await device.listMirrors({ after_progress: afterProgress, wait_ms: waitMs });
        return { reports: listed.mirrors.map(mirrorReport), progress: listed.progress };
      },
      placement: async (volume, extentIndex) => placementOf((await table.read({ omitJournal: true })).state, volume, extentIndex),
    };
  }
}

function mirrorReport(mirror: Mirror__Output): MirrorReport {
  return {
    volume: mirror.volume,
    extentIndex: mirror.extent_index,
    destination: { luId: mirror.destination_lu_id, areaIndex: mirror.destination_area_index },
    watermarkBytes: mirror.watermark_bytes,
    synced: mirror.synced,
    failure: mirror.failure,
    holeBytesSkipped: mirror.hole_bytes_skipped,
    chunksCopiedAgain: mirror.chunks_copied_again,
  };
}

/** Where the committed table has extent `extentIndex` of `volume`. */
function placementOf(state: StoreState__Output, volume: string, extentIndex: number): Placement {
  const columns = state.volumes.find((candidate) => candidate.name === volume)?.extents;
  if (columns === null || columns === undefined) throw new ControllerError("NOT_FOUND", `no volume ${volume}`);
  const luId = (index: number): string => state.lus.find((lu) => lu.index === index)?.id ?? `#${index}`;
  const mirrorPlusOne = columns.mirror_lu_index_plus_one[extentIndex] ?? 0;
  return {
    luId: luId(columns.lu_index[extentIndex] ?? 0),
    areaIndex: columns.area_index[extentIndex] ?? 0,
    mirror: mirrorPlusOne === 0 ? undefined : { luId: luId(mirrorPlusOne - 1), areaIndex: columns.mirror_area_index[extentIndex] ?? 0 },
  };
}

/** The device LU (not an external device's) with the most free areas of `extentSizeBytes`: where an extent between two external devices passes. */
function stagingLuOf(state: StoreState__Output, extentSizeBytes: number): StagingLu | undefined {
  const used = usedAreaMaps(state);
  let best: StagingLu | undefined;
  for (const lu of state.lus) {
    if (lu.external || lu.extent_size_bytes !== extentSizeBytes) continue;
    const freeAreas = freeAreaCount(used.get(lu.index) ?? new Uint8Array());
    if (best === undefined || freeAreas > best.freeAreas) best = { luId: lu.id, freeAreas };
  }
  return best;
}
