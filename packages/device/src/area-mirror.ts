/**
 * A storage area in mirror state (DESIGN.md "Online migration"), kept by the
 * device itself when one of the two areas is its own (the other may be an
 * external device's, external-lu.ts): every host write to the extent passes
 * through here, so the device, not each apparatus, applies the watermark.
 * Below the watermark a write goes to both
 * areas; above it to the source only. The copy goes chunk by chunk and
 * waits for the writes already in flight in the chunk. A host write into
 * the chunk being copied does not wait: it goes to the source, counts as a
 * touch of the chunk, and the copy reads the chunk again once it is done
 * (copySpan). Because no message crosses a process per chunk, the copy
 * runs at disk speed.
 *
 * Overlapping writes to a mirrored area run one after another: two at once
 * could land in one order on the source and the other on the destination.
 *
 * I/O addressed to the destination comes here too when both areas are the
 * device's own, and is the source's (reads come from the source), so both
 * faces of a switch read and write the same bytes until the commit ends the
 * mirror: no hold (HOLD_MODE_NONE, design notes "A switch without a hold").
 *
 * A write to both areas first has the regions it touches marked in the
 * write-intent record (write-intent.ts), durably: a crash amid the two
 * writes may tear them differently on each side, and the marks tell the
 * restart which regions below the watermark to copy again. Those recopies
 * come before any further chunk, and the mirror is not in sync until they
 * are durable.
 */
import assert from "node:assert/strict";
import type { LogicalUnit, LuAreas } from "./logical-unit.js";
import { writeIntentRegionBytes } from "./write-intent.js";
import { isZero } from "./zero-bytes.js";
import { mirrorIntentId } from "./write-intent-file.js";

/**
 * Regions a mirror marks ahead of its copy: the first ones when it is set
 * up (premarkStart), and, once hosts write to it, as the copy goes
 * (premarkAhead), asked for in batches once fewer than half are left, and
 * each chunk waits until its own regions' marks are durable. On this
 * machine the record's fdatasync took up to 15-20 ms while a 1 MiB chunk
 * copied in about one, so a lead of a few regions was passed before its
 * marks were durable. After an unclean stop these marks cost at most this
 * many regions copied again per mirror.
 */
export const premarkAheadRegions = 32;

/**
 * How many times one chunk is copied while host writes go on into it: the
 * last of these copies makes the chunk's writes wait (as every copy did
 * once), so a host writing the chunk without pause cannot keep the copy
 * from passing it. bench:pause put writes that waited for a chunk's copy
 * among the moved extent's slowest (4 of 171 over 10 ms in the copy phase).
 */
export const chunkCopyPassesMax = 3;

/** Which of a mirror's two areas an I/O was addressed to. */
export type MirrorSide = "source" | "destination";

/** Where a mirror copies from and to, and how far it has come. */
export interface MirrorSpec {
  /** The extent the areas back, so that the device can tell when the mirror ends. */
  readonly volume: string;
  readonly extentIndex: number;
  readonly sourceLuId: string;
  readonly sourceAreaIndex: number;
  readonly destinationLuId: string;
  readonly destinationAreaIndex: number;
  /** Bytes from the area's start already copied; writes below go to both areas. */
  readonly watermarkBytes: number;
}

/** A byte range within the area, [startBytes, endBytes). */
interface Span {
  readonly startBytes: number;
  readonly endBytes: number;
}

function overlaps(a: Span, b: Span): boolean {
  return a.startBytes < b.endBytes && b.startBytes < a.endBytes;
}

/** A write in flight, which later overlapping writes and chunk copies wait for. */
interface InFlight extends Span {
  readonly done: Promise<void>;
}

/** The chunk being copied. */
interface Copying extends Span {
  /** Resolves when its copy ends, after every pass. */
  readonly done: Promise<void>;
  /** Host writes that went into the chunk during its copy: a pass that began before one may have read without it, so it copies again. */
  touches: number;
  /** Writes into the chunk wait for this pass: the last one, or a copy of a marked region again (recopies). */
  hostsWait: boolean;
}

