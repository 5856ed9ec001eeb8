/**
 * A migration's extents copied in mirror state (DESIGN.md "Online
 * migration"), when source and target areas are on one device:
 * 1. a change puts a batch of extents into mirror state, each towards a free
 *    area of the target, which the table's mirror columns reserve;
 * 2. the device mirrors their writes and copies them chunk by chunk itself
 *    (copy offload), under the migration's rate limit, saving watermarks;
 * 3. each extent in sync is switched to its destination by a change that
 *    holds its writes only for the switch, not for a copy;
 * 4. cancel or failure: a change takes the extents still copying out of
 *    mirror state, back on their sources alone.
 * The copy progress table has one owner per column: the rows (source,
 * destination, state) are the controller's, persisted in the journal after
 * every change; the watermarks are the device's, which makes them durable
 * with its flushes and saves them itself (mirrors.json). A row's
 * watermark_bytes is the device's last report, for display only: nothing
 * resumes from it.
 */
import type { ChangeInfo, CopyProgressRow, ExtentRow } from "@switchyard/proto";
import { isSilence } from "./call-errors.js";
import { ControllerError } from "./errors.js";
import { isLeaseLost, isPermanentRefusal, stepAttemptsMax, stepRetryPauseMs } from "./migration-retry.js";


/**
 * Extents in mirror state at once per migration (the device copies a few of
 * them at a time): one change puts them all in, so fewer, larger batches
 * spend less of the migration in changes.
 */
export const mirroredExtentsMax = 64;
/**
 * Extents in sync switched by one change while others still copy, to make
 * room for pending extents: each change holds the writes of the extents it
 * switches briefly, and one per extent would be most of a migration's time.
 */
export const switchBatchMin = 16;
/**
 * An extent in sync waits at most this long for its switch (a rate-limited
 * copy syncs them slowly, and every write to it is written twice until then).
 * Otherwise extents are switched when every copy is in sync: a switch while
 * copies run costs the device a store commit amid their flushes, and made a
 * 256 MiB migration a third slower.
 */
export const switchWaitMaxMs = 500;
/**
 * The longest one ask for the device's copy progress waits for it to move
 * (a long poll: the device answers as soon as a watermark moves).
 */
export const mirrorPollWaitMs = 200;
/** The pause before asking again when the device did not answer. */
export const mirrorPollRetryMs = 20;
/** How long the device may stay unreachable (a restart) before the migration fails: while it polls, and while a step calls it. */
export const deviceAbsenceMaxMs = 60_000;

/** An area of an LU. */
export interface AreaPlace {
  readonly luId: string;
  readonly areaIndex: number;
}

/** What the device reports of one mirror. */
export interface MirrorReport {
  readonly volume: string;
  readonly extentIndex: number;
  /** Where it copies to: the report is a row's only when this is the row's destination too. */
  readonly destination: AreaPlace;
  readonly watermarkBytes: number;
  readonly synced: boolean;
  readonly failure: string;
  /** Copied bytes that were holes on both sides: nothing written. */
  readonly holeBytesSkipped: number;
  /** Chunk copies beyond the first, made because host writes went into the chunk meanwhile. */
  readonly chunksCopiedAgain: number;
}

/** The device's mirrors, and its progress count to wait past next. */
export interface MirrorList {
  readonly reports: readonly MirrorReport[];
  readonly progress: number;
}

/** Where the committed table has an extent. */
export interface Placement {
  readonly luId: string;
  readonly areaIndex: number;
  /** Its mirror's destination, when in mirror state. */
  readonly mirror: AreaPlace | undefined;
}

export interface MirrorEffects {
  /** Runs a mirror, switch or unmirror change of `extents`; the diff's rows, valid when it committed. */
  change(kind: "mirror" | "switch" | "unmirror", volume: string, extents: readonly number[], toLuId: string): Promise<{ info: ChangeInfo; rows: readonly ExtentRow[] }>;
  startMirror(row: CopyProgressRow, group: string, rateBytesPerSecond: number): Promise<MirrorReport>;
  /** The device's mirrors once its progress count is above `afterProgress`, or after `waitMs`. */
  listMirrors(afterProgress: number, waitMs: number): Promise<MirrorList>;
  placement(volume: string, extentIndex: number): Promise<Placement>;
  persist(): Promise<void>;
  sleep(ms: number): Promise<void>;
  now(): number;
  isCancelled(): boolean;
}

/** Thrown when the migration cannot go on; its message is the migration's. */
export class MigrationFailure extends Error {}

export class MirroredCopy {
  /** Rows whose copy the device reports in sync, to be switched. */
  private readonly synced = new Set<CopyProgressRow>();
  /** When the oldest extent in `synced` was found in sync. */
  private syncedSinceMs = 0;
  private deviceLostSinceMs: number | undefined = undefined;
  /** The device's progress count at the last answer: the next ask waits for it to rise. */
  private progressSeen = 0;

  constructor(
    private readonly rows: CopyProgressRow[],
    private readonly group: string,
    private readonly rateBytesPerSecond: number,
    private readonly extentSizeBytes: number,
    private readonly effects: MirrorEffects,
  ) {}

