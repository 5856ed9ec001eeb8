/**
 * A history checker for block storage (DESIGN.md invariants): it records
 * every host operation on fixed-size blocks, with when it started and ended,
 * and checks that
 * - a read returns the value of a write that had not been superseded when
 *   the read began (the last write completed before it, or one of several
 *   that overlapped each other), or of a write concurrent with the read;
 * - after the load, every block holds a write that was not superseded: no
 *   acknowledged write is lost.
 * Values name writes: every write of a history writes a distinct positive
 * value; 0 is the block's initial content. A write that failed or never
 * answered may or may not have happened, so it counts as concurrent with
 * everything after it started.
 *
 * Power cuts (issue 19): a storage write cache may lose, at a power cut, any
 * acknowledged write not yet durable, and keep any. A write is durable once
 * it was acknowledged with FUA, or once a FLUSH sent after its reply was
 * answered OK (NBD proto.md: FLUSH covers every write completed before it).
 * So a completed write supersedes older ones only while it is sure to be
 * there: if a power cut came after its reply and before it was durable, the
 * block may hold any older write it superseded, and a read of that is no
 * violation; a read of a value that a durable write superseded still is.
 * Without power cuts every completed write is sure, and the checks are the
 * ones above.
 */

/** Recorded operations one history may hold: enough for minutes of load, bounded memory. */
export const operationsMax = 4_000_000;

export interface WriteRecord {
  readonly block: number;
  readonly value: number;
  readonly startMs: number;
  /** Written with FUA: durable as soon as it is acknowledged. */
  readonly fua: boolean;
  /** Infinity while the write is in flight, and when it failed or never answered. */
  endMs: number;
}

export interface Violation {
  readonly block: number;
  readonly kind: "stale-read" | "lost-write";
  readonly detail: string;
}

export class History {
  private readonly writesByBlock = new Map<number, WriteRecord[]>();
  private readonly values = new Set<number>();
  private readonly violations: Violation[] = [];
  private operations = 0;
  /** FLUSHes answered OK, as [start, end], in the order they were answered. */
  private readonly flushes: { readonly startMs: number; readonly endMs: number }[] = [];
  /** Power cuts of the storage, in time order. */
  private readonly powerCutsMs: number[] = [];
  /**
   * Whether a completed write outlived the first power cut after its reply,
   * once a check after that cut asked: FLUSHes are recorded as they are
   * answered, so every one answered before the cut is known by then.
   */
  private readonly outlivedCut = new WeakMap<WriteRecord, boolean>();

  /**
   * Records a write as it is sent: until endWrite, it is concurrent with
   * every read, so a read that sees it before its reply arrives is no
   * violation.
   */
  beginWrite(block: number, value: number, startMs: number, fua = false): WriteRecord {
    this.count();
    if (value <= 0 || this.values.has(value)) throw new Error(`write values must be distinct and positive: ${value}`);
    this.values.add(value);
    const record: WriteRecord = { block, value, startMs, fua, endMs: Infinity };
    const writes = this.writesByBlock.get(block) ?? [];
    writes.push(record);
    this.writesByBlock.set(block, writes);
    return record;
  }

  /** The write's reply came at `endMs`; one that failed or timed out stays possibly done forever. */
  endWrite(record: WriteRecord, endMs: number, acknowledged: boolean): void {
    if (acknowledged) record.endMs = endMs;
  }

  /** beginWrite and endWrite at once, for histories written after the fact. */
  write(block: number, value: number, startMs: number, endMs: number, acknowledged: boolean): void {
    this.endWrite(this.beginWrite(block, value, startMs), endMs, acknowledged);
  }

  /** A FLUSH sent at `startMs` was answered OK at `endMs`: every write acknowledged before `startMs` is durable from `endMs` on. */
  flush(startMs: number, endMs: number): void {
    this.count();
    if (!(startMs <= endMs)) throw new Error(`a FLUSH ends after it starts: ${startMs}, ${endMs}`);
    const last = this.flushes.at(-1);
    if (last !== undefined && endMs < last.endMs) throw new Error(`FLUSHes are recorded as they are answered: ${endMs} after ${last.endMs}`);
    this.flushes.push({ startMs, endMs });
  }