/** The write-intent record as a mirror uses it (write-intent-file.ts WriteIntents). */
export interface WriteIntentPort {
  /** Undefined when the regions are durably marked already; else resolves once they are (then `end` follows), or rejects (then not). */
  begin(mirrorId: string, firstRegion: number, lastRegion: number): Promise<void> | undefined;
  end(mirrorId: string, firstRegion: number, lastRegion: number): void;
  recopied(mirrorId: string, regionIndex: number): void;
  /** Marks regions for writes that may come; resolves once durable or skipped, never rejects (WriteIntents.premark). */
  premark(mirrorId: string, firstRegion: number, lastRegion: number): Promise<void>;
}

/** How far a copy has come, taken before a flush and made durable by markDurable after it. */
export interface CopyProgress {
  readonly copiedBytes: number;
  readonly recopiedCount: number;
}

export class AreaMirror {
  readonly spec: Omit<MirrorSpec, "watermarkBytes">;
  readonly areaBytes: number;
  /** Copied up to here (maybe only in the page cache): writes below go to both areas. */
  private watermark: number;
  /** Bytes of the source that read as zeroes where the destination did too: nothing was written (holes skipped). */
  private skippedBytes = 0;
  /** Copied and made durable up to here: what is reported and saved. */
  private durableWatermark: number;
  private readonly sourceBaseBytes: number;
  private readonly destinationBaseBytes: number;
  private readonly inFlight = new Set<InFlight>();
  /** The chunk being copied, and when its copy ends. */
  private copying: Copying | undefined = undefined;

  /** Why mirroring a write to the destination failed; from then on the mirror only writes the source, and is never in sync. */
  private writeFailure: string | undefined = undefined;
  /**
   * Resolves once the failure is saved (saveFailure: mirrors.json then says
   * to copy the whole area again), and every write the destination misses
   * waits for it: a restart must not trust a watermark below which the
   * destination lacks acknowledged writes.
   */
  private failureSaved: Promise<void> | undefined = undefined;
  /** The mirror's name in the write-intent record. */
  readonly intentId: string;
  /** Regions below the watermark marked at an unclean stop, to copy again before any chunk: ascending region indexes. */
  private readonly recopies: number[] = [];
  /** Regions copied again, and of those the ones made durable (markDurable). */
  private recopiedCount = 0;
  private recopiedDurableCount = 0;
  /**
   * A host write has reached this mirror: the copy then marks regions ahead
   * of the writes that may follow it (premarkAhead). A mirror no host
   * writes to, as in most migrations, marks only its first regions
   * (premarkStart).
   */
  private hostWritten = false;
  /** Regions below this were asked to be premarked (premarkAhead)... */
  private premarkedEnd = 0;
  /** ...in these batches, each durable once its promise resolves, oldest first. */
  private readonly premarks: { readonly endRegion: number; readonly durable: Promise<void> }[] = [];
  /** Set by end(): writes go to the source alone. */
  private ended = false;
  /** Writes that went past this mirror before it took the watched LU's writes (copyAfter). */
  private earlierWrites: Promise<void> = Promise.resolve();

  /**
   * `watched` is an own LU whose area hosts' I/O reaches: the source, or the
   * destination when the source is an external device's (the apparatuses
   * then send the extent's I/O there, and reads come from the source).
   */
  constructor(spec: MirrorSpec, readonly source: LuAreas, readonly destination: LuAreas, readonly watched: LogicalUnit,
    private readonly intents: WriteIntentPort, private readonly saveFailure: () => Promise<void>) {
    const { watermarkBytes, ...where } = spec;
    this.spec = where;
    this.intentId = mirrorIntentId(where);
    this.areaBytes = watched.extentSizeBytes;
    // Checked before anything is mirrored: an area past either end is refused, not failed later.
    this.sourceBaseBytes = source.areaOffsetBytes(spec.sourceAreaIndex);
    this.destinationBaseBytes = destination.areaOffsetBytes(spec.destinationAreaIndex);
    this.watermark = watermarkBytes;
    this.durableWatermark = watermarkBytes;
  }

