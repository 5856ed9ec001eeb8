/**
 * The configuration store (claim 12) in the device's metadata area: one file
 * of two fixed-size slots written alternately, and a log of deltas beside it.
 * Each slot holds a header (magic, format version, slot index and size,
 * sequence number, payload length, payload crc32, header crc32) and the
 * protobuf-encoded StoreState: a checkpoint.
 *
 * A whole-state write goes to the slot that does not hold the newest valid
 * checkpoint and is fsynced before its sequence becomes the current one, so a
 * crash or torn write leaves the older slot intact and valid. A change's
 * commit is a delta instead (claim 2: its cost grows with the diff, not the
 * table): one checksummed record appended to the log and fsynced, sequence
 * current + 1. Every checkpointLogRecordsMax records the state is folded into
 * the other slot, after the commit was answered, and the log emptied.
 *
 * A failed write (a write error, ENOSPC, a failed fsync) refuses that write
 * and leaves the state in memory at the last committed one: nothing is
 * applied before it is durable. The next write first rewrites that whole
 * state into the other slot as sequence current + 1 and empties the log
 * (recover()): after a failed fsync Linux may have dropped the dirty pages
 * and marked them clean, so only bytes written again and fsynced again are
 * known to be on disk; a checkpoint above the failed write's sequence makes
 * whatever of it reached the disk dead on open (replay skips records at or
 * below the slot's sequence). While the disk keeps failing, every write fails in
 * that recovery and reads go on serving the last committed state.
 *
 * On open, the valid slot with the highest sequence wins, then the log's
 * records above that sequence are replayed in order; the first invalid
 * record ends the log (a torn append that was never acknowledged) and is cut
 * off. When neither slot is valid the store refuses to open
 * (StoreCorruptError) instead of starting empty.
 */
import assert from "node:assert/strict";
import {
  decodeStoreDelta,
  decodeStoreState,
  encodeStoreDelta,
  encodeStoreState,
  type StoreDelta,
  type StoreDelta__Output,
  type StoreState,
  type StoreState__Output,
} from "@switchyard/proto";
import {
  ClosedError,
  type DeviceError,
  InvalidArgumentError,
  LimitExceededError,
  StaleSequenceError,
  StoreCorruptError,
  errnoOf,
  ioError,
} from "./errors.js";
import { appendLogRecord, emptyLog, logPreallocatedBytesMax, logSizeMaxBytes, openLog, replayLogBytes, unwriteLogTail, type StoreLog } from "./store-log.js";
import { applyStoreDelta, checkStoreDelta } from "./store-delta.js";
import { createStoreFile, encodeSlot, readSlot, slotHeaderSizeBytes, slotSizeDefaultBytes, slotSizeMaxBytes, slotSizeOf, type SlotReading } from "./store-slots.js";
import { nodeFiles, type DeviceFiles } from "./device-files.js";
import { readFileIfExists, writeFully } from "./durable-file.js";

export { slotAlignmentBytes, slotHeaderSizeBytes, slotSizeDefaultBytes, slotSizeMaxBytes, slotSizeMinBytes } from "./store-slots.js";

/** Writes waiting for the one in progress; beyond this the caller is told to back off. */
export const storeWritesQueuedMax = 64;
/**
 * Log records between checkpoints. A checkpoint costs what the whole table
 * costs (about 100 ms for a million extents) and replay at open costs what
 * the records cost, so one in 256 keeps both small: at a change a second, a
 * checkpoint every four minutes.
 */
export const checkpointLogRecordsMax = 256;
/**
 * Log bytes that also call for a checkpoint: journal updates carry phases
 * and reports, and a big resize carries many rows. With one more record of
 * at most a slot's payload, the log stays below logSizeMaxBytes.
 */
export const checkpointLogBytesMax = 64 << 20;

// The log may hold the checkpoint's worth of bytes plus one record as big as a slot.
assert.ok(checkpointLogBytesMax + slotSizeMaxBytes <= logSizeMaxBytes);

