/**
 * Online migration of a volume's extents to another LU (claims 5, 14, 17),
 * while hosts go on. `volume move` is a migration of one extent, run by
 * this same engine (DESIGN.md "Online migration": one copy engine): every
 * extent goes mirror -> device copy in chunks -> switch (mirrored-copy.ts),
 * through a device LU when both ends are external devices. The copy
 * progress table (claim 14) is the migration's journal entry: one row per
 * extent, persisted as it goes, so a new controller resumes where the old
 * one stopped.
 */
import { ControllerError } from "./errors.js";
import { isLeaseLost } from "./migration-retry.js";
import { freeAreaCount, usedAreaMaps } from "./allocation.js";
import type { ChangeInfo, CopyProgressRow, JournalEntry, StoreState__Output } from "@switchyard/proto";
import { infoOf } from "./change-executor.js";
import { MigrationFailure, MirroredCopy, mirroredExtentsMax, type MirrorEffects } from "./mirrored-copy.js";
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

/** A move's summary as it starts: its destination area is added when it ends there. */
export function moveSummary(row: CopyProgressRow): string {
  return `move extent ${row.extent_index ?? 0} of ${row.volume ?? ""} from ${row.source_lu_id ?? ""}:${row.source_area_index ?? 0} to ${row.destination_lu_id ?? ""}`;
}

/** The device's part of a copy in mirror state (mirrored-copy.ts); the rest comes from the migration. */
export type DeviceMirrorEffects = Pick<MirrorEffects, "change" | "startMirror" | "listMirrors" | "placement">;

/** A device LU an extent can pass through, with its free areas. */
export interface StagingLu {
  readonly luId: string;
  readonly freeAreas: number;
}

/**
 * What a migration needs from the controller: the device's mirrors and the
 * changes around them, the progress persisted, time, and where an extent
 * between two external devices can be staged.
 */
export interface MigrationEffects {
  readonly mirrors: DeviceMirrorEffects;
  /** Whether the store lists `luId` as an external device's LU (no device of ours sees its writes). */
  isExternal(luId: string): boolean;
  /** The device LU with the most free areas of the migration's extent size, or undefined when none has one. */
  stagingLu(): Promise<StagingLu | undefined>;
  persist(entry: JournalEntry): Promise<void>;
  sleep(ms: number): Promise<void>;
  now(): number;
}

/**
 * One running migration: its journal entry (with the progress table) and
 * the copies in mirror state that move its extents. Between two external
 * devices no device of ours sees an extent's writes, so it goes in two
 * hops, each a copy in mirror state: onto a device LU (the staging LU; the
 * apparatuses send its I/O to the device from the mirror change on), then
 * from there onto the target. A row's destination is its current hop's:
 * the staging LU during the first, the target during the second. No write
 * ever waits for a whole extent's copy.
 */
export class MigrationRun {
  readonly entry: JournalEntry & { copy_progress: CopyProgressRow[] };
  private readonly extentSizeBytes: number;
  private cancelRequested = false;

  constructor(entry: JournalEntry & { copy_progress: CopyProgressRow[] }, extentSizeBytes: number, private readonly effects: MigrationEffects) {
    this.entry = entry;
    this.extentSizeBytes = extentSizeBytes;
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
    let outcome: "done" | "cancelled";
    try {
      outcome = await this.moveAll();
    } catch (error) {
      if (isLeaseLost(error)) return;
      if (!(error instanceof MigrationFailure)) throw error;
      await this.finish("CHANGE_STATE_FAILED", `${error.message}; the extents not switched stay where they are (${this.whereRowsAre()})`);
      return;
    }
    if (outcome === "cancelled") await this.finish("CHANGE_STATE_CANCELLED", `cancelled: extents not yet switched stay where they are (${this.whereRowsAre()})`);
    else await this.finish("CHANGE_STATE_COMMITTED", "");
  }

  /** One copy in mirror state after another, until every row is on the target or the migration is cancelled. */
  private async moveAll(): Promise<"done" | "cancelled"> {
    for (;;) {
      if (this.cancelRequested) return "cancelled";
      if (this.startSecondHops()) await this.effects.persist(this.entry);
      const batch = this.rowsUnderWay() ?? (await this.stageNext());
      if (batch === undefined) return "done";
      if ((await this.copyInMirrorState(batch)) === "cancelled") return "cancelled";
    }
  }