  /** The durable watermark. */
  get watermarkBytes(): number {
    return this.durableWatermark;
  }

  /** Copied up to here, durable or not. */
  get copiedBytes(): number {
    return this.watermark;
  }

  /** Copied bytes that were zero runs on both sides, so not written: a mostly empty area copies only its data. */
  get holeBytesSkipped(): number {
    return this.skippedBytes;
  }

  /** Every byte copied, and every marked region copied again; durable only once synced. */
  get copied(): boolean {
    return this.watermark >= this.areaBytes && this.recopies.length === 0;
  }

  /** Every byte copied and durable, marked regions too, and every write mirrored: the extent may be switched. */
  get synced(): boolean {
    return this.durableWatermark >= this.areaBytes && this.recopies.length === 0 &&
      this.recopiedDurableCount === this.recopiedCount && this.writeFailure === undefined;
  }

  /** Copied (or copied again) past what was made durable: a flush would move something on. */
  get ahead(): boolean {
    return this.watermark > this.durableWatermark || this.recopiedCount > this.recopiedDurableCount;
  }

  /** Where the copy is now, for markDurable once a flush that starts after this has completed. */
  get progress(): CopyProgress {
    return { copiedBytes: this.watermark, recopiedCount: this.recopiedCount };
  }

  /**
   * Regions the write-intent record held for this mirror after an unclean
   * stop: those below the watermark are copied again before anything else;
   * above it the copy writes them anyway, so their marks are released now.
   */
  takeRecopies(regionIndexes: readonly number[]): void {
    for (const regionIndex of regionIndexes) {
      if (regionIndex * writeIntentRegionBytes < this.watermark) this.recopies.push(regionIndex);
      else this.intents.recopied(this.intentId, regionIndex);
    }
    this.recopies.sort((left, right) => left - right);
  }

  /** Why a mirrored write failed at the destination, if one did. */
  get failure(): string | undefined {
    return this.writeFailure;
  }

  /** The destination was made durable after the copy reached `progress`. */
  markDurable(progress: CopyProgress): void {
    this.durableWatermark = Math.max(this.durableWatermark, Math.min(progress.copiedBytes, this.watermark));
    this.recopiedDurableCount = Math.max(this.recopiedDurableCount, Math.min(progress.recopiedCount, this.recopiedCount));
  }

  /** The byte range of one area's LU this mirror takes hosts' I/O for. */
  spanOn(side: MirrorSide): Span {
    const baseBytes = side === "source" ? this.sourceBaseBytes : this.destinationBaseBytes;
    return { startBytes: baseBytes, endBytes: baseBytes + this.areaBytes };
  }

  /** A host read of `into.length` bytes at `areaOffsetBytes` within the area: the source has every write. */
  read(areaOffsetBytes: number, into: Buffer): Promise<void> {
    return this.source.direct.read(this.sourceBaseBytes + areaOffsetBytes, into);
  }

