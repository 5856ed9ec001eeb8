/**
 * A power-loss storage model at the device's file-I/O seam (DeviceFiles,
 * device-files.ts). SIGKILL keeps the page cache, so it proves nothing about
 * fsync; this model forgets what a real power cut may forget.
 *
 * Every file has a durable image and a live one (what reads see). A write
 * changes the live image and is queued as not yet durable; fdatasync or
 * fsync of the file makes every queued write and truncation of it durable.
 * Names (a file created, a rename) are live at once and durable only when
 * their folder is synced. The device opens nothing O_DSYNC and does FUA as a
 * write then an fdatasync (logical-unit.ts), so nothing else is durable.
 *
 * `cut(seed)` is the power cut and the restart of storage. What survives,
 * chosen by the seed, follows the POSIX-ish rules below, each at least as
 * unkind as a real disk and file system:
 * - Data: every 512-byte sector touched by a write not yet durable ends
 *   with the durable content plus some prefix, in issue order, of the
 *   writes that touched it (the page cache writes back the latest content
 *   at any moment, and a disk writes a sector whole or not at all). Sectors
 *   are independent, so one write may survive torn across sectors, and a
 *   later write may survive where an earlier one did not. Per file, the cut
 *   keeps none, all, or a per-sector random prefix.
 * - Size: a size not yet durable (ftruncate, a write past the end) ends as
 *   the durable or the live size; bytes past it are gone.
 * - Names: each folder's creates and renames since its last sync survive as
 *   a prefix in the order made (a journaling file system commits metadata
 *   in order); a rename survives whole or not at all. A created file whose
 *   name is lost is lost with its data, fsynced or not.
 * - Folders (mkdir) are durable at once: the device creates its folder
 *   before anything in it matters.
 *
 * Power can go off at a chosen operation (`powerOffAtOperation`), counted
 * over every write, sync, truncate, create and rename, which is how a test
 * cuts mid-store-write or mid-LU-write: from then on nothing completes
 * (callbacks and Promises never settle; the synchronous calls throw EIO),
 * as for a process whose machine died, and descriptors from before the cut
 * are invalid after it (EBADF).
 */
import assert from "node:assert/strict";
import path from "node:path";
import type { DeviceFiles, DoneCallback, FileStatus, OpenFlags, TransferCallback } from "../device-files.js";
import { SeededRandom } from "./seeded-random.js";
import { SparseBytes } from "./sparse-bytes.js";

/** The unit a disk writes atomically: a cut tears writes between sectors, never inside one. */
export const sectorSizeBytes = 512;
/** Descriptors start here, so a model descriptor is never mistaken for a real one in a log. */
const firstDescriptor = 1000;

type PendingChange =
  | { readonly kind: "write"; readonly positionBytes: number; readonly data: Buffer }
  | { readonly kind: "truncate"; readonly sizeBytes: number };

class Inode {
  durable = new SparseBytes();
  durableSizeBytes = 0;
  live = new SparseBytes();
  liveSizeBytes = 0;
  /** Writes and truncations since the last fdatasync or fsync, in issue order. */
  pending: PendingChange[] = [];
}

type NameChange =
  | { readonly kind: "create"; readonly name: string; readonly inode: Inode }
  | { readonly kind: "rename"; readonly from: string; readonly to: string; readonly inode: Inode };

interface OpenFile {
  readonly inode: Inode;
  readonly writable: boolean;
}

/** What one cut did, for a test to assert that it cut something and to print. */
export interface CutReport {
  readonly seed: number;
  readonly sectorsKept: number;
  readonly sectorsDropped: number;
  readonly nameChangesKept: number;
  readonly nameChangesDropped: number;
}

export class PowerLossFiles implements DeviceFiles {
  private liveNames = new Map<string, Inode>();
  private readonly durableNames = new Map<string, Inode>();
  private readonly folders = new Set<string>(["/"]);
  /** Per folder, creates and renames since its last sync, in order. */
  private readonly nameChanges = new Map<string, NameChange[]>();
  private readonly openFiles = new Map<number, OpenFile>();
  private nextDescriptor = firstDescriptor;
  private powered = true;
  /** Rises at every power-off: a completion from an older power period is never delivered. */
  private powerPeriod = 0;
  private operationCount = 0;
  private cutCount = 0;
  private powerOffAt: number | undefined;
  private readonly offWaiters: (() => void)[] = [];

  /** Writes, syncs, truncations, creates and renames so far (across cuts). */
  get operations(): number {
    return this.operationCount;
  }

  /** Cuts so far: a caller tells the errors of a workload that lost power from real ones by it. */
  get cuts(): number {
    return this.cutCount;
  }