export interface ConfigurationStoreOptions {
  /** Used only when the file is created; an existing file's size decides its slot size. */
  readonly slotSizeBytes?: number;
  /** Where the store's bytes go: node:fs unless a test passes another DeviceFiles. */
  readonly files?: DeviceFiles;
}

export interface StoreSnapshot {
  readonly state: StoreState__Output;
  readonly sequence: number;
}

export class ConfigurationStore {
  readonly path: string;
  readonly slotSizeBytes: number;
  readonly payloadSizeMaxBytes: number;

  private readonly files: DeviceFiles;
  private readonly fd: number;
  private readonly log: StoreLog;
  private currentSequence: number;
  /**
   * The lowest sequence whose state is the current one, and the one readers
   * are given: a recovery (see the file's comment) raises the sequence
   * without changing the state, and a writer that read the state just
   * before it has read the current state; a whole write makes its slot
   * current before it applies its state, and readers in between must see
   * the old state with the old sequence.
   */
  private stateSequence: number;
  /** The slot holding the newest checkpoint: the next checkpoint or whole write goes to the other one. */
  private currentSlotIndex: number;
  /** The state at currentSequence: the newest checkpoint with the log replayed on it. */
  private readonly currentState: StoreState__Output;
  private writeTail: Promise<unknown> = Promise.resolve();
  private writesQueued = 0;
  private closed = false;
  private failure: DeviceError | undefined;
  private writeErrorCount = 0;

  private constructor(path: string, opened: { files: DeviceFiles; fd: number }, slotSizeBytes: number, found: CurrentSlot, log: StoreLog) {
    this.path = path;
    this.files = opened.files;
    this.fd = opened.fd;
    this.log = log;
    this.slotSizeBytes = slotSizeBytes;
    this.payloadSizeMaxBytes = slotSizeBytes - slotHeaderSizeBytes;
    this.currentSequence = found.sequence;
    this.stateSequence = found.sequence;
    this.currentSlotIndex = found.slotIndex;
    this.currentState = found.state;
  }

  /** Opens the store at `path`, creating it (empty state, sequence 0) when there is no file. */
  static async open(path: string, options: ConfigurationStoreOptions = {}): Promise<ConfigurationStore> {
    const files = options.files ?? nodeFiles;
    let fd: number;
    try {
      fd = await files.open(path, "r+");
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") throw ioError(`opening ${path}`, error);
      await createStoreFile(files, path, options.slotSizeBytes ?? slotSizeDefaultBytes);
      fd = await files.open(path, "r+").catch((reopenError: unknown) => {
        throw ioError(`opening ${path}`, reopenError);
      });
    }
    try {
      const slotSizeBytes = await slotSizeOf(files, fd, path);
      const found = await readCurrentSlot(files, fd, path, slotSizeBytes);
      // A log as big as a slot: its records are diffs of a table that fits one.
      const log = await openLog(files, logPathOf(path), found.sequence, Math.min(slotSizeBytes, logPreallocatedBytesMax), (delta) => {
        replayDelta(path, found, delta);
      });
      return new ConfigurationStore(path, { files, fd }, slotSizeBytes, found, log);
    } catch (error) {
      await files.close(fd);
      throw error;
    }
  }

  get sequence(): number {
    return this.currentSequence;
  }

  /**
   * Writes of the store's files (slot, log, fsync) that failed since it was
   * opened, for /metrics: each one refused a write (a change, a
   * registration), so an operator must hear of it at once.
   */
  get writeErrors(): number {
    return this.writeErrorCount;
  }

  /**
   * The current state, copied: callers may change it without touching the
   * store. Its sequence is the state's (stateSequence), never one a write in
   * progress has made durable but not yet applied: a reader that wrote over
   * the old state under the new sequence would undo that write.
   */
  read(): StoreSnapshot {
    this.checkNotClosed();
    return { state: structuredClone(this.currentState), sequence: this.stateSequence };
  }

  /**
   * The current state itself, not a copy, for encoding into a reply: a
   * million-extent table is not copied for every read. Never changed by the
   * caller, and good only until the next write.
   */
  view(): StoreSnapshot {
    this.checkNotClosed();
    return { state: this.currentState, sequence: this.stateSequence };
  }