  /**
   * A host write of `data` at `areaOffsetBytes` within the area, addressed to
   * `side`, where it goes alone once the mirror has ended (the commit drained the other face).
   */
  async write(areaOffsetBytes: number, data: Buffer, fua: boolean, side: MirrorSide = "source"): Promise<void> {
    const span = { startBytes: areaOffsetBytes, endBytes: areaOffsetBytes + data.length };
    if (!this.hostWritten && !this.ended) this.premarkCopied();
    // The last check and everything up to the watermark's reading below run in one turn, so a
    // chunk's copy either sees this write in flight or sees it touch the chunk.
    for (let waitFor = this.blockerOf(span); waitFor !== undefined; waitFor = this.blockerOf(span)) await waitFor;
    if (this.ended) {
      const [lu, baseBytes] = side === "source" ? [this.source, this.sourceBaseBytes] : [this.destination, this.destinationBaseBytes];
      await lu.direct.write(baseBytes + areaOffsetBytes, data, fua);
      return;
    }
    let finish = (): void => undefined;
    const record: InFlight = { ...span, done: new Promise<void>((resolve) => { finish = resolve; }) };
    this.inFlight.add(record);
    try {
      // Stable across the awaits below: a chunk copy overlapping this write waits for it,
      // or copies the chunk again once it is done.
      const mirroredBytes = Math.min(span.endBytes, this.watermark) - areaOffsetBytes;
      if (this.copying !== undefined && overlaps(this.copying, span)) this.copying.touches += 1;
      if (mirroredBytes <= 0) {
        await this.source.direct.write(this.sourceBaseBytes + areaOffsetBytes, data, fua);
        return;
      }
      if (this.failureSaved !== undefined) {
        await Promise.all([this.source.direct.write(this.sourceBaseBytes + areaOffsetBytes, data, fua), this.failureSaved]);
        return;
      }
      const firstRegion = Math.floor(areaOffsetBytes / writeIntentRegionBytes);
      const lastRegion = Math.floor((areaOffsetBytes + mirroredBytes - 1) / writeIntentRegionBytes);
      // A write whose regions cannot be marked (the record's file failed, or it is full) fails
      // before it touches either area: written to both unmarked it could be torn unseen, and to
      // the source alone it would leave a destination that a restart trusts.
      const marking = this.intents.begin(this.intentId, firstRegion, lastRegion);
      if (marking !== undefined) await marking;
      try {
        await this.writeBoth(areaOffsetBytes, data, mirroredBytes, fua);
      } finally {
        this.intents.end(this.intentId, firstRegion, lastRegion);
      }
    } finally {
      this.inFlight.delete(record);
      finish();
    }
  }

  private async writeBoth(areaOffsetBytes: number, data: Buffer, mirroredBytes: number, fua: boolean): Promise<void> {
    const toSource = this.source.direct.write(this.sourceBaseBytes + areaOffsetBytes, data, fua);
    // The host's write stands on the source alone: a destination that fails (an external
    // server gone) fails the migration, which leaves the extent on its source, not the host.
    const toDestination = this.destination.direct.write(this.destinationBaseBytes + areaOffsetBytes, data.subarray(0, mirroredBytes), fua)
      .catch((error: unknown) => this.failed(error));
    await Promise.all([toSource, toDestination]);
  }

  /** The first mirrored write the destination failed: never in sync from here, and saved so that a restart copies all again. */
  private failed(error: unknown): Promise<void> {
    if (this.failureSaved === undefined) {
      this.writeFailure = error instanceof Error ? error.message : String(error);
      this.failureSaved = this.saveFailure();
    }
    return this.failureSaved;
  }

  /**
   * Copies the next chunk of at most `chunkBytes` from the source to the
   * destination and moves the watermark past it. Not durable by itself: the
   * caller flushes the destination and then calls markDurable, so that one
   * flush covers many chunks (a durable write per chunk into a sparse LU
   * waited for the file system's journal each time, and copied at a fifth
   * of cp's speed). Returns how many times it copied a chunk: more than
   * once when host writes touched it (copySpan), 0 when all is copied.
   */
  async copyNextChunk(chunkBytes: number, buffer: Buffer): Promise<number> {
    const regionIndex = this.recopies[0];
    if (regionIndex !== undefined) {
      // A region marked at an unclean stop: the source has what the host may read, so it is copied again.
      const startBytes = regionIndex * writeIntentRegionBytes;
      // Below the watermark, where writes go to both areas: they wait, as a recopy is rare.
      const copies = await this.copySpan({ startBytes, endBytes: Math.min(startBytes + writeIntentRegionBytes, this.watermark) }, buffer, true);
      this.recopies.shift();
      this.recopiedCount += 1;
      this.intents.recopied(this.intentId, regionIndex);
      return copies;
    }
    if (this.copied) return 0;
    const chunk = { startBytes: this.watermark, endBytes: Math.min(this.areaBytes, this.watermark + chunkBytes) };
    if (this.hostWritten) this.premarkAhead(chunk);
    await this.premarkedFor(chunk);
    return this.copySpan(chunk, buffer, false);
  }

