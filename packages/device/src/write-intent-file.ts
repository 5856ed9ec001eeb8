/**
 * The write-intent record's file and its I/O (the decisions are
 * write-intent.ts's). One small file per device, beside mirrors.json, lists
 * the regions of mirrored areas that may differ between source and
 * destination after an unclean stop.
 *
 * Torn writes: the file is two slots in the configuration store's format
 * (store-slots.ts), each version written whole into the slot the previous
 * one did not use and then fdatasynced, so a torn write damages only the
 * slot being written, and the other still holds the version before. That
 * older version is safe to fall back to: no write that needed the torn
 * version's marks was sent to either LU, as none starts before its marks
 * are durable; and marks the torn version cleared are merely copied again.
 * A write that failed is retried into the same slot, never the other one,
 * so the last durable version is never the one overwritten.
 *
 * A file that cannot be read at all (no valid slot, a payload that does
 * not parse, the wrong size) is replaced by an empty one and reported as
 * unreadable: the caller then copies every mirror again from its start,
 * which needs no marks.
 */
import assert from "node:assert/strict";
import path from "node:path";
import type { MirrorSpec } from "./area-mirror.js";
import type { DeviceFiles } from "./device-files.js";
import { datasync, fileExists, writeFully } from "./durable-file.js";
import { ClosedError, LimitExceededError, ioError } from "./errors.js";
import { createStoreFile, encodeSlot, readSlot, slotHeaderSizeBytes, slotSizeOf } from "./store-slots.js";
import { WriteIntentLedger, writeIntentPremarkRegionsMax, writeIntentRegionsMax, type IntentRegion, type MarkNeed } from "./write-intent.js";

export const writeIntentFileName = "write-intent.slots";
/**
 * 512 KiB per slot (the file is two, sparse until used): room for every
 * region marked at once in a mirror of its own, each entry up to
 * writeIntentEntryBytesMax; only the bytes of the current list are written,
 * some 60 per mirror and a few per region.
 */
export const writeIntentSlotBytes = 512 << 10;
/** A mirror's entry with one region: its volume name and two LU ids may take some 150 characters each. */
const writeIntentEntryBytesMax = 500;
/**
 * How long a region stays marked after its last write at least, between
 * clearing passes: a pass flushes both ends of every mirror with marks and
 * rewrites the file, so once a second costs little, and a stream of writes
 * to the same regions keeps them marked without a sync of its own.
 */
export const writeIntentClearDelayMs = 1_000;
/** Clearing passes a write waits for when the record is full, before its mirror stops mirroring. */
export const writeIntentFullWaitsMax = 3;
const formatVersion = 1;

assert.ok(writeIntentRegionsMax * writeIntentEntryBytesMax <= writeIntentSlotBytes - slotHeaderSizeBytes, "a full list fits a slot");

/** A mirror's areas, as the record names them. */
export type MirrorIdentity = Omit<MirrorSpec, "watermarkBytes">;

/** The record's name for a mirror: its extent and both areas, so a mirror ended and set up anew elsewhere is another. */
export function mirrorIntentId(spec: MirrorIdentity): string {
  return JSON.stringify([spec.volume, spec.extentIndex, spec.sourceLuId, spec.sourceAreaIndex, spec.destinationLuId, spec.destinationAreaIndex]);
}

/** The mirror `mirrorIntentId` named; undefined for a name it never makes. */
export function mirrorIdentityOf(mirrorId: string): MirrorIdentity | undefined {
  let value: unknown;
  try {
    value = JSON.parse(mirrorId);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 6) return undefined;
  const [volume, extentIndex, sourceLuId, sourceAreaIndex, destinationLuId, destinationAreaIndex] = value as unknown[];
  if (typeof volume !== "string" || typeof sourceLuId !== "string" || typeof destinationLuId !== "string") return undefined;
  if (!isIndex(extentIndex) || !isIndex(sourceAreaIndex) || !isIndex(destinationAreaIndex)) return undefined;
  return { volume, extentIndex, sourceLuId, sourceAreaIndex, destinationLuId, destinationAreaIndex };
}

const isIndex = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/** The slot payload listing `regions`; LIMIT_EXCEEDED when it would not fit a slot. */
export function encodeIntentPayload(regions: readonly IntentRegion[]): Buffer {
  const byMirror = new Map<string, number[]>();
  for (const { mirrorId, regionIndex } of regions) {
    const list = byMirror.get(mirrorId) ?? [];
    list.push(regionIndex);
    byMirror.set(mirrorId, list);
  }
  const mirrors = [...byMirror].map(([mirrorId, list]) => ({ mirror: mirrorId, regions: list.sort((left, right) => left - right) }));
  const payload = Buffer.from(JSON.stringify({ formatVersion, mirrors }), "utf8");
  if (payload.length > writeIntentSlotBytes - slotHeaderSizeBytes) {
    throw new LimitExceededError(`the write-intent record of ${regions.length} regions needs ${payload.length} bytes; a slot holds ${writeIntentSlotBytes - slotHeaderSizeBytes}`);
  }
  // Pair the assertion: what goes to disk parses back to what was meant.
  assert.equal(parseIntentPayload(payload)?.length, regions.length);
  return payload;
}

