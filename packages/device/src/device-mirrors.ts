/**
 * The device's mirrors (area-mirror.ts): which areas are in mirror state,
 * the copy that brings each destination up to date, and mirrors.json, which
 * keeps them across a restart of the device so that a copy resumes from its
 * last saved watermark and mirroring starts again before any write is served.
 *
 * A mirror lives while the committed table has its extent in mirror state
 * from its source area to its destination: the commit that switches the
 * extent to the destination (or cancels the mirror, moves the extent
 * elsewhere, or deletes it) ends it in the same step, so an area freed by the
 * commit is never written by a mirror once it may belong to a volume.
 *
 * Beside mirrors.json, the write-intent record (write-intent-file.ts) lists
 * the regions whose mirrored writes may not have reached both areas whole;
 * after an unclean stop each mirror copies those again before it is in sync.
 */
import assert from "node:assert/strict";
import path from "node:path";
import type { ExtentRow, StoreState__Output } from "@switchyard/proto";
import { AreaMirror, type MirrorSpec } from "./area-mirror.js";
import { readFileIfExists, writeFileDurably } from "./durable-file.js";
import { nodeFiles, type DeviceFiles } from "./device-files.js";
import { InvalidArgumentError, LimitExceededError, MirrorNotInSyncError } from "./errors.js";
import type { IoInterceptor, LogicalUnit, LuAreas } from "./logical-unit.js";
import { checkMirrorRequest, checkRate, externalSourceMirror, externalSourceMirrors, mirrorsFileText, parseMirrorsFile, sameAreas, switchRefusal, tableHasMirror, type StartMirrorRequest } from "./mirror-records.js";
import { splitAtAreas, watchedAreas, WatchedAreas } from "./mirror-io-split.js";
import { ChunkPacer } from "./chunk-pacer.js";
import { ProgressSignal } from "./progress-signal.js";
import { writeIntentRegionBytes } from "./write-intent.js";
import { WriteIntents } from "./write-intent-file.js";

export const mirrorsFileName = "mirrors.json";
/** A chunk of a mirror's copy: the range whose writes wait while it is copied. */
export const mirrorChunkBytes = 1 << 20;
/** Mirrors copying at once; more wait their turn. */
export const mirrorCopiesMax = 4;
/** Mirrors at once on one device. */
export const mirrorsMax = 4096;
/** The longest a ListMirrors long poll may wait for progress. */
export const mirrorListWaitMaxMs = 5_000;

// A recopied region is copied like a chunk, into a copier's chunk buffer.
assert.ok(writeIntentRegionBytes <= mirrorChunkBytes);

/** Where a mirror's areas are. */
export interface MirrorEnds {
  /** The device's own LU, or undefined when it has none by that id. */
  own(luId: string): LogicalUnit | undefined;
  /** An external device's LU the store lists; NOT_FOUND otherwise. */
  external(luId: string): LuAreas;
}

/** A mirror as the Device service reports it. */
export interface MirrorStatus extends MirrorSpec {
  readonly synced: boolean;
  /** Bytes per second this mirror's group copies at; 0 for no limit. */
  readonly rateBytesPerSecond: number;
  readonly group: string;
  /** Why the copy stopped, or "" while it goes on or is done. */
  readonly failure: string;
  /** Copied bytes that were holes on both sides, so not written (since this device started the copy). */
  readonly holeBytesSkipped: number;
  /** Chunk copies beyond each chunk's first, made because host writes went into it meanwhile (since this device started the copy). */
  readonly chunksCopiedAgain: number;
}

interface MirrorEntry {
  readonly mirror: AreaMirror;
  group: string;
  rateBytesPerSecond: number;
  /**
   * False for a mirror the device set up itself at the commit that put an
   * external source's extent in mirror state: it mirrors at once (the
   * apparatuses send that extent's I/O here from the release on) but copies,
   * and is listed, only once StartMirror gives its group and rate.
   */
  started: boolean;
  /** Why its copy stopped (a read error on the source, say); the mirror goes on mirroring. */
  failure: string | undefined;
  /** Copies of its chunks beyond each one's first: host writes landed in a chunk while it was copied. */
  chunksCopiedAgain: number;
}