  get poweredOn(): boolean {
    return this.powered;
  }

  /** Power goes off as operation number `operationNumber` (see `operations`) starts. */
  powerOffAtOperation(operationNumber: number): void {
    assert.ok(Number.isSafeInteger(operationNumber) && operationNumber > this.operationCount);
    this.powerOffAt = operationNumber;
  }

  powerOff(): void {
    if (!this.powered) return;
    this.powered = false;
    this.powerPeriod += 1;
    this.powerOffAt = undefined;
    for (const wake of this.offWaiters.splice(0)) wake();
  }

  /** Resolves once power is off (at once when it is). */
  whenPoweredOff(): Promise<void> {
    if (!this.powered) return Promise.resolve();
    return new Promise((resolve) => { this.offWaiters.push(resolve); });
  }

  /**
   * The power cut (powering off first if still on) and the restart of
   * storage: keeps what the seed chooses of what was not durable, by the
   * rules in the header, and powers on with no file open.
   */
  cut(seed: number): CutReport {
    this.powerOff();
    const random = new SeededRandom(seed);
    const names = this.settleNames(random);
    let sectorsKept = 0;
    let sectorsDropped = 0;
    for (const name of [...this.durableNames.keys()].sort()) {
      const inode = this.durableNames.get(name);
      assert.ok(inode !== undefined);
      const settled = settleInode(inode, random);
      sectorsKept += settled.kept;
      sectorsDropped += settled.dropped;
    }
    this.liveNames = new Map(this.durableNames);
    for (const inode of this.liveNames.values()) restartFrom(inode);
    this.openFiles.clear();
    this.cutCount += 1;
    this.powered = true;
    return { seed, sectorsKept, sectorsDropped, nameChangesKept: names.kept, nameChangesDropped: names.dropped };
  }

  /** Each folder's unsynced name changes: a seeded prefix becomes durable, the rest is lost. */
  private settleNames(random: SeededRandom): { kept: number; dropped: number } {
    let kept = 0;
    let dropped = 0;
    for (const folder of [...this.nameChanges.keys()].sort()) {
      const changes = this.nameChanges.get(folder) ?? [];
      const keptCount = random.below(changes.length + 1);
      for (const change of changes.slice(0, keptCount)) applyNameChange(this.durableNames, change);
      kept += keptCount;
      dropped += changes.length - keptCount;
    }
    this.nameChanges.clear();
    return { kept, dropped };
  }

  /** The live bytes of `filePath`, or undefined: for tests to look without a descriptor. */
  contents(filePath: string): Buffer | undefined {
    const inode = this.liveNames.get(filePath);
    if (inode === undefined) return undefined;
    const bytes = Buffer.alloc(inode.liveSizeBytes);
    inode.live.read(bytes, 0);
    return bytes;
  }

  // DeviceFiles.

  open(filePath: string, flags: OpenFlags): Promise<number> {
    const creating = flags !== "r" && flags !== "r+";
    if (creating ? !this.step() : !this.powered) return never();
    const folder = path.dirname(filePath);
    if (!this.folders.has(folder)) return failed("ENOENT", `open ${filePath}`);
    let inode = this.liveNames.get(filePath);
    if (inode !== undefined && flags === "wx+") return failed("EEXIST", `open ${filePath}`);
    if (inode === undefined) {
      if (!creating) return failed("ENOENT", `open ${filePath}`);
      inode = new Inode();
      this.liveNames.set(filePath, inode);
      this.recordNameChange(folder, { kind: "create", name: filePath, inode });
    } else if (flags === "w" || flags === "w+") {
      truncateLive(inode, 0);
    }
    const descriptor = this.nextDescriptor;
    this.nextDescriptor += 1;
    this.openFiles.set(descriptor, { inode, writable: flags !== "r" });
    return this.later(descriptor);
  }

  close(fd: number): Promise<void> {
    if (!this.powered) return never();
    if (!this.openFiles.delete(fd)) return failed("EBADF", `close ${fd}`);
    return this.later(undefined);
  }

  read(fd: number, buffer: Buffer, offset: number, length: number, position: number, callback: TransferCallback): void {
    if (!this.powered) return;
    let bytes = 0;
    try {
      bytes = this.readSync(fd, buffer, offset, length, position);
    } catch (error) {
      this.deliver(() => { callback(error as NodeJS.ErrnoException, 0); });
      return;
    }
    this.deliver(() => { callback(null, bytes); });
  }