  /**
   * Marks the first `premarkAheadRegions` regions the copy will pass, when
   * it has any to copy. Asked for when the mirror is set up, so that the
   * mirrors a change starts together share one write of the record, and a
   * move's writes after its copy, all mirrored, find their regions marked.
   * A copy no host writes to marks nothing more (premarkAhead).
   */
  premarkStart(): void {
    if (this.watermark >= this.areaBytes) return;
    const firstRegion = Math.floor(this.watermark / writeIntentRegionBytes);
    this.premarkRegions(firstRegion, Math.min(this.areaRegions, firstRegion + premarkAheadRegions));
  }

  /**
   * The first host write to this mirror: from now on the copy marks ahead
   * (premarkAhead), and the regions copied already are marked now, since
   * every later write there is mirrored. The write that calls this waits
   * for its own mark.
   */
  private premarkCopied(): void {
    this.hostWritten = true;
    this.premarkRegions(0, Math.min(this.areaRegions, Math.ceil(this.watermark / writeIntentRegionBytes) + premarkAheadRegions));
  }

  /**
   * Keeps the regions up to `premarkAheadRegions` past `chunk` marked,
   * asking for more once fewer than half are left: host writes follow the
   * copy. Waiting for its own mark, a write behind the copy took the
   * record's fdatasync, some milliseconds: bench:pause put the moved
   * extent's median write at 3-4 ms with each write marking for itself.
   */
  private premarkAhead(chunk: Span): void {
    const lastRegion = Math.floor((chunk.endBytes - 1) / writeIntentRegionBytes);
    if (this.premarkedEnd >= Math.min(this.areaRegions, lastRegion + 1 + premarkAheadRegions / 2)) return;
    const from = Math.max(this.premarkedEnd, Math.floor(chunk.startBytes / writeIntentRegionBytes));
    this.premarkRegions(from, Math.min(this.areaRegions, lastRegion + 1 + premarkAheadRegions));
  }

  private premarkRegions(firstRegion: number, endRegion: number): void {
    if (endRegion <= firstRegion) return;
    this.premarks.push({ endRegion, durable: this.intents.premark(this.intentId, firstRegion, endRegion - 1) });
    this.premarkedEnd = Math.max(this.premarkedEnd, endRegion);
  }

  /** Resolves once the marks asked for the regions of `chunk`, if any, are durable: the copy passes a region only then. */
  private async premarkedFor(chunk: Span): Promise<void> {
    const firstRegion = Math.floor(chunk.startBytes / writeIntentRegionBytes);
    const lastRegion = Math.floor((chunk.endBytes - 1) / writeIntentRegionBytes);
    while (this.premarks.length > 0 && (this.premarks[0]?.endRegion ?? 0) <= firstRegion) this.premarks.shift();
    for (const batch of this.premarks) {
      await batch.durable;
      if (batch.endRegion > lastRegion) return;
    }
  }

  private get areaRegions(): number {
    return Math.ceil(this.areaBytes / writeIntentRegionBytes);
  }

  /**
   * Copies nothing before `settled` resolves: the writes to the watched LU
   * that started before this mirror took its writes, which went past it and
   * may not have reached the source yet (LogicalUnit.writesSettled).
   */
  copyAfter(settled: Promise<void>): void {
    this.earlierWrites = settled;
  }