  /**
   * Persists `state` as sequence `expectedSequence + 1`, if `expectedSequence`
   * is still the current one when the write's turn comes (optimistic
   * concurrency: a writer that read an older state must read again).
   * `options.guard` runs in the same turn, just before the write, and may
   * throw to refuse it (the device checks the writer's epoch there).
   */
  async write(state: StoreState, expectedSequence: number, options: { guard?: () => void } = {}): Promise<number> {
    this.checkNotClosed();
    if (!Number.isSafeInteger(expectedSequence) || expectedSequence < 0) {
      throw new InvalidArgumentError(`expected sequence ${expectedSequence} is not a sequence number`);
    }
    const payload = encodeState(state);
    this.checkPayloadSize(payload);
    return this.enqueue(async () => {
      options.guard?.();
      if (expectedSequence < this.stateSequence || expectedSequence > this.currentSequence) {
        throw new StaleSequenceError(expectedSequence, this.currentSequence);
      }
      return this.replaceInTurn(payload);
    });
  }

  /**
   * Persists what `change` makes of a copy of the state current in the
   * write's turn, or nothing when it returns undefined; resolves with the
   * sequence then current. The device's own edits (an enrollment, its LUs'
   * addresses) use it: a read-modify-write that cannot be stale, so never
   * retried however many writers race.
   */
  async update(change: (current: StoreState__Output) => StoreState | undefined): Promise<number> {
    this.checkNotClosed();
    return this.enqueue(async () => {
      const next = change(structuredClone(this.currentState));
      if (next === undefined) return this.stateSequence;
      const payload = encodeState(next);
      this.checkPayloadSize(payload);
      return this.replaceInTurn(payload);
    });
  }

  /** A whole write in its turn: the slot made durable, then the state applied with its sequence. */
  private async replaceInTurn(payload: Buffer): Promise<number> {
    const decoded = decodeStoreState(payload);
    await this.writeCheckpoint(payload, this.currentSequence + 1);
    Object.assign(this.currentState, decoded);
    this.stateSequence = this.currentSequence;
    return this.currentSequence;
  }

  /**
   * Persists `delta` as sequence current + 1 by appending it to the log: the
   * commit of a change (claim 1) without rewriting the table (claim 2). It
   * applies to whatever state is current in its turn; a diff not based on the
   * stored generation is refused (STALE_GENERATION), and `options.guard` runs
   * in the same turn, as for write().
   */
  async append(delta: StoreDelta, options: { guard?: () => void } = {}): Promise<number> {
    this.checkNotClosed();
    const payload = encodeDelta(delta);
    this.checkPayloadSize(payload);
    // Applied as decoded from its own bytes, so that replay at open does exactly what is done now.
    const decoded = decodeStoreDelta(payload);
    return this.enqueue(async () => {
      options.guard?.();
      checkStoreDelta(this.currentState, decoded);
      const sequence = this.currentSequence + 1;
      await this.guarded(`appending to ${this.log.path}`, () => appendLogRecord(this.log, sequence, payload), () => unwriteLogTail(this.log, payload.length));
      applyStoreDelta(this.currentState, decoded);
      this.currentSequence = sequence;
      this.stateSequence = sequence;
      if (this.log.recordCount >= checkpointLogRecordsMax || this.log.endBytes >= checkpointLogBytesMax) this.scheduleCheckpoint();
      return sequence;
    });
  }

  private checkPayloadSize(payload: Buffer): void {
    if (payload.length > this.payloadSizeMaxBytes) {
      throw new LimitExceededError(
        `store payload of ${payload.length} bytes exceeds the slot payload limit of ${this.payloadSizeMaxBytes} bytes`,
      );
    }
  }