const noop = (): void => undefined;
const keyOf = (volume: string, extentIndex: number): string => `${volume}\u0000${extentIndex}`;

export class DeviceMirrors implements IoInterceptor {
  private readonly entries = new Map<string, MirrorEntry>();
  private readonly pacer = new ChunkPacer(mirrorChunkBytes);
  /** The areas whose hosts' I/O the mirrors take. */
  private readonly watched = new WatchedAreas(this);
  /** Mirrors a copier is working on. */
  private readonly busy = new Set<MirrorEntry>();
  private copiers = 0;
  /** The flush loop (flushWhileAhead), while it runs. */
  private flushing: Promise<void> = Promise.resolve();
  private flushLoopRunning = false;
  private saved: Promise<void> = Promise.resolve();
  /** The save that has not begun yet, which any new request joins. */
  private saveQueued: Promise<void> | undefined = undefined;
  private closed = false;
  /** Rises whenever what list() reports changes in a way a migration waits for (see bumpProgress). */
  private readonly progressSignal = new ProgressSignal();

  private constructor(private readonly filePath: string, private readonly ends: MirrorEnds, private readonly files: DeviceFiles,
    private readonly intents: WriteIntents) {}

  /**
   * The mirrors saved in `dir` that the `committed` table still has, mirroring
   * again and copying on, marked regions first. Those it has ended (a crash
   * between a commit and the save after it) are dropped before anything
   * copies: a switch made their destination the extent's home.
   */
  static async open(dir: string, ends: MirrorEnds, committed: StoreState__Output, files: DeviceFiles = nodeFiles): Promise<DeviceMirrors> {
    const filePath = path.join(dir, mirrorsFileName);
    const bytes = await readFileIfExists(files, filePath);
    const requests = (bytes === undefined ? [] : parseMirrorsFile(bytes, filePath)).filter((request) => tableHasMirror(committed, request));
    const flusher: { mirrors?: DeviceMirrors } = {};
    const { intents, unreadable } = await WriteIntents.open(files, dir, (ids) => flusher.mirrors?.flushEnds(ids) ?? Promise.resolve());
    const mirrors = new DeviceMirrors(filePath, ends, files, intents);
    flusher.mirrors = mirrors;
    try {
      // An unreadable record cannot say which regions to copy again, so all are.
      for (const request of requests) mirrors.add(unreadable === undefined ? request : { ...request, watermarkBytes: 0 }, true);
      // Mirrors from external sources the table has, and the marks of mirrors it no longer has.
      await mirrors.afterCommit(committed);
    } catch (error) {
      await intents.close();
      throw error;
    }
    mirrors.startCopiers();
    return mirrors;
  }

  list(): MirrorStatus[] {
    return [...this.entries.values()].filter((entry) => entry.started).map((entry) => {
      const { mirror, group, rateBytesPerSecond } = entry;
      const failure = failureOf(entry);
      return { ...mirror.spec, watermarkBytes: mirror.watermarkBytes, synced: mirror.synced && failure === undefined, group, rateBytesPerSecond, failure: failure ?? "", holeBytesSkipped: mirror.holeBytesSkipped,
        chunksCopiedAgain: entry.chunksCopiedAgain };
    });
  }

  /** How many times the mirrors' reported state has moved on; see waitForProgress. */
  get progress(): number {
    return this.progressSignal.count;
  }