/** The regions a payload lists, or undefined when it is not what encodeIntentPayload writes. */
export function parseIntentPayload(payload: Buffer): IntentRegion[] | undefined {
  // A new file's first slot holds an empty payload: nothing marked.
  if (payload.length === 0) return [];
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || !("mirrors" in value) || !Array.isArray(value.mirrors)) return undefined;
  if (!("formatVersion" in value) || value.formatVersion !== formatVersion) return undefined;
  const regions: IntentRegion[] = [];
  for (const entry of value.mirrors as unknown[]) {
    if (typeof entry !== "object" || entry === null || !("mirror" in entry) || !("regions" in entry)) return undefined;
    const { mirror, regions: list } = entry;
    if (typeof mirror !== "string" || mirrorIdentityOf(mirror) === undefined || !Array.isArray(list)) return undefined;
    for (const regionIndex of list as unknown[]) {
      if (!isIndex(regionIndex)) return undefined;
      regions.push({ mirrorId: mirror, regionIndex });
    }
  }
  return regions.length <= writeIntentRegionsMax ? regions : undefined;
}

/** What the record found on open. */
export interface IntentFileReading {
  /** Marks listed by the newest valid version. */
  readonly regions: IntentRegion[];
  /** That version's sequence number; the next goes to the other slot. */
  readonly sequence: number;
}

/** The newest valid version in the open file, or why there is none. */
export async function readIntentFile(files: DeviceFiles, fd: number, filePath: string): Promise<IntentFileReading | string> {
  let slotBytes: number;
  try {
    slotBytes = await slotSizeOf(files, fd, filePath);
  } catch (error) {
    return messageOf(error);
  }
  // Another size is no file this software wrote; its versions would be written at the wrong places.
  if (slotBytes !== writeIntentSlotBytes) return `slots of ${slotBytes} bytes, not ${writeIntentSlotBytes}`;
  const readings = [await readSlot(files, fd, 0, slotBytes), await readSlot(files, fd, 1, slotBytes)];
  let newest: IntentFileReading | undefined;
  for (const reading of readings) {
    if (!reading.valid || (newest !== undefined && reading.header.sequence <= newest.sequence)) continue;
    const regions = parseIntentPayload(reading.payload);
    // A checksummed payload that does not parse is not a torn write: the file is not ours.
    if (regions === undefined) return `slot with sequence ${reading.header.sequence} does not list regions`;
    newest = { regions, sequence: reading.header.sequence };
  }
  return newest ?? "no valid slot";
}

/** Flushes the source and destination of each mirror named (by mirrorIntentId): supplied by the mirrors. */
export type FlushMirrorEnds = (mirrorIds: ReadonlySet<string>) => Promise<void>;

/**
 * Runs `task` one at a time; the requests made while one runs share the
 * next, which starts after it: a caller always gets a run that starts after
 * its request, so it sees what the caller did before asking.
 */
class CoalescedRuns {
  private last: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined = undefined;

  constructor(private readonly task: () => Promise<void>) {}

  request(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    const next = this.last.then(noop, noop).then(() => {
      this.queued = undefined;
      return this.task();
    });
    this.queued = next;
    this.last = next;
    return next;
  }
}

const noop = (): void => undefined;

export class WriteIntents {
  private readonly ledger = new WriteIntentLedger();
  private readonly writes = new CoalescedRuns(() => this.writeVersion());
  private readonly passes = new CoalescedRuns(() => this.clearPass());
  /** The file version being written, while one is: a mark it lists is durable once it is. */
  private writing: { readonly version: number; readonly done: Promise<void> } | undefined = undefined;
  private clearTimer: NodeJS.Timeout | undefined = undefined;
  private closed = false;
  /** Why the last clearing pass failed, if it did: its marks stay, and the next pass tries again. */
  private clearFailure: string | undefined = undefined;

  private constructor(private readonly files: DeviceFiles, private readonly filePath: string, private fd: number,
    private sequence: number, private readonly flushEnds: FlushMirrorEnds) {}