  /** Runs `operation` after every write queued before it, one at a time. */
  private enqueue<T>(operation: () => Promise<T>): Promise<T> {
    if (this.writesQueued >= storeWritesQueuedMax) {
      throw new LimitExceededError(`${this.writesQueued} store writes are already queued (limit ${storeWritesQueuedMax})`);
    }
    this.writesQueued += 1;
    const done = this.writeTail.then(async () => {
      this.checkNotClosed();
      if (this.failure !== undefined) await this.recover();
      return operation();
    });
    this.writeTail = done.then(
      () => { this.writesQueued -= 1; },
      () => { this.writesQueued -= 1; },
    );
    return done;
  }

  /**
   * Folds the log into a slot after the commit that filled it was answered:
   * the next write waits for it, but no commit pays for it within its hold.
   */
  private scheduleCheckpoint(): void {
    this.writeTail = this.writeTail.then(async () => {
      if (this.closed || this.failure !== undefined || this.log.recordCount === 0) return;
      await this.writeCheckpoint(encodeState(this.currentState), this.currentSequence);
    }).catch((error: unknown) => {
      // writeCheckpoint recorded the failure: the next write reports it.
      assert.ok(this.failure !== undefined, String(error));
    });
  }

  /**
   * Writes `payload` as sequence `sequence` into the slot that does not hold
   * the newest checkpoint, then empties the log it covers. A crash between
   * the two leaves log records at or below the slot's sequence: replay skips
   * them.
   */
  private async writeCheckpoint(payload: Buffer, sequence: number): Promise<void> {
    this.checkPayloadSize(payload);
    const slotIndex = 1 - this.currentSlotIndex;
    const slot = encodeSlot(slotIndex, this.slotSizeBytes, sequence, payload);
    // On failure this slot's header is zeroed: it is not the current one, the other slot and the log hold the committed state.
    await this.guarded(`writing slot ${slotIndex} of ${this.path}`, async () => {
      await writeFully(this.files, this.fd, slot, slotIndex * this.slotSizeBytes);
      await this.files.fsync(this.fd);
    }, () => writeFully(this.files, this.fd, Buffer.alloc(slotHeaderSizeBytes), slotIndex * this.slotSizeBytes));
    // Only a durable slot becomes the current one.
    this.currentSequence = sequence;
    this.currentSlotIndex = slotIndex;
    await this.guarded(`emptying ${this.log.path}`, () => emptyLog(this.log));
  }

  /**
   * Runs an I/O step; on failure the store trusts nothing it wrote since its
   * last good write: the bytes written are unknown, and after a failed fsync
   * the kernel may report later ones as durable when they are not. The next
   * write recovers first (recover()). `unwrite`, if given, makes what the
   * step wrote invalid in the page cache, so that the failed write is not
   * written back later and found at the next open (a process restart keeps
   * the page cache); it is not synced, and its own failure changes nothing.
   */
  private async guarded(what: string, step: () => Promise<void>, unwrite?: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.writeErrorCount += 1;
      this.failure = ioError(what, error);
      // The step's failure is the one to report; the unwrite's own I/O failure is not (the recovery rewrites all anyway).
      await unwrite?.().catch((unwriteError: unknown) => {
        if (unwriteError instanceof assert.AssertionError) throw unwriteError;
      });
      throw this.failure;
    }
  }

  /**
   * After a failed write: the committed state, written whole into the other
   * slot above every sequence the failed write may have left on disk, and
   * the log emptied (see the file's comment). Throws, with the failure
   * recorded again, while the disk keeps failing.
   */
  private async recover(): Promise<void> {
    assert.ok(this.failure !== undefined);
    const sequenceBefore = this.currentSequence;
    await this.writeCheckpoint(encodeState(this.currentState), sequenceBefore + 1);
    assert.ok(this.currentSequence === sequenceBefore + 1 && this.log.recordCount === 0);
    this.failure = undefined;
  }

  /** Waits for queued writes and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeTail;
    await Promise.all([this.files.close(this.fd), this.log.files.close(this.log.fd)]);
  }

  /** Only closing ends reads: after a failed write the state in memory is still the last committed one. */
  private checkNotClosed(): void {
    if (this.closed) throw new ClosedError(`the configuration store ${this.path} is closed`);
  }
}