  /**
   * Copies `chunk` of the area from the source to the destination, again
   * while host writes touched it during a pass, and then, in the same turn
   * as the last pass's check, moves the watermark past a chunk above it.
   * Each pass first waits for the writes in flight there as it begins; a
   * write that begins later touches the chunk. So a pass no write
   * touched read every write the source alone has there. With `hostsWait`,
   * or from the chunkCopyPassesMax-th pass on, writes into the chunk wait.
   * Returns the number of passes.
   */
  private async copySpan(chunk: Span, buffer: Buffer, hostsWait: boolean): Promise<number> {
    assert.ok(chunk.endBytes - chunk.startBytes <= buffer.length && chunk.startBytes < chunk.endBytes);
    let finish = (): void => undefined;
    const copying: Copying = { ...chunk, done: new Promise<void>((resolve) => { finish = resolve; }), touches: 0, hostsWait };
    this.copying = copying;
    try {
      await this.earlierWrites;
      for (let pass = 1; ; pass += 1) {
        const touchesBefore = copying.touches;
        copying.hostsWait ||= pass >= chunkCopyPassesMax;
        await Promise.all(this.writesOverlapping(chunk).map((writing) => writing.done));
        const skipped = await this.copyOnce(chunk, buffer);
        if (copying.touches !== touchesBefore) continue;
        if (skipped) this.skippedBytes += chunk.endBytes - chunk.startBytes;
        this.watermark = Math.max(this.watermark, chunk.endBytes);
        return pass;
      }
    } finally {
      this.copying = undefined;
      finish();
    }
  }

  /** One read of `chunk` from the source and its write to the destination; true when it was a hole on both sides (nothing written). */
  private async copyOnce(chunk: Span, buffer: Buffer): Promise<boolean> {
    const piece = buffer.subarray(0, chunk.endBytes - chunk.startBytes);
    await this.source.direct.read(this.sourceBaseBytes + chunk.startBytes, piece);
    if (await this.holeOnBothSides(chunk.startBytes, piece)) return true;
    await this.destination.direct.write(this.destinationBaseBytes + chunk.startBytes, piece, false);
    return false;
  }

  /**
   * True when `piece`, just read from the source, is all zeroes and the
   * destination reads as zeroes there too: writing would only allocate
   * zeroes in the destination (the same zero runs block status reports as
   * holes, allocation.ts). A destination chunk holding old data is zeroed
   * by the write the caller then does, `piece` being zeroes still.
   */
  private async holeOnBothSides(startBytes: number, piece: Buffer): Promise<boolean> {
    if (!isZero(piece)) return false;
    await this.destination.direct.read(this.destinationBaseBytes + startBytes, piece);
    if (isZero(piece)) return true;
    piece.fill(0);
    return false;
  }

  /** Resolves once no chunk is being copied. */
  idle(): Promise<void> { return this.copying?.done ?? Promise.resolve(); }

  /**
   * The commit that ended this mirror was made (or it was stopped): a write
   * that has not reached its mirrored part goes to the area it was
   * addressed to alone from now on. Resolves once no copy and no mirrored write is under way, so
   * that nothing reaches the destination, an area the commit may have
   * freed, after the caller answers. A switch or an unmirror holds the
   * extent's writes, but deleting a volume, and StopMirror, hold none.
   */
  end(): Promise<void> {
    this.ended = true;
    return Promise.all([this.idle(), ...[...this.inFlight].map((writing) => writing.done)]).then(() => undefined);
  }

  /** What a write to `span` waits for first: a copy of that chunk that makes writes wait, or an overlapping write. */
  private blockerOf(span: Span): Promise<void> | undefined {
    if (this.copying?.hostsWait === true && overlaps(this.copying, span)) return this.copying.done;
    return this.overlappingWrite(span)?.done;
  }

  private writesOverlapping(span: Span): InFlight[] {
    return [...this.inFlight].filter((writing) => overlaps(writing, span));
  }

  private overlappingWrite(span: Span): InFlight | undefined {
    for (const writing of this.inFlight) if (overlaps(writing, span)) return writing;
    return undefined;
  }
}