  /**
   * Resolves once progress is above `afterProgress`, or after `waitMs`, or
   * when the mirrors close: a long poll, so a migration hears of a copy in
   * sync as soon as it is, without asking over and over.
   */
  waitForProgress(afterProgress: number, waitMs: number): Promise<void> {
    if (!Number.isSafeInteger(waitMs) || waitMs < 0 || waitMs > mirrorListWaitMaxMs) {
      return Promise.reject(new InvalidArgumentError(`wait of ${waitMs} ms is not a whole number of ms from 0 to ${mirrorListWaitMaxMs}`));
    }
    if (this.closed) return Promise.resolve();
    return this.progressSignal.waitPast(afterProgress, waitMs);
  }

  /**
   * Puts an extent's source area in mirror state and starts copying, from
   * `watermarkBytes` (a resumed migration's saved progress). Asking again
   * for the same mirror answers its status; a different one for the extent
   * is refused. Saved before it returns.
   */
  async start(request: StartMirrorRequest): Promise<MirrorStatus> {
    const existing = this.entries.get(keyOf(request.volume, request.extentIndex));
    if (existing !== undefined && !sameAreas(existing.mirror.spec, request)) {
      throw new InvalidArgumentError(`extent ${request.extentIndex} of ${request.volume} is being mirrored to ${existing.mirror.spec.destinationLuId} area ${existing.mirror.spec.destinationAreaIndex} already`);
    }
    if (existing === undefined || !existing.started) {
      if (existing === undefined) {
        this.add(request, true);
      } else {
        // Set up at its commit, mirroring since: it keeps its own watermark, from which nothing was copied yet.
        checkRate(request.rateBytesPerSecond);
        Object.assign(existing, { started: true, group: request.group, rateBytesPerSecond: request.rateBytesPerSecond });
      }
      await this.save();
      this.bumpProgress();
      this.startCopiers();
    }
    return this.statusOf(request.volume, request.extentIndex);
  }

  /** Where an extent's mirror copies from and to, if it has one. */
  specOf(volume: string, extentIndex: number): AreaMirror["spec"] | undefined {
    return this.entries.get(keyOf(volume, extentIndex))?.mirror.spec;
  }

  /** Ends an extent's mirror (a cancelled migration); true when there was one. Saved before it returns. */
  async stop(volume: string, extentIndex: number): Promise<boolean> {
    const entry = this.entries.get(keyOf(volume, extentIndex));
    if (entry === undefined || !this.remove(keyOf(volume, extentIndex))) return false;
    await entry.mirror.end();
    await this.save();
    this.bumpProgress();
    return true;
  }

  /**
   * Before a commit, in its turn: refuses rows that would put an extent on
   * its mirror's destination while the mirror is not in sync, for example
   * because a mirrored write failed there after the controller saw it in
   * sync, or while this device copies nothing there at all (switchRefusal),
   * so that a switch can never lose a write the host was told is done; and
   * rows that put an external source's extent in mirror state
   * onto this device when it could not set that mirror up (afterCommit).
   */
  checkCommit(state: StoreState__Output, rows: readonly ExtentRow[]): void {
    this.checkSwitches(state, rows);
    // A mirror from an external source must be set up once the commit lands; refused now if it cannot be.
    let adopted = 0;
    for (const row of rows) {
      const spec = externalSourceMirror(state, row);
      if (spec === undefined || this.entries.has(keyOf(spec.volume, spec.extentIndex))) continue;
      this.ends.external(spec.sourceLuId);
      adopted += 1;
    }
    if (this.entries.size + adopted > mirrorsMax) throw new LimitExceededError(`the device keeps at most ${mirrorsMax} mirrors`);
  }

  private checkSwitches(state: StoreState__Output, rows: readonly ExtentRow[]): void {
    for (const row of rows) {
      const entry = this.entries.get(keyOf(row.volume ?? "", row.extent_index ?? 0));
      const copy = entry === undefined ? undefined : { spec: entry.mirror.spec, synced: entry.mirror.synced, failure: failureOf(entry), watermarkBytes: entry.mirror.watermarkBytes, areaBytes: entry.mirror.areaBytes };
      const refusal = switchRefusal(state, row, copy);
      if (refusal !== undefined) throw new MirrorNotInSyncError(refusal);
    }
  }