  /** Copies and switches every row not done; "cancelled" when asked to stop. Throws MigrationFailure. */
  async run(): Promise<"done" | "cancelled"> {
    await this.resumeCopying();
    for (;;) {
      if (this.effects.isCancelled()) {
        await this.unmirrorCopying();
        return "cancelled";
      }
      await this.mirrorMore();
      if (this.rowsIn("copying").length === 0) return "done";
      await this.poll();
      await this.switchSynced();
    }
  }

  /** Takes the extents still copying out of mirror state, after a failure; best effort. */
  async abandon(): Promise<void> {
    await this.unmirrorCopying().catch(() => undefined);
  }

  private rowsIn(state: string): CopyProgressRow[] {
    return this.rows.filter((row) => row.state === state);
  }

  private get volume(): string {
    return this.rows[0]?.volume ?? "";
  }

  /**
   * Rows a predecessor left copying: the table says where each extent is.
   * Switched already: done. Still mirrored: the device is told again (it
   * keeps its own watermark if it has the mirror). Neither: pending again.
   * The first pending rows too, as many as one mirror change takes: a
   * predecessor that died after committing their mirror change but before
   * persisting the rows left them pending with their extents mirrored.
   */
  private async resumeCopying(): Promise<void> {
    const maybeMirrored = this.rowsIn("pending").slice(0, mirroredExtentsMax);
    for (const row of [...this.rowsIn("copying"), ...maybeMirrored]) {
      const placement = await this.effects.placement(this.volume, row.extent_index ?? 0);
      if (placement.luId === row.destination_lu_id && placement.areaIndex === row.destination_area_index) {
        this.markDone(row);
      } else if (placement.mirror !== undefined) {
        // A pending row learns its area here; the LU is the migration's own either way.
        checkMirroredHere(row, placement.mirror, row.state === "copying");
        row.destination_area_index = placement.mirror.areaIndex;
        row.state = "copying";
        await this.startMirror(row);
      } else {
        row.state = "pending";
      }
    }
  }

  /** Puts the next pending extents into mirror state, up to the limit, and starts their copies. */
  private async mirrorMore(): Promise<void> {
    const room = mirroredExtentsMax - this.rowsIn("copying").length;
    const next = this.rowsIn("pending").slice(0, Math.max(0, room));
    if (next.length === 0) return;
    const target = next[0]?.destination_lu_id ?? "";
    const rows = await this.committedChange("mirror", next, target, "put extents in mirror state");
    for (const row of next) {
      const mirrored = rows.find((changed) => changed.extent_index === row.extent_index);
      row.destination_area_index = mirrored?.mirror_area_index ?? 0;
      row.watermark_bytes = 0;
      row.state = "copying";
    }
    await this.persist();
    // At once: the device saves its mirrors once for all of them.
    await Promise.all(next.map((row) => this.startMirror(row)));
  }

  /** The device's watermarks into the rows; a copy that failed fails the migration. */
  private async poll(): Promise<void> {
    let reports: readonly MirrorReport[];
    try {
      const listed = await this.effects.listMirrors(this.progressSeen, mirrorPollWaitMs);
      reports = listed.reports;
      // Taken as it is, not as a maximum: a restarted device counts from zero again.
      this.progressSeen = listed.progress;
      this.deviceLostSinceMs = undefined;
    } catch (error) {
      this.deviceLostSinceMs ??= this.effects.now();
      if (this.effects.now() - this.deviceLostSinceMs > deviceAbsenceMaxMs) {
        throw new MigrationFailure(`the device has not answered for ${deviceAbsenceMaxMs / 1000} s: ${error instanceof Error ? error.message : String(error)}`);
      }
      await this.effects.sleep(mirrorPollRetryMs);
      return;
    }
    for (const row of this.rowsIn("copying")) {
      const report = reports.find((candidate) => isReportOf(candidate, row));
      // A restarted device may not have it yet; it is told again when the table still mirrors.
      if (report === undefined) {
        await this.resumeRow(row);
        continue;
      }
      if (report.failure !== "") throw new MigrationFailure(`extent ${row.extent_index ?? 0}: the copy from ${row.source_lu_id ?? ""} failed: ${report.failure}`);
      // Shown progress never goes back: a restarted device may copy again what it had not saved.
      row.watermark_bytes = Math.max(Number(row.watermark_bytes ?? 0), report.watermarkBytes);
      row.hole_bytes_skipped = Math.max(Number(row.hole_bytes_skipped ?? 0), report.holeBytesSkipped);
      row.chunks_copied_again = Math.max(Number(row.chunks_copied_again ?? 0), report.chunksCopiedAgain);
      if (!report.synced || this.synced.has(row)) continue;
      if (this.synced.size === 0) this.syncedSinceMs = this.effects.now();
      this.synced.add(row);
    }
  }

