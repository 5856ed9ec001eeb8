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
 */

/** Recorded operations one history may hold: enough for minutes of load, bounded memory. */
export const operationsMax = 4_000_000;

export interface WriteRecord {
  readonly block: number;
  readonly value: number;
  readonly startMs: number;
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

  /**
   * Records a write as it is sent: until endWrite, it is concurrent with
   * every read, so a read that sees it before its reply arrives is no
   * violation.
   */
  beginWrite(block: number, value: number, startMs: number): WriteRecord {
    this.count();
    if (value <= 0 || this.values.has(value)) throw new Error(`write values must be distinct and positive: ${value}`);
    this.values.add(value);
    const record: WriteRecord = { block, value, startMs, endMs: Infinity };
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
   * Writes completed before `readStartMs` that no other such write supersedes
   * (started after it ended), plus every write that started before
   * `readEndMs` and had not completed by `readStartMs`. The initial 0 counts
   * while no write completed before the read.
   */
  private allowedValues(block: number, readStartMs: number, readEndMs: number): Set<number> {
    const writes = this.writesByBlock.get(block) ?? [];
    const completed = writes.filter((write) => write.endMs < readStartMs);
    const allowed = new Set<number>();
    if (completed.length === 0) allowed.add(0);
    const latestStartOfCompleted = Math.max(-Infinity, ...completed.map((write) => write.startMs));
    for (const write of completed) {
      // Superseded: another completed write started after this one ended.
      if (write.endMs >= latestStartOfCompleted) allowed.add(write.value);
    }
    for (const write of writes) {
      if (write.endMs >= readStartMs && write.startMs < readEndMs) allowed.add(write.value);
    }
    return allowed;
  }
}