  /**
   * After a commit: ends every mirror the committed table no longer has.
   * Runs before the commit is answered.
   */
  async afterCommit(state: StoreState__Output, rows?: readonly ExtentRow[]): Promise<void> {
    this.adoptExternalSources(state, rows);
    const ended: AreaMirror[] = [];
    for (const [key, { mirror }] of this.entries) {
      if (tableHasMirror(state, mirror.spec)) continue;
      this.remove(key);
      ended.push(mirror);
    }
    // Marks recovered for a mirror not set up again are kept while the table has it (StartMirror may yet come).
    this.intents.forgetUnless((identity) => this.entries.has(keyOf(identity.volume, identity.extentIndex)) || tableHasMirror(state, identity));
    if (ended.length === 0) return;
    this.bumpProgress();
    // A chunk still being copied, or a mirrored write under way, would land in an area the commit may have given away.
    await Promise.all(ended.map((mirror) => mirror.end()));
    // Saved later, not waited for: a restart drops what the table no longer has anyway (open).
    this.save().catch(() => undefined);
  }

  write(lu: LogicalUnit, offsetBytes: number, data: Buffer, fua: boolean): Promise<void> | undefined {
    return splitAtAreas(lu, this.watched.of(lu), offsetBytes, data, () => true,
      ({ mirror, side }, areaOffsetBytes, part) => mirror.write(areaOffsetBytes, part, fua, side),
      (at, part) => lu.writeDirect(at, part, fua));
  }

  /** Reads of a mirror's destination come from its source, which has every write; others are left to the LU. */
  read(lu: LogicalUnit, offsetBytes: number, into: Buffer): Promise<void> | undefined {
    return splitAtAreas(lu, this.watched.of(lu), offsetBytes, into, (area) => area.side === "destination",
      ({ mirror }, areaOffsetBytes, part) => mirror.read(areaOffsetBytes, part),
      (at, part) => lu.readDirect(at, part));
  }

  /** A host's FLUSH of `lu` also flushes the other end of every mirror it is watched for. */
  flush(lu: LogicalUnit): Promise<void> | undefined {
    const byArea = this.watched.of(lu);
    if (byArea === undefined) return undefined;
    const others = new Set<LuAreas>();
    for (const { mirror, side } of byArea.values()) others.add(side === "source" ? mirror.destination : mirror.source);
    return Promise.all([...others].map((end) => end.direct.flush())).then(() => undefined);
  }

  /**
   * Sets up, mirroring but not yet copying, every mirror the committed table
   * has from an external device's area onto one of this device's: the
   * apparatuses send such an extent's I/O here from the commit's release
   * on, and a write must reach the source from the first. Only `rows` are
   * looked at, so a commit costs its diff; the whole table on open.
   */
  private adoptExternalSources(state: StoreState__Output, rows: readonly ExtentRow[] | undefined): void {
    for (const spec of externalSourceMirrors(state, rows)) {
      if (spec === undefined || this.entries.has(keyOf(spec.volume, spec.extentIndex)) || this.ends.own(spec.destinationLuId) === undefined) continue;
      this.add({ ...spec, watermarkBytes: 0, group: "", rateBytesPerSecond: 0 }, false);
    }
  }

  /** Stops copying and saves where each copy got to, for the next open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.progressSignal.wakeAll();
    await Promise.all([...this.entries.values()].map(({ mirror }) => mirror.idle()));
    await this.flushing;
    await this.flushCopies();
    await this.intents.close();
  }

  /** Read through a call: a copy's awaits may close the device meanwhile. */
  private isClosed(): boolean {
    return this.closed;
  }

  private statusOf(volume: string, extentIndex: number): MirrorStatus {
    const status = this.list().find((entry) => entry.volume === volume && entry.extentIndex === extentIndex);
    assert.ok(status !== undefined);
    return status;
  }