  private async resumeRow(row: CopyProgressRow): Promise<void> {
    const placement = await this.effects.placement(this.volume, row.extent_index ?? 0);
    if (placement.mirror === undefined) throw new MigrationFailure(`extent ${row.extent_index ?? 0} left mirror state without being switched`);
    checkMirroredHere(row, placement.mirror, true);
    await this.startMirror(row);
  }

  /**
   * Switches every extent in sync to its destination, in one change: when
   * every copy is in sync, when enough are to make room for pending extents,
   * or when the first has waited switchWaitMaxMs.
   */
  private async switchSynced(): Promise<void> {
    const synced = [...this.synced];
    const everyCopyInSync = synced.length === this.rowsIn("copying").length;
    const makesRoom = synced.length >= switchBatchMin && this.rowsIn("pending").length > 0;
    const waitedLong = this.effects.now() - this.syncedSinceMs >= switchWaitMaxMs;
    if (synced.length === 0 || !(everyCopyInSync || makesRoom || waitedLong)) return;
    await this.committedChange("switch", synced, "", "switch extents in sync to their destinations");
    for (const row of synced) this.markDone(row);
    this.synced.clear();
    await this.persist();
  }

  private async unmirrorCopying(): Promise<void> {
    const copying = this.rowsIn("copying");
    if (copying.length > 0) {
      await this.committedChange("unmirror", copying, "", "take extents out of mirror state");
      for (const row of copying) {
        row.state = "pending";
        row.watermark_bytes = 0;
      }
      this.synced.clear();
    }
    await this.persist();
  }

  /** A change of `rows`, tried again while it aborts or fails in a way that may pass. */
  private async committedChange(kind: "mirror" | "switch" | "unmirror", rows: readonly CopyProgressRow[], toLuId: string, what: string): Promise<readonly ExtentRow[]> {
    const extents = rows.map((row) => row.extent_index ?? 0);
    return this.retried(what, async () => {
      const { info, rows: changed } = await this.effects.change(kind, this.volume, extents, toLuId);
      if (info.state !== "CHANGE_STATE_COMMITTED") {
        throw new ControllerError("UNAVAILABLE", `change ${info.id ?? ""} ended ${String(info.state ?? "").replace("CHANGE_STATE_", "").toLowerCase()}: ${info.message ?? ""}`);
      }
      return changed;
    });
  }

  /**
   * `step`, again after a failure that may pass: up to `stepAttemptsMax`
   * answers that refused, and no answer for up to `deviceAbsenceMaxMs`, as
   * the poll waits for a restarting device. Counted as tries, silences gave
   * up after 4 s: a device that restarted twice in a row (down, serving for
   * a second, down again) outlasted them on a busy CI machine.
   */
  private async retried<T>(what: string, step: () => Promise<T>): Promise<T> {
    let refusals = 0;
    let silentSinceMs: number | undefined;
    for (;;) {
      try {
        return await step();
      } catch (error) {
        if (isLeaseLost(error)) throw error;
        const failure = (): MigrationFailure => new MigrationFailure(`could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
        if (isPermanentRefusal(error)) throw failure();
        if (isSilence(error)) {
          silentSinceMs ??= this.effects.now();
          if (this.effects.now() - silentSinceMs > deviceAbsenceMaxMs) throw failure();
        } else {
          silentSinceMs = undefined;
          refusals += 1;
          if (refusals >= stepAttemptsMax) throw failure();
        }
        await this.effects.sleep(stepRetryPauseMs);
      }
    }
  }

  private async startMirror(row: CopyProgressRow): Promise<void> {
    await this.retried(`start copying extent ${row.extent_index ?? 0}`, () => this.effects.startMirror(row, this.group, this.rateBytesPerSecond));
  }

  private markDone(row: CopyProgressRow): void {
    row.state = "done";
    row.watermark_bytes = this.extentSizeBytes;
  }

  private async persist(): Promise<void> {
    await this.effects.persist();
  }
}

/**
 * Whether `report` is of `row`'s own copy. By extent alone it could be
 * another copy of that extent's (a second migration of it, which the
 * controller refuses but a lost answer once let through): its "in sync"
 * would let this row's switch land on an area nothing was copied to.
 */
function isReportOf(report: MirrorReport, row: CopyProgressRow): boolean {
  return (
    report.volume === row.volume &&
    report.extentIndex === row.extent_index &&
    report.destination.luId === row.destination_lu_id &&
    report.destination.areaIndex === row.destination_area_index
  );
}

/** The table mirrors `row`'s extent towards `mirror`: fails the migration unless that is the row's destination (its LU, and its area when `areaKnown`). */
function checkMirroredHere(row: CopyProgressRow, mirror: AreaPlace, areaKnown: boolean): void {
  if (mirror.luId === row.destination_lu_id && (!areaKnown || mirror.areaIndex === row.destination_area_index)) return;
  throw new MigrationFailure(
    `extent ${row.extent_index ?? 0} is in mirror state towards ${mirror.luId} area ${mirror.areaIndex}, not towards this migration's ` +
      `${row.destination_lu_id ?? ""}${areaKnown ? ` area ${row.destination_area_index ?? 0}` : ""}: another change put it there`,
  );
}
