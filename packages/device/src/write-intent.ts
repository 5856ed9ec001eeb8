/**
 * The write-intent record's decisions, without I/O (issue 19; as md's
 * write-intent bitmap or LVM's mirror log). A host write that a mirror sends
 * to both areas (area-mirror.ts) goes to two files: a power cut or a SIGKILL
 * between or during the two writes may leave its sectors torn differently on
 * the source and the destination, below a watermark the restart trusts. So,
 * before such a write goes to either file, each region it touches (a chunk
 * of `writeIntentRegionBytes` of the area) is marked in the intent file
 * (write-intent-file.ts), durably; after an unclean stop the marked regions
 * are copied again, source to destination, before the mirror is in sync.
 *
 * This ledger decides which regions a write must wait to have marked, and
 * which marks may go: a region's mark is cleared once no write (or recopy)
 * is in flight there and a flush of both ends that started after the last
 * one ended has completed, so both copies are durable and equal. Clearing is
 * lazy and batched (write-intent-file.ts runs a pass now and then): a stream
 * of writes to the same regions finds them marked already and pays nothing.
 *
 * A region is named by its mirror's id (mirrorIntentId) and its index in
 * the area. Versions count what is written to the file: a region is marked
 * durably once a file version that includes it is durable.
 */
import assert from "node:assert/strict";

/** A region of an area, the unit marked: the mirror's copy chunk, so a recopy is one chunk's copy (device-mirrors.ts mirrorChunkBytes). */
export const writeIntentRegionBytes = 1 << 20;
/**
 * Regions marked at once, on all mirrors of the device: after an unclean
 * stop at most this many regions (1 GiB) are copied again. Writes to more
 * distinct regions than this within one clearing pass wait for the pass.
 */
export const writeIntentRegionsMax = 1024;

/**
 * Regions that copies may mark ahead of host writes (WriteIntents.premark):
 * half the record, so that host writes, which cannot go without a mark,
 * keep room.
 */
export const writeIntentPremarkRegionsMax = writeIntentRegionsMax / 2;

/** One marked region, as the intent file lists it. */
export interface IntentRegion {
  readonly mirrorId: string;
  readonly regionIndex: number;
}

interface RegionState extends IntentRegion {
  /** Writes in flight in the region. */
  inFlight: number;
  /** A mark found on open, held until the region is copied again (or its mirror is gone). */
  recopyPending: boolean;
  /** The first file version that lists the region: durably marked once that version is. */
  readonly listedInVersion: number;
  /** Flushes started when the last write or recopy here ended: only a later flush covers it. */
  endedAfterFlushes: number;
  /** Its mirror ended: dropped once no write is in flight, whatever was flushed. */
  forgotten: boolean;
}

/** What the ledger says of a region a write is about to touch. */
export type MarkNeed = "marked" | "write" | "full";

export const regionKey = (mirrorId: string, regionIndex: number): string => `${mirrorId}\u0000${regionIndex}`;

export class WriteIntentLedger {
  private readonly regions = new Map<string, RegionState>();
  /** File versions handed out (snapshot) and the highest made durable (written). */
  private versionsTaken = 0;
  private durableVersion = 0;
  private flushesStarted = 0;
  /** Regions added or removed since the last snapshot: the file differs from the ledger. */
  private changed = false;

  constructor(readonly regionsMax: number = writeIntentRegionsMax) {
    assert.ok(Number.isSafeInteger(regionsMax) && regionsMax > 0);
  }

  /** Regions marked or being marked. */
  get size(): number {
    return this.regions.size;
  }

  /** True when the file lists other regions than the ledger holds. */
  get fileBehind(): boolean {
    return this.changed;
  }

  /** Marks found in the file on open: durable already, and held until recopied or forgotten. */
  recover(marks: readonly IntentRegion[]): void {
    assert.equal(this.versionsTaken, 0, "marks are recovered before anything else");
    for (const { mirrorId, regionIndex } of marks) {
      assert.ok(Number.isSafeInteger(regionIndex) && regionIndex >= 0);
      this.regions.set(regionKey(mirrorId, regionIndex), {
        mirrorId, regionIndex, inFlight: 0, recopyPending: true, listedInVersion: 0, endedAfterFlushes: 0, forgotten: false,
      });
    }
  }