  private add(request: StartMirrorRequest, started: boolean): void {
    if (this.entries.size >= mirrorsMax) throw new LimitExceededError(`the device keeps at most ${mirrorsMax} mirrors`);
    const ownSource = this.ends.own(request.sourceLuId);
    const ownDestination = this.ends.own(request.destinationLuId);
    const watched = ownSource ?? ownDestination;
    if (watched === undefined) {
      throw new InvalidArgumentError(`neither ${request.sourceLuId} nor ${request.destinationLuId} is an LU of this device: it would see none of the extent's I/O`);
    }
    const source = ownSource ?? this.ends.external(request.sourceLuId);
    const destination = ownDestination ?? this.ends.external(request.destinationLuId);
    checkMirrorRequest(request, watched.extentSizeBytes, [...this.entries.values()].map((entry) => entry.mirror.spec));
    const mirror = new AreaMirror(request, source, destination, watched, this.intents, () => this.save());
    mirror.takeRecopies(this.intents.pendingRecopies(mirror.intentId));
    mirror.premarkStart();
    this.entries.set(keyOf(request.volume, request.extentIndex), { mirror, group: request.group, rateBytesPerSecond: request.rateBytesPerSecond, started, failure: undefined, chunksCopiedAgain: 0 });
    const watchedLus = [...watchedAreas(mirror, ownSource, ownDestination)].map(([lu, areaIndex, area]) => {
      this.watched.watch(lu, areaIndex, area);
      return lu;
    });
    // From here every write to the areas comes through the mirror; one already on its way did not.
    mirror.copyAfter(Promise.all(watchedLus.map((lu) => lu.writesSettled())).then(noop));
  }