  write(fd: number, buffer: Buffer, offset: number, length: number, position: number, callback: TransferCallback): void {
    if (!this.powered) return;
    const file = this.openFiles.get(fd);
    if (file?.writable !== true) {
      this.deliver(() => { callback(errnoError("EBADF", `write ${fd}`), 0); });
      return;
    }
    writeLive(file.inode, buffer.subarray(offset, offset + length), position);
    // The write reached the cache; power may go off before it is answered.
    if (!this.step()) return;
    this.deliver(() => { callback(null, length); });
  }

  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    if (!this.powered) throw errnoError("EIO", "read while the power is off");
    const inode = this.fileOf(fd).inode;
    const bytes = Math.max(0, Math.min(length, inode.liveSizeBytes - position));
    inode.live.read(buffer.subarray(offset, offset + bytes), position);
    return bytes;
  }

  writeSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    if (!this.powered) throw errnoError("EIO", "write while the power is off");
    const file = this.fileOf(fd);
    if (!file.writable) throw errnoError("EBADF", `write ${fd}`);
    writeLive(file.inode, buffer.subarray(offset, offset + length), position);
    if (!this.step()) throw errnoError("EIO", "the power went off during the write");
    return length;
  }

  fdatasync(fd: number, callback: DoneCallback): void {
    if (!this.step()) return;
    const file = this.openFiles.get(fd);
    if (file === undefined) {
      this.deliver(() => { callback(errnoError("EBADF", `fdatasync ${fd}`)); });
      return;
    }
    makeDurable(file.inode);
    this.deliver(() => { callback(null); });
  }

  fsync(fd: number): Promise<void> {
    if (!this.step()) return never();
    const file = this.openFiles.get(fd);
    if (file === undefined) return failed("EBADF", `fsync ${fd}`);
    makeDurable(file.inode);
    return this.later(undefined);
  }

  ftruncate(fd: number, sizeBytes: number): Promise<void> {
    if (!this.step()) return never();
    const file = this.openFiles.get(fd);
    if (file?.writable !== true) return failed("EBADF", `ftruncate ${fd}`);
    truncateLive(file.inode, sizeBytes);
    return this.later(undefined);
  }

  fstat(fd: number): Promise<FileStatus> {
    if (!this.powered) return never();
    const file = this.openFiles.get(fd);
    if (file === undefined) return failed("EBADF", `fstat ${fd}`);
    return this.later({ sizeBytes: file.inode.liveSizeBytes, blockCount: file.inode.live.blockCount });
  }

  rename(fromPath: string, toPath: string): Promise<void> {
    if (!this.step()) return never();
    const folder = path.dirname(fromPath);
    // The device renames only within a folder; across folders would need two folder syncs.
    assert.equal(path.dirname(toPath), folder, "the model renames within one folder");
    const inode = this.liveNames.get(fromPath);
    if (inode === undefined) return failed("ENOENT", `rename ${fromPath}`);
    const change: NameChange = { kind: "rename", from: fromPath, to: toPath, inode };
    applyNameChange(this.liveNames, change);
    this.recordNameChange(folder, change);
    return this.later(undefined);
  }

  syncFolder(folderPath: string): Promise<void> {
    if (!this.step()) return never();
    if (!this.folders.has(folderPath)) return failed("ENOENT", `open ${folderPath}`);
    for (const change of this.nameChanges.get(folderPath) ?? []) applyNameChange(this.durableNames, change);
    this.nameChanges.delete(folderPath);
    return this.later(undefined);
  }

  mkdir(folderPath: string): Promise<void> {
    if (!this.powered) return never();
    assert.ok(path.isAbsolute(folderPath), "the model's paths are absolute");
    for (let folder = folderPath; !this.folders.has(folder); folder = path.dirname(folder)) this.folders.add(folder);
    return this.later(undefined);
  }

  /** Counts an operation that may change what survives; false when power is off (or goes off now). */
  private step(): boolean {
    if (!this.powered) return false;
    this.operationCount += 1;
    if (this.operationCount === this.powerOffAt) {
      this.powerOff();
      return false;
    }
    return true;
  }

  private fileOf(fd: number): OpenFile {
    const file = this.openFiles.get(fd);
    if (file === undefined) throw errnoError("EBADF", `descriptor ${fd}`);
    return file;
  }

  private recordNameChange(folder: string, change: NameChange): void {
    const changes = this.nameChanges.get(folder) ?? [];
    changes.push(change);
    this.nameChanges.set(folder, changes);
  }

  /** Completes in a later turn, as real I/O does, unless the power goes off first. */
  private deliver(complete: () => void): void {
    const period = this.powerPeriod;
    setImmediate(() => {
      if (this.powered && this.powerPeriod === period) complete();
    });
  }

  private later<T>(value: T): Promise<T> {
    return new Promise((resolve) => { this.deliver(() => { resolve(value); }); });
  }
}