/**
 * The state a stopped device's store holds, read without writing: the
 * store's file is opened read-only and the log only read, so a torn tail
 * stays where it is (the next open for writing overwrites it, as ever) and
 * no file is created. What ConfigurationStore.open would find, for tools
 * that must not change a device they only look at (`coordination export`).
 * A store being written meanwhile may be read torn: the caller makes sure
 * no process serves the device.
 */
export async function readStoreFile(path: string, files: DeviceFiles = nodeFiles): Promise<StoreSnapshot> {
  const fd = await files.open(path, "r").catch((error: unknown) => {
    throw ioError(`opening ${path}`, error);
  });
  let found: CurrentSlot;
  try {
    found = await readCurrentSlot(files, fd, path, await slotSizeOf(files, fd, path));
  } finally {
    await files.close(fd);
  }
  const logPath = logPathOf(path);
  const logBytes = await readFileIfExists(files, logPath);
  if (logBytes !== undefined) {
    replayLogBytes(logPath, logBytes, found.sequence, (delta) => {
      replayDelta(path, found, delta);
    });
  }
  return { state: found.state, sequence: found.sequence };
}

interface CurrentSlot {
  readonly slotIndex: number;
  /** The slot's sequence, then (while the log is replayed) the state's. */
  sequence: number;
  readonly state: StoreState__Output;
}

/** The log beside the slots file. */
export function logPathOf(storePath: string): string {
  return `${storePath}.log`;
}

/** One record replayed at open: checked as when it was appended; it was, so a failure is corruption. */
function replayDelta(path: string, found: CurrentSlot, delta: StoreDelta__Output): void {
  try {
    checkStoreDelta(found.state, delta);
  } catch (error) {
    throw new StoreCorruptError(`${path}: log record ${found.sequence + 1} does not apply: ${String(error)}`, { cause: error });
  }
  applyStoreDelta(found.state, delta);
  found.sequence += 1;
}

function encodeDelta(delta: StoreDelta): Buffer {
  try {
    const bytes = encodeStoreDelta(delta);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (error) {
    throw new InvalidArgumentError(`the store delta cannot be encoded: ${(error as Error).message}`, { cause: error });
  }
}

function encodeState(state: StoreState): Buffer {
  try {
    const bytes = encodeStoreState(state);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (error) {
    throw new InvalidArgumentError(`the store state cannot be encoded: ${(error as Error).message}`, { cause: error });
  }
}




/** The valid slot with the highest sequence, decoded once to prove it parses. */
async function readCurrentSlot(files: DeviceFiles, fd: number, path: string, slotSizeBytes: number): Promise<CurrentSlot> {
  const readings: SlotReading[] = [];
  try {
    readings.push(await readSlot(files, fd, 0, slotSizeBytes), await readSlot(files, fd, 1, slotSizeBytes));
  } catch (error) {
    if (error instanceof StoreCorruptError) throw new StoreCorruptError(`${path}: ${error.message}`);
    throw ioError(`reading ${path}`, error);
  }
  let best: { slotIndex: number; sequence: number; payload: Buffer } | undefined;
  readings.forEach((reading, slotIndex) => {
    if (!reading.valid) return;
    if (best !== undefined && best.sequence === reading.header.sequence) {
      throw new StoreCorruptError(`${path}: both slots claim sequence ${best.sequence}`);
    }
    if (best === undefined || reading.header.sequence > best.sequence) {
      best = { slotIndex, sequence: reading.header.sequence, payload: reading.payload };
    }
  });
  if (best === undefined) {
    const reasons = readings.map((reading, slotIndex) => `slot ${slotIndex}: ${reading.valid ? "valid" : reading.reason}`);
    throw new StoreCorruptError(`${path}: no valid slot (${reasons.join("; ")}); refusing to start from an empty state`);
  }
  try {
    return { slotIndex: best.slotIndex, sequence: best.sequence, state: decodeStoreState(best.payload) };
  } catch (error) {
    // The checksum matched, so these are the bytes we wrote: not a torn write.
    throw new StoreCorruptError(`${path}: slot ${best.slotIndex} (sequence ${best.sequence}) does not decode`, {
      cause: error,
    });
  }
}