  private remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    const { mirror } = entry;
    this.intents.forget(mirror.intentId);
    this.watched.unwatch(mirror);
    return true;
  }

  /**
   * Saves every mirror's durable watermark. Saves run one after another, and
   * the requests made while one runs share the next: starting 64 mirrors at
   * once writes the file twice, not 64 times.
   */
  private save(): Promise<void> {
    if (this.saveQueued !== undefined) return this.saveQueued;
    const next = this.saved.then(noop, noop).then(() => {
      this.saveQueued = undefined;
      return this.writeFile();
    });
    this.saveQueued = next;
    this.saved = next;
    return next;
  }

  private writeFile(): Promise<void> {
    // A mirror not started yet is set up again from the table on open.
    const started = [...this.entries.values()].filter((entry) => entry.started);
    // A destination that failed a mirrored write lacks it below the watermark: a restart copies the whole area again.
    const requests = started.map(({ mirror, group, rateBytesPerSecond }) =>
      ({ ...mirror.spec, watermarkBytes: mirror.failure === undefined ? mirror.watermarkBytes : 0, group, rateBytesPerSecond }));
    return writeFileDurably(this.files, this.filePath, mirrorsFileText(requests));
  }

  private startCopiers(): void {
    while (!this.closed && this.copiers < mirrorCopiesMax && this.copiers < this.uncopiedCount()) {
      this.copiers += 1;
      void this.copyLoop().finally(() => { this.copiers -= 1; });
    }
  }

  private uncopiedCount(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.started && !entry.mirror.copied && failureOf(entry) === undefined) count += 1;
    return count;
  }

  /** One copier: takes the next mirror no other copier has, and copies it chunk by chunk. */
  private async copyLoop(): Promise<void> {
    const buffer = Buffer.allocUnsafe(mirrorChunkBytes);
    for (let entry = this.takeMirror(); entry !== undefined && !this.closed; entry = this.takeMirror()) {
      try {
        await this.copyMirror(entry, buffer);
      } catch (error) {
        // Closing fails the copy's I/O; that is no failure of the mirror.
        if (!this.isClosed()) {
          entry.failure = error instanceof Error ? error.message : String(error);
          this.bumpProgress();
        }
      } finally {
        this.busy.delete(entry);
      }
    }
  }

  private async copyMirror(entry: MirrorEntry, buffer: Buffer): Promise<void> {
    const { mirror } = entry;
    const key = keyOf(mirror.spec.volume, mirror.spec.extentIndex);
    while (!mirror.copied && !this.isClosed() && this.entries.get(key) === entry) {
      await this.pacer.turn(entry.group, entry.rateBytesPerSecond);
      const copies = await mirror.copyNextChunk(mirrorChunkBytes, buffer);
      entry.chunksCopiedAgain += Math.max(0, copies - 1);
      this.pacer.charge(entry.group, entry.rateBytesPerSecond, copies - 1);
      this.scheduleFlush();
    }
  }

  private scheduleFlush(): void {
    if (this.flushLoopRunning || this.closed) return;
    this.flushLoopRunning = true;
    this.flushing = this.flushWhileAhead();
  }

  /**
   * Flushes back to back while some copy is ahead of its durable watermark:
   * each flush covers the chunks copied during the one before, so the disk
   * writes while the copy goes on rather than all at its end (Linux would
   * not start writing back by itself for seconds). A flush per chunk, or one
   * every 50 ms, copied at a half to two thirds of this speed.
   */
  private async flushWhileAhead(): Promise<void> {
    try {
      while (!this.closed && this.copiesAhead().length > 0) await this.flushCopies();
    } finally {
      // In the same turn as the last check: a chunk copied after it starts a new loop.
      this.flushLoopRunning = false;
    }
  }

  /** Mirrors copied past their durable watermark, and not failed (a failed flush is not tried again). */
  private copiesAhead(): MirrorEntry[] {
    return [...this.entries.values()].filter((entry) => failureOf(entry) === undefined && entry.mirror.ahead);
  }

  /**
   * Makes what the copies wrote durable (one flush per destination LU), then
   * moves each mirror's durable watermark to where its copy was before the
   * flush began, and saves. A failed flush fails those mirrors' copies.
   */
  private async flushCopies(): Promise<void> {
    const behind = this.copiesAhead();
    if (behind.length === 0) return;
    const reached = behind.map(({ mirror }) => ({ mirror, progress: mirror.progress }));
    try {
      await Promise.all([...new Set(behind.map(({ mirror }) => mirror.destination))].map((lu) => lu.direct.flush()));
    } catch (error) {
      for (const entry of behind) entry.failure = `flushing the copy to ${entry.mirror.spec.destinationLuId}: ${error instanceof Error ? error.message : String(error)}`;
      this.bumpProgress();
      return;
    }
    for (const { mirror, progress } of reached) mirror.markDurable(progress);
    // Told before the save: the watermarks are durable in the LU already, and the
    // table, not mirrors.json, decides a switch; the file only lets a restart resume.
    this.bumpProgress();
    // A failed save leaves older watermarks in the file, from which a restart copies again; the next save writes them all.
    await this.save().catch(noop);
  }

  /** Flushes both ends of the mirrors named (write-intent-file.ts), each LU once; an ended mirror needs none. */
  private async flushEnds(mirrorIds: ReadonlySet<string>): Promise<void> {
    const ends = new Set<LuAreas>();
    for (const { mirror } of this.entries.values()) {
      if (!mirrorIds.has(mirror.intentId)) continue;
      ends.add(mirror.source);
      ends.add(mirror.destination);
    }
    await Promise.all([...ends].map((end) => end.direct.flush()));
  }

  /** Wakes every long poll (waitForProgress). */
  private bumpProgress(): void {
    this.progressSignal.bump();
  }

  private takeMirror(): MirrorEntry | undefined {
    for (const entry of this.entries.values()) {
      if (!entry.started || entry.mirror.copied || failureOf(entry) !== undefined || this.busy.has(entry)) continue;
      this.busy.add(entry);
      return entry;
    }
    return undefined;
  }
}

/** Why a mirror's copy stopped, or a mirrored write failed at its destination. */
const failureOf = (entry: MirrorEntry): string | undefined => entry.failure ?? entry.mirror.failure;
