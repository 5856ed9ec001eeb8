/**
 * Online migration of a volume's extents to another LU (claims 5, 14, 17),
 * while hosts go on. `volume move` is a migration of one extent, run by
 * this same engine (DESIGN.md "Online migration": one copy engine). When a device of ours has the sources, the copy runs
 * in mirror state (mirrored-copy.ts: that device mirrors and copies, onto its
 * own LU or an external device's, and changes switch batches); off an
 * external device each extent moves by one change whose copy the controller
 * streams while the extent's writes are held, one extent after another under
 * a rate limit. The copy progress table (claim 14) is the
 * migration's journal entry: one row per extent, persisted as it goes, so a
 * new controller resumes where the old one stopped.
 */
import { ControllerError } from "./errors.js";
import { isLeaseLost, isPermanentRefusal, stepAttemptsMax, stepRetryPauseMs } from "./migration-retry.js";
import { freeAreaCount, usedAreaMaps } from "./allocation.js";
import type { ChangeInfo, CopyProgressRow, JournalEntry, StoreState__Output } from "@switchyard/proto";
import { infoOf } from "./change-executor.js";
import { MigrationFailure, MirroredCopy, type MirrorEffects } from "./mirrored-copy.js";
import { requireLu } from "./external-devices.js";

/** Row states of the copy progress table. */
export type CopyRowState = "pending" | "copying" | "done" | "failed";

export interface MigrationRequest {
  readonly volume: string;
  readonly toLuId: string;
  readonly firstExtent: number;
  /** Exclusive; 0 means to the last extent. */
  readonly endExtent: number;
  /** 0: no limit. */
  readonly rateBytesPerSecond: number;
}

/** The rows a migration of `request` starts with: the extents in range not on the target yet. */
export function planMigration(state: StoreState__Output, request: MigrationRequest): { rows: CopyProgressRow[]; extentSizeBytes: number; targetLuId: string } {
  const volume = state.volumes.find((candidate) => candidate.name === request.volume);
  if (volume?.extents === null || volume === undefined) throw new ControllerError("NOT_FOUND", `no volume ${request.volume}`);
  const target = requireLu(state, request.toLuId);
  if (target.extent_size_bytes !== volume.extent_size_bytes) {
    throw new ControllerError("FAILED_PRECONDITION", `${target.id} has ${target.extent_size_bytes}-byte areas; ${volume.name} has ${volume.extent_size_bytes}-byte extents`);
  }
  const extentCount = volume.extents.lu_index.length;
  const end = request.endExtent === 0 ? extentCount : request.endExtent;
  if (request.firstExtent >= end || end > extentCount) {
    throw new ControllerError("OUT_OF_RANGE", `volume ${volume.name} has extents 0 to ${extentCount - 1}; ${request.firstExtent}-${end - 1} is not a range of them`);
  }
  const luId = (index: number): string => state.lus.find((lu) => lu.index === index)?.id ?? `#${index}`;
  const rows: CopyProgressRow[] = [];
  for (let extent = request.firstExtent; extent < end; extent += 1) {
    const luIndex = volume.extents.lu_index[extent] ?? 0;
    if (luIndex === target.index) continue;
    rows.push({
      volume: volume.name,
      extent_index: extent,
      source_lu_id: luId(luIndex),
      source_area_index: volume.extents.area_index[extent] ?? 0,
      destination_lu_id: target.id,
      destination_area_index: 0,
      watermark_bytes: 0,
      state: "pending",
    });
  }
  if (rows.length === 0) throw new ControllerError("FAILED_PRECONDITION", `every extent of ${volume.name} in that range is on ${target.id} already`);
  const free = freeAreaCount(usedAreaMaps(state).get(target.index) ?? new Uint8Array());
  if (free < rows.length) {
    throw new ControllerError("NO_SPACE", `${target.id} has ${free} free area${free === 1 ? "" : "s"}; moving ${rows.length} extents of ${volume.name} needs ${rows.length}: free some, or migrate fewer with --extents`);
  }
  return { rows, extentSizeBytes: volume.extent_size_bytes, targetLuId: target.id };
}

/**
 * The row a `volume move` of one extent starts with: the checks and messages
 * a move always had (an extent out of range, an LU unknown or with areas of
 * another size, an extent already there).
 */