  /**
   * The record in `dir`, created when missing, with the marks it holds
   * recovered; `unreadable` says why the file could not be read, when it
   * could not (it is replaced by an empty one, and every mirror must copy
   * again from its start).
   */
  static async open(files: DeviceFiles, dir: string, flushEnds: FlushMirrorEnds): Promise<{ intents: WriteIntents; unreadable: string | undefined }> {
    const filePath = path.join(dir, writeIntentFileName);
    if (!(await fileExists(files, filePath))) await createStoreFile(files, filePath, writeIntentSlotBytes);
    let fd = await openForWriting(files, filePath);
    let reading = await readIntentFile(files, fd, filePath).catch(async (error: unknown) => {
      await files.close(fd);
      throw error;
    });
    let unreadable: string | undefined;
    if (typeof reading === "string") {
      unreadable = `${filePath}: ${reading}`;
      await files.close(fd);
      await createStoreFile(files, filePath, writeIntentSlotBytes);
      fd = await openForWriting(files, filePath);
      reading = { regions: [], sequence: 0 };
    }
    const intents = new WriteIntents(files, filePath, fd, reading.sequence, flushEnds);
    intents.ledger.recover(reading.regions);
    return { intents, unreadable };
  }

  /** Regions marked or held. */
  get markedCount(): number {
    return this.ledger.size;
  }

  /** Why the last clearing pass failed, if it did. */
  get lastClearFailure(): string | undefined {
    return this.clearFailure;
  }

  /**
   * A write is about to touch regions `firstRegion` to `lastRegion` of the
   * mirror's area: undefined when they are durably marked already (the hot
   * path: no Promise); else a Promise that resolves once they are. Either
   * way the caller calls `end` with the same regions after its write; when
   * the Promise rejects it must not (nothing is counted then).
   */
  begin(mirrorId: string, firstRegion: number, lastRegion: number): Promise<void> | undefined {
    assert.ok(Number.isSafeInteger(firstRegion) && firstRegion >= 0 && lastRegion >= firstRegion);
    // A host write racing the device's close: refused, as the LUs' own I/O is once they close.
    if (this.closed) return Promise.reject(new ClosedError(`${this.filePath} is closed: no more mirrored writes`));
    let need: MarkNeed = "marked";
    let region = firstRegion;
    for (; region <= lastRegion; region += 1) {
      const found = this.ledger.begin(mirrorId, region);
      if (found === "full") break;
      if (found === "write") need = "write";
    }
    if (region > lastRegion && need === "marked") return undefined;
    return this.markSlowly(mirrorId, firstRegion, region, lastRegion, need === "write");
  }

  /**
   * Marks regions `firstRegion` to `lastRegion` for the host writes that may
   * come once a copy has passed them: the marks are taken, written and let
   * go at once, so they stay until a clearing pass (writeIntentClearDelayMs)
   * and a host write there finds them durable instead of waiting for a write
   * of the file. Resolves once they are durable, or at once when skipped
   * (the record holds writeIntentPremarkRegionsMax regions or more); never
   * rejects: a failed write leaves them to the next version, which a host
   * write there then waits for. A mark that was not needed costs a copy of
   * its region after an unclean stop, nothing else.
   */
  premark(mirrorId: string, firstRegion: number, lastRegion: number): Promise<void> {
    assert.ok(Number.isSafeInteger(firstRegion) && firstRegion >= 0 && lastRegion >= firstRegion);
    if (this.closed || this.ledger.size + (lastRegion - firstRegion + 1) > writeIntentPremarkRegionsMax) return Promise.resolve();
    let mustWrite = false;
    for (let region = firstRegion; region <= lastRegion; region += 1) {
      const found = this.ledger.begin(mirrorId, region);
      // Room was checked above, and nothing between takes it.
      assert.ok(found !== "full");
      mustWrite ||= found === "write";
    }
    const letGo = (): void => {
      this.end(mirrorId, firstRegion, lastRegion);
    };
    if (!mustWrite) {
      letGo();
      return Promise.resolve();
    }
    return this.durableThrough(this.ledger.listedIn(mirrorId, firstRegion, lastRegion)).then(letGo, letGo);
  }

  /** Regions `firstRegion` to `lastRegion` have no write in flight any more: their marks may clear later. */
  end(mirrorId: string, firstRegion: number, lastRegion: number): void {
    for (let region = firstRegion; region <= lastRegion; region += 1) this.ledger.end(mirrorId, region);
    this.scheduleClear();
  }

  /** Regions of the mirror marked when the device stopped uncleanly, still to copy again. */
  pendingRecopies(mirrorId: string): number[] {
    return this.ledger.pendingRecopies(mirrorId);
  }

  /** A region from pendingRecopies was copied again (or needs no copy from here). */
  recopied(mirrorId: string, regionIndex: number): void {
    this.ledger.recopied(mirrorId, regionIndex);
    this.scheduleClear();
  }

  /** The mirror ended: its marks no longer matter. */
  forget(mirrorId: string): void {
    this.ledger.forget(mirrorId);
    this.scheduleClear();
  }