  /** Rows of one copy in mirror state: those not done whose hop needs no staging, one destination at a time. */
  private rowsUnderWay(): CopyProgressRow[] | undefined {
    const first = this.entry.copy_progress.find((row) => row.state !== "done" && !this.needsStaging(row));
    if (first === undefined) return undefined;
    return this.entry.copy_progress.filter((row) => row.state !== "done" && !this.needsStaging(row) && row.destination_lu_id === first.destination_lu_id);
  }

  /** An extent going from one external device to another, not yet on its way through a device LU. */
  private needsStaging(row: CopyProgressRow): boolean {
    return row.destination_lu_id === this.target && this.effects.isExternal(this.target) && this.effects.isExternal(row.source_lu_id ?? "");
  }

  private get target(): string {
    return this.entry.target_lu_id ?? "";
  }

  /** Rows whose first hop ended on the staging LU go on from there to the target. */
  private startSecondHops(): boolean {
    const staged = this.entry.copy_progress.filter((row) => row.state === "done" && row.destination_lu_id !== this.target);
    for (const row of staged) {
      Object.assign(row, {
        source_lu_id: row.destination_lu_id, source_area_index: row.destination_area_index,
        destination_lu_id: this.target, destination_area_index: 0, watermark_bytes: 0, state: "pending",
      });
    }
    return staged.length > 0;
  }

  /** The next extents needing a first hop, bound for the staging LU (as many as it has room for); undefined when none is left. */
  private async stageNext(): Promise<CopyProgressRow[] | undefined> {
    const waiting = this.entry.copy_progress.filter((row) => row.state !== "done" && this.needsStaging(row));
    if (waiting.length === 0) return undefined;
    const staging = await this.effects.stagingLu();
    if (staging === undefined || staging.freeAreas === 0) {
      throw new MigrationFailure(`an extent moves between two external devices through a free ${this.extentSizeBytes}-byte area of a device LU, and no device LU has one`);
    }
    const batch = waiting.slice(0, Math.min(staging.freeAreas, mirroredExtentsMax));
    for (const row of batch) Object.assign(row, { destination_lu_id: staging.luId, destination_area_index: 0 });
    await this.effects.persist(this.entry);
    return batch;
  }

  private async copyInMirrorState(rows: CopyProgressRow[]): Promise<"done" | "cancelled"> {
    const { mirrors } = this.effects;
    const copy = new MirroredCopy(rows, this.id, Number(this.entry.rate_bytes_per_second ?? 0), this.extentSizeBytes, {
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
      return await copy.run();
    } catch (error) {
      if (error instanceof MigrationFailure) await copy.abandon();
      throw error;
    }
  }

  /** Where the rows not done are, by LU: "3 on ext1:disk, 1 on lu0". */
  private whereRowsAre(): string {
    const counts = new Map<string, number>();
    for (const row of this.entry.copy_progress) {
      if (row.state === "done" && row.destination_lu_id === this.target) continue;
      const luId = (row.state === "done" ? row.destination_lu_id : row.source_lu_id) ?? "";
      counts.set(luId, (counts.get(luId) ?? 0) + 1);
    }
    if (counts.size === 0) return "none left";
    return Array.from(counts, ([luId, count]) => `${count} on ${luId}`).join(", ");
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

  /**
   * Ends the migration in the journal, and only then here. A controller
   * deposed meanwhile (a device restart gives the lease to another at once)
   * may see a table its successor moved on and conclude a failure; its
   * journal write is refused, and its console must not show an outcome the
   * successor, still running the migration, does not share.
   */
  private async finish(state: "CHANGE_STATE_COMMITTED" | "CHANGE_STATE_CANCELLED" | "CHANGE_STATE_FAILED", message: string): Promise<void> {
    const summary = this.summaryAtEnd();
    const ended = { state, message, summary, ended_at_ms: Math.round(this.effects.now()) };
    await this.effects.persist({ ...this.entry, ...ended });
    Object.assign(this.entry, ended);
  }

  /**
   * A move's summary names its destination area once it is there; the
   * source stays the one it started from (after two hops, the row's source
   * is the staging LU).
   */
  private summaryAtEnd(): string {
    const summary = this.entry.summary ?? "";
    const [row] = this.entry.copy_progress;
    if (this.entry.kind !== "move" || row?.state !== "done" || row.destination_lu_id !== this.target || !summary.endsWith(` to ${this.target}`)) return summary;
    return `${summary}:${row.destination_area_index ?? 0}`;
  }
}