export function planMoveMigration(state: StoreState__Output, name: string, extentIndex: number, toLuId: string): { rows: CopyProgressRow[]; extentSizeBytes: number; targetLuId: string } {
  const volume = state.volumes.find((candidate) => candidate.name === name);
  if (volume?.extents === null || volume === undefined) throw new ControllerError("NOT_FOUND", `no volume ${name}`);
  const extentCount = volume.extents.lu_index.length;
  if (!Number.isInteger(extentIndex) || extentIndex < 0 || extentIndex >= extentCount) {
    throw new ControllerError("OUT_OF_RANGE", `volume ${name} has extents 0 to ${extentCount - 1}, not ${extentIndex}`);
  }
  const target = requireLu(state, toLuId);
  const sourceArea = volume.extents.area_index[extentIndex] ?? 0;
  if (volume.extents.lu_index[extentIndex] === target.index) {
    throw new ControllerError("FAILED_PRECONDITION", `extent ${extentIndex} of ${name} is already on ${target.id} (area ${sourceArea})`);
  }
  if ((volume.extents.mirror_lu_index_plus_one[extentIndex] ?? 0) !== 0) {
    throw new ControllerError("FAILED_PRECONDITION", `extent ${extentIndex} of ${name} is being moved already (a migration has it in mirror state)`);
  }
  return planMigration(state, { volume: name, toLuId, firstExtent: extentIndex, endExtent: extentIndex + 1, rateBytesPerSecond: 0 });
}

/** A move's summary, with the destination area once the mirror change has taken it. */
export function moveSummary(row: CopyProgressRow, destinationKnown: boolean): string {
  const destination = destinationKnown ? `${row.destination_lu_id ?? ""}:${row.destination_area_index ?? 0}` : row.destination_lu_id ?? "";
  return `move extent ${row.extent_index ?? 0} of ${row.volume ?? ""} from ${row.source_lu_id ?? ""}:${row.source_area_index ?? 0} to ${destination}`;
}

/** The device's part of a copy in mirror state (mirrored-copy.ts); the rest comes from the migration. */
export type DeviceMirrorEffects = Pick<MirrorEffects, "change" | "startMirror" | "listMirrors" | "placement">;

/**
 * What a migration needs from the controller: the progress persisted, time,
 * and a way to move extents. With `mirrors`, the device that has the
 * sources mirrors and copies them (offload); without, each extent moves by
 * one change whose copy holds its writes.
 */
export interface MigrationEffects {
  readonly mirrors?: DeviceMirrorEffects;
  /** Moves one extent by a change; its destination area when it committed. */
  moveExtent(volume: string, extentIndex: number, toLuId: string): Promise<{ info: ChangeInfo; destinationAreaIndex: number }>;
  persist(entry: JournalEntry): Promise<void>;
  sleep(ms: number): Promise<void>;
  now(): number;
}

/** One running migration: its journal entry (with the progress table) and the loop that moves its extents. */
export class MigrationRun {
  readonly entry: JournalEntry & { copy_progress: CopyProgressRow[] };
  private readonly extentSizeBytes: number;
  private cancelRequested = false;
  /** Bytes moved by this run (not by a predecessor's), and when it began: the rate limit's account. */
  private movedBytes = 0;
  private readonly startedMs: number;

  constructor(entry: JournalEntry & { copy_progress: CopyProgressRow[] }, extentSizeBytes: number, private readonly effects: MigrationEffects) {
    this.entry = entry;
    this.extentSizeBytes = extentSizeBytes;
    this.startedMs = effects.now();
  }

  get id(): string {
    return this.entry.change_id ?? "";
  }

  cancel(): void {
    this.cancelRequested = true;
  }

  /** The migration as the console shows it, with its progress table. */
  info(): ChangeInfo {
    return infoOf(this.entry);
  }

  /** Moves every pending extent; resolves when the migration ended, failed, was cancelled, or the lease was lost. */
  async run(): Promise<void> {
    if (this.effects.mirrors !== undefined) return this.runMirrored(this.effects.mirrors);
    for (const row of this.entry.copy_progress) {
      if (row.state === "done") continue;
      if (this.cancelRequested) return this.finish("CHANGE_STATE_CANCELLED", "cancelled: extents not yet moved stay on their sources");
      try {
        await this.moveRow(row);
      } catch (error) {
        if (isLeaseLost(error)) return;
        row.state = "failed";
        return this.finish("CHANGE_STATE_FAILED", `extent ${row.extent_index}: ${error instanceof Error ? error.message : String(error)}; the extents not moved stay on their sources`);
      }
      await this.effects.persist(this.entry);
      await this.keepRate();
    }
    if (this.cancelRequested && this.entry.copy_progress.some((row) => row.state !== "done")) {
      return this.finish("CHANGE_STATE_CANCELLED", "cancelled: extents not yet moved stay on their sources");
    }
    return this.finish("CHANGE_STATE_COMMITTED", "");
  }