  /** Forgets the marks of every mirror `keep` says no to (marks recovered for mirrors gone meanwhile). */
  forgetUnless(keep: (identity: MirrorIdentity) => boolean): void {
    for (const mirrorId of this.ledger.mirrorIds()) {
      const identity = mirrorIdentityOf(mirrorId);
      if (identity === undefined || !keep(identity)) this.forget(mirrorId);
    }
  }

  /** Clears what it can (ends flushed, file rewritten), then closes the file; marks left are copied again on the next open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.clearTimer !== undefined) clearTimeout(this.clearTimer);
    this.clearTimer = undefined;
    // A failure leaves marks in the file, which the next open copies again: safe, so not thrown.
    await this.passes.request().catch((error: unknown) => { this.clearFailure = messageOf(error); });
    await this.files.close(this.fd);
  }

  /** Waits for a clearing pass now; for tests, which would otherwise wait writeIntentClearDelayMs. */
  clearNow(): Promise<void> {
    return this.passes.request();
  }

  /** `begin` past its fast path: room waited for when full, then the file written when some mark is not durable. */
  private async markSlowly(mirrorId: string, firstRegion: number, fullAt: number, lastRegion: number, mustWrite: boolean): Promise<void> {
    let region = fullAt;
    try {
      for (let waits = 0; region <= lastRegion; waits += 1) {
        if (waits === writeIntentFullWaitsMax) {
          throw new LimitExceededError(`the write-intent record holds ${this.ledger.regionsMax} regions, all with writes in flight`);
        }
        await this.passes.request();
        for (; region <= lastRegion; region += 1) {
          const found = this.ledger.begin(mirrorId, region);
          if (found === "full") break;
          mustWrite ||= found === "write";
        }
      }
      if (mustWrite) await this.durableThrough(this.ledger.listedIn(mirrorId, firstRegion, lastRegion));
    } catch (error) {
      // Nothing stays counted for a write that will not run.
      if (region > firstRegion) this.end(mirrorId, firstRegion, region - 1);
      throw error;
    }
  }

  private scheduleClear(): void {
    if (this.clearTimer !== undefined || this.closed || (this.ledger.size === 0 && !this.ledger.fileBehind)) return;
    this.clearTimer = setTimeout(() => {
      this.clearTimer = undefined;
      void this.passes.request().then(
        () => { this.clearFailure = undefined; },
        (error: unknown) => { this.clearFailure = messageOf(error); },
      ).finally(() => { this.scheduleClear(); });
    }, writeIntentClearDelayMs);
    // A pending pass must not keep a process alive that has nothing else to do.
    this.clearTimer.unref();
  }

  /** Flushes the ends of every mirror with marks, then clears the marks the flush covers and writes the file. */
  private async clearPass(): Promise<void> {
    if (this.ledger.size > 0) {
      const ticket = this.ledger.startFlush();
      await this.flushEnds(this.ledger.mirrorIds());
      this.ledger.flushed(ticket);
    }
    if (this.ledger.fileBehind) await this.writes.request();
  }

  /**
   * Resolves once file version `version`, or a later one, is durable. When
   * the version being written lists it, that write is enough: a premark's
   * region reached by a host write while its version is on its way waits
   * for one fdatasync, not that one and the next.
   */
  private async durableThrough(version: number): Promise<void> {
    const writing = this.writing;
    if (writing !== undefined && writing.version >= version) {
      try {
        await writing.done;
        return;
      } catch {
        // That write failed: the next one lists the region again, and its failure is the caller's.
      }
    }
    await this.writes.request();
  }

  /** Writes the ledger's regions as the next version, into the slot the current one is not in, and syncs it. */
  private async writeVersion(): Promise<void> {
    const { version, regions } = this.ledger.snapshot();
    const done = this.writeSlot(version, regions);
    this.writing = { version, done };
    try {
      await done;
    } finally {
      this.wrote(version);
    }
  }

  /** Version `version`'s write ended: no longer the one being written, unless a later one is. */
  private wrote(version: number): void {
    if (this.writing?.version === version) this.writing = undefined;
  }

  private async writeSlot(version: number, regions: IntentRegion[]): Promise<void> {
    const payload = encodeIntentPayload(regions);
    // Not advanced until durable: a failed write is retried into the same slot (see the header).
    const sequence = this.sequence + 1;
    const slotIndex = sequence % 2;
    try {
      await writeFully(this.files, this.fd, encodeSlot(slotIndex, writeIntentSlotBytes, sequence, payload), slotIndex * writeIntentSlotBytes);
      await datasync(this.files, this.fd);
    } catch (error) {
      throw ioError(`writing ${this.filePath}`, error);
    }
    this.sequence = sequence;
    this.ledger.written(version);
  }
}

async function openForWriting(files: DeviceFiles, filePath: string): Promise<number> {
  try {
    return await files.open(filePath, "r+");
  } catch (error) {
    throw ioError(`opening ${filePath}`, error);
  }
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