  /** The storage lost power at `atMs`: every write not durable by then may be lost, or kept. */
  powerCut(atMs: number): void {
    this.count();
    const last = this.powerCutsMs.at(-1);
    if (last !== undefined && atMs < last) throw new Error(`power cuts are recorded in time order: ${atMs} after ${last}`);
    this.powerCutsMs.push(atMs);
  }

  /** Records and checks a read of `block` that returned `value`. */
  read(block: number, value: number, startMs: number, endMs: number): void {
    this.count();
    const allowed = this.allowedValues(block, startMs, endMs);
    if (!allowed.has(value)) {
      this.violations.push({
        block,
        kind: "stale-read",
        detail: `read [${startMs.toFixed(3)}, ${endMs.toFixed(3)}] returned ${value}; allowed ${[...allowed].join(", ")}`,
      });
    }
  }

  /** Checks a block's content after all writes have ended: it must be a write not superseded. */
  final(block: number, value: number): void {
    const allowed = this.allowedValues(block, Infinity, Infinity);
    if (!allowed.has(value)) {
      this.violations.push({ block, kind: "lost-write", detail: `holds ${value} at the end; the last writes were ${[...allowed].join(", ")}` });
    }
  }

  /** The writes sent to `block`, in the order sent: for a test to explain a violation. */
  writesTo(block: number): readonly WriteRecord[] {
    return this.writesByBlock.get(block) ?? [];
  }

  /** Blocks that any write touched. */
  writtenBlocks(): number[] {
    return [...this.writesByBlock.keys()];
  }

  found(): readonly Violation[] {
    return this.violations;
  }

  private count(): void {
    this.operations += 1;
    if (this.operations > operationsMax) throw new Error(`a history holds at most ${operationsMax} operations`);
  }

  /**
   * Writes completed before `readStartMs` that no sure write supersedes
   * (one that started after it ended and is sure to be there until the read
   * ends: a power cut while the read is in flight may show what it lost),
   * plus every write that started before `readEndMs` and had not completed
   * by `readStartMs`. The initial 0 counts while no sure write completed
   * before the read.
   */
  private allowedValues(block: number, readStartMs: number, readEndMs: number): Set<number> {
    const writes = this.writesByBlock.get(block) ?? [];
    const completed = writes.filter((write) => write.endMs < readStartMs);
    const allowed = new Set<number>();
    let latestStartOfSure = -Infinity;
    for (const write of completed) {
      if (write.startMs > latestStartOfSure && this.sureAt(write, readEndMs)) latestStartOfSure = write.startMs;
    }
    if (latestStartOfSure === -Infinity) allowed.add(0);
    for (const write of completed) {
      // Superseded: a sure write started after this one ended.
      if (write.endMs >= latestStartOfSure) allowed.add(write.value);
    }
    for (const write of writes) {
      if (write.endMs >= readStartMs && write.startMs < readEndMs) allowed.add(write.value);
    }
    return allowed;
  }

  /**
   * Whether a completed write is sure to be there at `atMs`: no power cut
   * came between its reply and `atMs`, or it was durable before the first
   * that did (a later cut cannot lose a durable write): written with FUA, or
   * covered by a FLUSH sent after its reply and answered before that cut.
   */
  private sureAt(write: WriteRecord, atMs: number): boolean {
    const firstCut = this.powerCutsMs.find((cutMs) => cutMs >= write.endMs);
    if (firstCut === undefined || firstCut >= atMs) return true;
    const known = this.outlivedCut.get(write);
    if (known !== undefined) return known;
    const outlived = write.fua ? write.endMs < firstCut : this.flushes.some((flush) => flush.startMs > write.endMs && flush.endMs < firstCut);
    this.outlivedCut.set(write, outlived);
    return outlived;
  }
}