  private async runMirrored(mirrors: DeviceMirrorEffects): Promise<void> {
    const copy = new MirroredCopy(this.entry.copy_progress, this.id, Number(this.entry.rate_bytes_per_second ?? 0), this.extentSizeBytes, {
      ...mirrors,
      change: async (kind, volume, extents, toLuId) => {
        const changed = await mirrors.change(kind, volume, extents, toLuId);
        this.recordStep(kind, changed.info);
        return changed;
      },
      persist: () => this.effects.persist(this.entry),
      sleep: (ms) => this.effects.sleep(ms),
      now: () => this.effects.now(),
      isCancelled: () => this.cancelRequested,
    });
    try {
      const outcome = await copy.run();
      if (outcome === "cancelled") await this.finish("CHANGE_STATE_CANCELLED", "cancelled: extents not yet switched stay on their sources");
      else await this.finish("CHANGE_STATE_COMMITTED", "");
    } catch (error) {
      if (isLeaseLost(error)) return;
      if (!(error instanceof MigrationFailure)) throw error;
      await copy.abandon();
      return this.finish("CHANGE_STATE_FAILED", `${error.message}; the extents not switched stay on their sources`);
    }
  }

  /**
   * Moves one extent, again after a failure that may pass (a device or
   * apparatus restarting aborts the change), up to `stepAttemptsMax` times;
   * a refusal that cannot pass (no space, no such LU) fails at once.
   */
  private async moveRow(row: CopyProgressRow): Promise<void> {
    row.state = "copying";
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.moveOnce(row);
        return;
      } catch (error) {
        if (isLeaseLost(error) || isPermanentRefusal(error) || attempt >= stepAttemptsMax || this.cancelRequested) throw error;
        await this.effects.sleep(stepRetryPauseMs);
      }
    }
  }

  private async moveOnce(row: CopyProgressRow): Promise<void> {
    const { info, destinationAreaIndex } = await this.effects.moveExtent(row.volume ?? "", row.extent_index ?? 0, row.destination_lu_id ?? "");
    this.recordStep("move", info);
    if (info.state !== "CHANGE_STATE_COMMITTED") throw new Error(`its move ${info.id ?? ""} did not commit: ${info.message ?? ""}`);
    row.state = "done";
    row.destination_area_index = destinationAreaIndex;
    row.watermark_bytes = this.extentSizeBytes;
    this.movedBytes += this.extentSizeBytes;
  }

  /**
   * A `volume move` shows the changes it ran as its own phases (mirror, the
   * device's copy between them, switch), with their reports and fences, so
   * that it prints as one change did; a migration of many extents does not
   * (its progress table says more, and its changes are journaled each).
   */
  private recordStep(kind: string, info: ChangeInfo): void {
    if (this.entry.kind !== "move") return;
    const phases = (this.entry.phases ??= []);
    const reports = (this.entry.reports ??= []);
    const startedAtMs = Number(info.started_at_ms ?? 0);
    const endedAtMs = Number(info.ended_at_ms ?? 0);
    const previous = phases.at(-1);
    if (kind === "switch" && previous?.phase === "mirror") {
      const copyStartMs = Number(previous.started_at_ms ?? 0) + (previous.elapsed_ms ?? 0);
      phases.push({ phase: "copy", started_at_ms: copyStartMs, elapsed_ms: Math.max(0, startedAtMs - copyStartMs) });
    }
    phases.push({ phase: kind, started_at_ms: startedAtMs, elapsed_ms: Math.max(0, endedAtMs - startedAtMs) });
    for (const report of info.reports ?? []) reports.push({ ...report, phase: `${kind} ${report.phase ?? ""}` });
    const fenced = (this.entry.fenced ??= []);
    for (const apparatusId of info.fenced ?? []) if (!fenced.includes(apparatusId)) fenced.push(apparatusId);
  }

  /** Sleeps until this run's average rate is back under the limit. */
  private async keepRate(): Promise<void> {
    const rate = Number(this.entry.rate_bytes_per_second ?? 0);
    if (rate <= 0) return;
    const dueMs = this.startedMs + (this.movedBytes * 1000) / rate;
    const waitMs = dueMs - this.effects.now();
    if (waitMs > 0) await this.effects.sleep(waitMs);
  }

  /**
   * Ends the migration in the journal, and only then here. A controller
   * deposed meanwhile (a device restart gives the lease to another at once)
   * may see a table its successor moved on and conclude a failure; its
   * journal write is refused, and its console must not show an outcome the
   * successor, still running the migration, does not share.
   */
  private async finish(state: "CHANGE_STATE_COMMITTED" | "CHANGE_STATE_CANCELLED" | "CHANGE_STATE_FAILED", message: string): Promise<void> {
    const [row] = this.entry.copy_progress;
    const summary = this.entry.kind === "move" && row !== undefined ? moveSummary(row, row.state === "done") : this.entry.summary;
    const ended = { state, message, summary, ended_at_ms: Math.round(this.effects.now()) };
    await this.effects.persist({ ...this.entry, ...ended });
    Object.assign(this.entry, ended);
  }
}