  /**
   * A write is about to touch the region: "marked" when its mark is durable
   * (go ahead), "write" when the caller must wait for a file version taken
   * from now on, "full" when the region has no mark and no room for one
   * (nothing is counted then).
   */
  begin(mirrorId: string, regionIndex: number): MarkNeed {
    const key = regionKey(mirrorId, regionIndex);
    let region = this.regions.get(key);
    if (region === undefined) {
      if (this.regions.size >= this.regionsMax) return "full";
      region = {
        mirrorId, regionIndex, inFlight: 0, recopyPending: false, listedInVersion: this.versionsTaken + 1, endedAfterFlushes: 0, forgotten: false,
      };
      this.regions.set(key, region);
      this.changed = true;
    }
    region.inFlight += 1;
    return region.listedInVersion <= this.durableVersion ? "marked" : "write";
  }

  /** The write that began in the region has ended (done or failed). */
  end(mirrorId: string, regionIndex: number): void {
    const key = regionKey(mirrorId, regionIndex);
    const region = this.regions.get(key);
    assert.ok(region !== undefined && region.inFlight > 0, "a write ends in a region where it began");
    region.inFlight -= 1;
    region.endedAfterFlushes = this.flushesStarted;
    if (region.forgotten && region.inFlight === 0) this.delete(key);
  }

  /** The file version that lists all of regions `firstRegion` to `lastRegion` (begun, so in the ledger) for the first time. */
  listedIn(mirrorId: string, firstRegion: number, lastRegion: number): number {
    let version = 0;
    for (let regionIndex = firstRegion; regionIndex <= lastRegion; regionIndex += 1) {
      const region = this.regions.get(regionKey(mirrorId, regionIndex));
      assert.ok(region !== undefined, "only a begun region is asked after");
      version = Math.max(version, region.listedInVersion);
    }
    return version;
  }

  /** Marks recovered for `mirrorId`, still to copy again: the mirror takes them on. */
  pendingRecopies(mirrorId: string): number[] {
    const found: number[] = [];
    for (const region of this.regions.values()) if (region.mirrorId === mirrorId && region.recopyPending) found.push(region.regionIndex);
    return found.sort((left, right) => left - right);
  }

  /** The recovered region was copied again (not yet durably): its mark clears after a later flush. */
  recopied(mirrorId: string, regionIndex: number): void {
    const region = this.regions.get(regionKey(mirrorId, regionIndex));
    assert.ok(region?.recopyPending === true, "only a recovered region is copied again");
    region.recopyPending = false;
    region.endedAfterFlushes = this.flushesStarted;
  }

  /** Mirrors with regions marked or held: the ends a clearing pass flushes. */
  mirrorIds(): Set<string> {
    const ids = new Set<string>();
    for (const region of this.regions.values()) ids.add(region.mirrorId);
    return ids;
  }

  /** The mirror ended (switched, cancelled, or gone after a restart): its marks go once no write is in flight. */
  forget(mirrorId: string): void {
    for (const [key, region] of this.regions) {
      if (region.mirrorId !== mirrorId) continue;
      region.forgotten = true;
      region.recopyPending = false;
      if (region.inFlight === 0) this.delete(key);
    }
  }

  /** A flush of the marked mirrors' ends is starting: returns its ticket for flushed. */
  startFlush(): number {
    this.flushesStarted += 1;
    return this.flushesStarted;
  }

  /** The flush with `ticket` completed: clears every idle region it covers; returns how many. */
  flushed(ticket: number): number {
    assert.ok(Number.isSafeInteger(ticket) && ticket > 0 && ticket <= this.flushesStarted);
    let cleared = 0;
    for (const [key, region] of this.regions) {
      if (region.inFlight > 0 || region.recopyPending || region.endedAfterFlushes >= ticket) continue;
      this.delete(key);
      cleared += 1;
    }
    return cleared;
  }

  /** The regions to list in the next file version, and that version. */
  snapshot(): { readonly version: number; readonly regions: IntentRegion[] } {
    this.versionsTaken += 1;
    this.changed = false;
    const regions = [...this.regions.values()].map(({ mirrorId, regionIndex }) => ({ mirrorId, regionIndex }));
    assert.ok(regions.length <= this.regionsMax);
    return { version: this.versionsTaken, regions };
  }

  /** File version `version` is durable: every region it lists is marked. */
  written(version: number): void {
    assert.ok(Number.isSafeInteger(version) && version > 0 && version <= this.versionsTaken);
    this.durableVersion = Math.max(this.durableVersion, version);
  }

  /** Whether the region's mark is durable: for tests and assertions. */
  isMarked(mirrorId: string, regionIndex: number): boolean {
    const region = this.regions.get(regionKey(mirrorId, regionIndex));
    return region !== undefined && region.listedInVersion <= this.durableVersion;
  }

  private delete(key: string): void {
    this.regions.delete(key);
    this.changed = true;
  }
}