function writeLive(inode: Inode, data: Buffer, positionBytes: number): void {
  // A copy: the caller may reuse its buffer, and the cut replays these bytes.
  const copy = Buffer.from(data);
  inode.live.write(copy, positionBytes);
  inode.liveSizeBytes = Math.max(inode.liveSizeBytes, positionBytes + copy.length);
  inode.pending.push({ kind: "write", positionBytes, data: copy });
}

function truncateLive(inode: Inode, sizeBytes: number): void {
  inode.live.cut(sizeBytes);
  inode.liveSizeBytes = sizeBytes;
  inode.pending.push({ kind: "truncate", sizeBytes });
}

/** fdatasync and fsync: the durable image becomes the live one, by replaying what is pending. */
function makeDurable(inode: Inode): void {
  for (const change of inode.pending) {
    if (change.kind === "write") inode.durable.write(change.data, change.positionBytes);
    else inode.durable.cut(change.sizeBytes);
  }
  inode.durableSizeBytes = inode.liveSizeBytes;
  inode.pending = [];
}

/** After a cut, a file's live image is what survived. */
function restartFrom(inode: Inode): void {
  assert.equal(inode.pending.length, 0);
  inode.live = inode.durable.copy();
  inode.liveSizeBytes = inode.durableSizeBytes;
}

/** Ways a cut treats one file's pending writes. */
const keepNone = 0;
const keepAll = 1;
const keepModes = 4;

/** Settles one file's pending writes into its durable image, sector by sector (see the header). */
function settleInode(inode: Inode, random: SeededRandom): { kept: number; dropped: number } {
  const mode = random.below(keepModes);
  const touching = sectorsTouched(inode.pending);
  let kept = 0;
  for (const sectorIndex of [...touching.keys()].sort((left, right) => left - right)) {
    const writes = touching.get(sectorIndex) ?? [];
    const keptCount = mode === keepNone ? 0 : mode === keepAll ? writes.length : random.below(writes.length + 1);
    if (keptCount === 0) continue;
    const sector = Buffer.alloc(sectorSizeBytes);
    const sectorStart = sectorIndex * sectorSizeBytes;
    inode.durable.read(sector, sectorStart);
    for (const write of writes.slice(0, keptCount)) overlay(sector, sectorStart, write);
    inode.durable.write(sector, sectorStart);
    kept += 1;
  }
  const sizeDurable = inode.durableSizeBytes === inode.liveSizeBytes || mode === keepNone ||
    (mode !== keepAll && random.chance(0.5));
  if (!sizeDurable) inode.durableSizeBytes = inode.liveSizeBytes;
  inode.durable.cut(inode.durableSizeBytes);
  inode.pending = [];
  return { kept, dropped: touching.size - kept };
}

type PendingWrite = Extract<PendingChange, { kind: "write" }>;

/** Sector index to the pending writes touching it, in issue order. */
function sectorsTouched(pending: readonly PendingChange[]): Map<number, PendingWrite[]> {
  const touching = new Map<number, PendingWrite[]>();
  for (const change of pending) {
    if (change.kind !== "write" || change.data.length === 0) continue;
    const first = Math.floor(change.positionBytes / sectorSizeBytes);
    const last = Math.floor((change.positionBytes + change.data.length - 1) / sectorSizeBytes);
    for (let sectorIndex = first; sectorIndex <= last; sectorIndex += 1) {
      const writes = touching.get(sectorIndex) ?? [];
      writes.push(change);
      touching.set(sectorIndex, writes);
    }
  }
  return touching;
}

/** Copies the part of `write` that falls in the sector starting at `sectorStart`. */
function overlay(sector: Buffer, sectorStart: number, write: PendingWrite): void {
  const from = Math.max(sectorStart, write.positionBytes);
  const to = Math.min(sectorStart + sectorSizeBytes, write.positionBytes + write.data.length);
  write.data.copy(sector, from - sectorStart, from - write.positionBytes, to - write.positionBytes);
}

function applyNameChange(names: Map<string, Inode>, change: NameChange): void {
  if (change.kind === "create") {
    names.set(change.name, change.inode);
    return;
  }
  names.delete(change.from);
  names.set(change.to, change.inode);
}

function errnoError(code: string, what: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${what} (power-loss model)`), { code });
}

function failed<T>(code: string, what: string): Promise<T> {
  return Promise.reject(errnoError(code, what));
}

/** What a call started while the power is off returns: it never completes. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
