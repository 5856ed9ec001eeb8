/**
 * A logical unit (LU): a sparse file cut into storage areas of one extent
 * size. This is the hot path behind the device's NBD exports and every
 * in-process apparatus, so reads and writes go through the callback API of
 * the file-I/O port (device-files.ts; node:fs in production)
 * with pooled request objects: measured on 4 KiB random I/O it does 1.2-3x
 * the IOPS of FileHandle at queue depths 1-32 (see README.md), and a pooled
 * request avoids a closure per I/O.
 *
 * An LU is a BlockIo (the one byte-I/O interface, @switchyard/nbd) as hosts
 * reach it, mirrors included, and offers a second BlockIo, `direct`, past
 * any mirror: what a mirror itself reads and writes.
 */
import assert from "node:assert/strict";
import { AllocationList, allocationDataState, allocationZeroState, appendAllocationOfBytes, type AllocationExtent, type BlockIo, type WriteZeroesFlags } from "@switchyard/nbd";
import { hostSyncWriteMaxBytes, SyncIoValve, syncIoMaxBytes } from "./sync-io-valve.js";
import { WriteBarriers } from "./write-barriers.js";
import { LuRequest } from "./lu-request.js";
import { LuIoErrors } from "./lu-io-errors.js";
import { ScanChunks } from "./scan-chunks.js";
import { nodeFiles, type DeviceFiles } from "./device-files.js";
import { datasync } from "./durable-file.js";
import { extentSizeMinBytes, validateLuOptions } from "./lu-geometry.js";
import {
  ClosedError,
  DeviceError,
  InvalidArgumentError,
  OutOfRangeError,
  DeviceCorruptError,
  DeviceFolderConflictError,
  errnoOf,
  ioError,
} from "./errors.js";

/** Chunk of writeZeroes and scrub: large enough for sequential speed, small enough to share the disk. */
export const ioChunkSizeBytes = 1 << 20;
/**
 * Most bytes one `allocation` call reads to find zero runs: 64 MiB is a few
 * tens of milliseconds of reading, and an NBD client asks again from where
 * a shorter answer stopped (proto.md BLOCK_STATUS).
 */
export const allocationScanMaxBytes = 64 << 20;

/** The unit of st_blocks (FileStatus.blockCount), whatever the file system's block size. */
const fileBlockBytes = 512;
/**
 * Request objects kept for reuse per LU: above any sane number of I/Os in
 * flight (NBD in-flight limit times connections); extra ones are garbage.
 */
export const requestsPooledMax = 1024;
assert.ok(ioChunkSizeBytes <= extentSizeMinBytes);

/** Shared, never written: the source of every writeZeroes. */
const zeroChunk = Buffer.alloc(ioChunkSizeBytes);
/** Takes the I/O that touches a mirrored area (device-mirrors.ts). */
export interface IoInterceptor {
  /** Takes a write, or undefined to leave it to the LU. */
  write(lu: LogicalUnit, offsetBytes: number, data: Buffer, fua: boolean): Promise<void> | undefined;
  /** Takes a read, or undefined to leave it to the LU. */
  read(lu: LogicalUnit, offsetBytes: number, into: Buffer): Promise<void> | undefined;
  /** What else a host's FLUSH of the LU must make durable, or undefined for nothing. */
  flush(lu: LogicalUnit): Promise<void> | undefined;
}

/**
 * An LU as a mirror addresses it (area-mirror.ts): a LogicalUnit, or an
 * external device's LU (external-lu.ts). Where an area starts belongs to
 * the LU's description, not to its byte I/O, which is `direct`.
 */
export interface LuAreas {
  readonly id: string;
  /** The byte offset where storage area `areaIndex` starts; OUT_OF_RANGE past the last area. */
  areaOffsetBytes(areaIndex: number): number;
  /** The LU's bytes past any mirror. */
  readonly direct: BlockIo;
}

export interface LogicalUnitOptions {
  /** Like "lu0": the NBD export name and the id in the store's LU list. */
  readonly id: string;
  readonly path: string;
  readonly sizeBytes: number;
  readonly extentSizeBytes: number;
  /** Small requests may run on the event loop while they are fast (SyncIoValve); default true. */
  readonly syncIo?: boolean;
  /** Where the LU file lives: node:fs unless a test passes another DeviceFiles. */
  readonly files?: DeviceFiles;
}

export class LogicalUnit implements BlockIo, LuAreas {
  readonly id: string;
  readonly path: string;
  readonly sizeBytes: number;
  readonly extentSizeBytes: number;
  readonly areaCount: number;
  /** The open file and its port; read by pooled requests. */
  readonly fd: number;
  readonly files: DeviceFiles;
  /** Failed reads, writes and fdatasyncs of the file, for the console to name this LU. */
  readonly ioErrors = new LuIoErrors();

  private readonly pool: LuRequest[] = [];
  /** The reused chunks allocation scans read into (scan-chunks.ts). */
  private readonly scanChunks = new ScanChunks(ioChunkSizeBytes);
  private inFlightCount = 0;
  private readonly writeBarriers = new WriteBarriers();
  private closing: (() => void) | undefined;
  private closed = false;
  /** Set by a failed fdatasync: the kernel may have dropped dirty pages, so nothing after is trusted. */
  private failure: DeviceError | undefined;
  private flushRunning: Promise<void> | undefined;
  private flushNext: Promise<void> | undefined;
  private interceptor: IoInterceptor | undefined = undefined;
  private readonly readValve: SyncIoValve;
  private readonly writeValve: SyncIoValve;
  /** Built once per LU: no closure per I/O. */
  readonly direct: BlockIo;
  /**
   * Writes through or past any mirror as values, for writeZeroes and scrub:
   * the LU's own loops, whose chunks keep the pool's cap (syncIoMaxBytes),
   * unlike a host's write.
   */
  private readonly writeThroughMirrors = (offsetBytes: number, data: Buffer, fua: boolean): Promise<void> =>
    this.interceptor?.write(this, offsetBytes, data, fua) ?? this.writeDirect(offsetBytes, data, fua);
  private readonly writePastMirrors = (offsetBytes: number, data: Buffer, fua: boolean): Promise<void> => this.writeDirect(offsetBytes, data, fua);

  private constructor(options: LogicalUnitOptions, fd: number) {
    this.files = options.files ?? nodeFiles;
    this.readValve = new SyncIoValve(options.syncIo ?? true);
    this.writeValve = new SyncIoValve(options.syncIo ?? true);
    this.id = options.id;
    this.path = options.path;
    this.sizeBytes = options.sizeBytes;
    this.extentSizeBytes = options.extentSizeBytes;
    this.areaCount = options.sizeBytes / options.extentSizeBytes;
    this.fd = fd;
    assert.ok(Number.isSafeInteger(this.areaCount) && this.areaCount > 0);
    this.direct = {
      sizeBytes: this.sizeBytes,
      read: (offsetBytes, into) => this.readDirect(offsetBytes, into),
      write: this.writePastMirrors,
      writeZeroes: (offsetBytes, lengthBytes, flags) => this.zeroes(offsetBytes, lengthBytes, flags.fua, this.writePastMirrors),
      flush: () => this.flush(),
    };
  }

  /** Creates a new sparse file of `sizeBytes`; refuses an existing file (it may hold data). */
  static async create(options: LogicalUnitOptions): Promise<LogicalUnit> {
    validateLuOptions(options);
    const files = options.files ?? nodeFiles;
    let fd: number;
    try {
      fd = await files.open(options.path, "wx+", 0o600);
    } catch (error) {
      if (errnoOf(error) === "EEXIST") {
        throw new DeviceFolderConflictError(`${options.path} already exists: refusing to overwrite it`);
      }
      throw ioError(`creating ${options.path}`, error);
    }
    try {
      await files.ftruncate(fd, options.sizeBytes);
      await files.fsync(fd);
    } catch (error) {
      // The failure above is the one to report; closing is best effort.
      await files.close(fd).catch(() => undefined);
      throw ioError(`sizing ${options.path} to ${options.sizeBytes} bytes`, error);
    }
    return new LogicalUnit(options, fd);
  }

  /** Opens an existing LU file; its size must be the recorded one. */
  static async open(options: LogicalUnitOptions): Promise<LogicalUnit> {
    validateLuOptions(options);
    const files = options.files ?? nodeFiles;
    let fd: number;
    try {
      fd = await files.open(options.path, "r+");
    } catch (error) {
      throw ioError(`opening ${options.path}`, error);
    }
    const stats = await files.fstat(fd).catch(async (error: unknown) => {
      // The fstat failure is the one to report; closing is best effort.
      await files.close(fd).catch(() => undefined);
      throw ioError(`examining ${options.path}`, error);
    });
    if (stats.sizeBytes !== options.sizeBytes) {
      // The size mismatch is the one to report; closing is best effort.
      await files.close(fd).catch(() => undefined);
      throw new DeviceCorruptError(
        `${options.path} is ${stats.sizeBytes} bytes, but ${options.id} was created with ${options.sizeBytes}`,
      );
    }
    return new LogicalUnit(options, fd);
  }

  /**
   * True when the file has no block allocated at all: every byte reads as
   * zero, so scrubbing can skip reading it. A fresh terabyte LU would
   * otherwise be read whole (minutes) to create its first large volume.
   */
  async holdsNoData(): Promise<boolean> {
    return (await this.fileBlocks()) === "none";
  }

  /**
   * How much of the file has blocks (st_blocks against its size): "none",
   * every byte reads as zero; "all", it has no hole, so every range of it is
   * data to a copy; "some" otherwise. Blocks of the file system's own
   * metadata count too, so a file with a small hole may show as "all": then
   * that hole is reported as data, which is always a true answer.
   */
  async fileBlocks(): Promise<"none" | "all" | "some"> {
    this.checkOpen();
    const stats = await this.files.fstat(this.fd).catch((error: unknown) => {
      throw ioError(`examining ${this.path}`, error);
    });
    if (stats.blockCount === 0) return "none";
    return stats.blockCount * fileBlockBytes >= stats.sizeBytes ? "all" : "some";
  }

  /** The byte offset where storage area `areaIndex` starts. */
  areaOffsetBytes(areaIndex: number): number {
    if (!Number.isSafeInteger(areaIndex) || areaIndex < 0 || areaIndex >= this.areaCount) {
      throw new OutOfRangeError(`${this.id} has areas 0..${this.areaCount - 1}, not ${areaIndex}`);
    }
    return areaIndex * this.extentSizeBytes;
  }

  /** Throws a typed error unless [offsetBytes, offsetBytes + lengthBytes) lies within the LU. */
  checkRange(offsetBytes: number, lengthBytes: number): void {
    const problem = this.rangeProblem(offsetBytes, lengthBytes);
    if (problem !== undefined) throw problem;
  }

  /** Why the range is not within the LU, or undefined; returned, not thrown, on the hot path. */
  rangeProblem(offsetBytes: number, lengthBytes: number): DeviceError | undefined {
    if (!Number.isSafeInteger(offsetBytes) || !Number.isSafeInteger(lengthBytes) || offsetBytes < 0 ||
      lengthBytes < 0) {
      return new InvalidArgumentError(`${this.id}: offset ${offsetBytes} and length ${lengthBytes} must be whole bytes`);
    }
    if (offsetBytes + lengthBytes > this.sizeBytes) {
      return new OutOfRangeError(
        `${this.id}: ${lengthBytes} bytes at ${offsetBytes} end past its size of ${this.sizeBytes} bytes`,
      );
    }
    return undefined;
  }

  /**
   * Fills all of `into` from `offsetBytes`. A read of an area that a mirror
   * fills from an external source goes to that source (device-mirrors.ts).
   * Hosts' reads and the LU's own loops (scans, scrubbing) alike: both keep
   * the pool's cap, so a loop's 1 MiB chunks stay off the loop.
   */
  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.interceptor?.read(this, offsetBytes, into) ?? this.start(offsetBytes, into, false, syncIoMaxBytes);
  }

  /** read, past any mirror: for the mirror itself. */
  readDirect(offsetBytes: number, into: Buffer): Promise<void> {
    return this.start(offsetBytes, into, false, syncIoMaxBytes);
  }

  /**
   * Writes all of `data` at `offsetBytes`; with `fua`, durable before it
   * resolves. A write touching an area in mirror state goes through the
   * mirror (area-mirror.ts), which writes with writeDirect.
   */
  write(offsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
    return this.interceptor?.write(this, offsetBytes, data, fua) ?? this.writeDurably(this.start(offsetBytes, data, true, hostSyncWriteMaxBytes), fua);
  }

  /**
   * Resolves once every write to the file started before the call has
   * ended: a mirror set up now must not copy a range such a write, gone
   * past it, has not yet reached (area-mirror.ts).
   */
  writesSettled(): Promise<void> {
    return this.writeBarriers.settled();
  }

  /** Sends I/O touching mirrored areas to their mirrors; one per device. */
  intercept(interceptor: IoInterceptor | undefined): void {
    this.interceptor = interceptor;
  }

  /** write, past any mirror: for the mirror itself. */
  writeDirect(offsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
    return this.writeDurably(this.start(offsetBytes, data, true, syncIoMaxBytes), fua);
  }

  private writeDurably(written: Promise<void>, fua: boolean): Promise<void> {
    // NBD proto.md: FUA = the write is on stable storage before the reply; a
    // shared flush started after the write completed covers it.
    return fua ? written.then(() => this.flush()) : written;
  }

  /** One read or write of the file: on the loop when the valve allows it and it is at most `syncMaxBytes`, else in the pool. */
  private start(offsetBytes: number, buffer: Buffer, writing: boolean, syncMaxBytes: number): Promise<void> {
    const problem = this.openProblem() ?? this.rangeProblem(offsetBytes, buffer.length);
    if (problem !== undefined) return Promise.reject(problem);
    if (buffer.length === 0) return Promise.resolve();
    const request = this.pool.pop() ?? new LuRequest(this);
    request.writing = writing;
    request.buffer = buffer;
    request.positionBytes = offsetBytes;
    request.doneBytes = 0;
    this.inFlightCount += 1;
    if (writing) request.epoch = this.writeBarriers.started();
    const valve = writing ? this.writeValve : this.readValve;
    const startMs = performance.now();
    if (!valve.allowsSync(buffer.length, startMs, syncMaxBytes)) return new Promise<void>(request.executor);
    const failure = request.runSync();
    const endMs = performance.now();
    valve.record(endMs - startMs, endMs);
    this.release(request);
    return failure === undefined ? Promise.resolve() : Promise.reject(failure);
  }

  /** Returns a finished request to the pool; called by the request itself. */
  release(request: LuRequest): void {
    assert.ok(this.inFlightCount > 0);
    this.inFlightCount -= 1;
    if (request.writing) this.writeBarriers.ended(request.epoch);
    request.reset();
    if (this.pool.length < requestsPooledMax) this.pool.push(request);
    if (this.inFlightCount === 0 && this.closing !== undefined) this.closing();
  }

  /**
   * A host's FLUSH: this LU, and wherever mirrors copied its writes (a
   * mirror's destination, or an external source mirrored here), since either
   * may be the one the extent lives on after the next commit.
   */
  flushForHost(): Promise<void> {
    const others = this.interceptor?.flush(this);
    return others === undefined ? this.flush() : Promise.all([this.flush(), others]).then(() => undefined);
  }

  /**
   * Makes every write completed before the call durable (fdatasync).
   * Concurrent callers share one fdatasync that started after they called:
   * one running now may have started before their writes completed, so they
   * join the next one instead.
   */
  flush(): Promise<void> {
    const problem = this.openProblem();
    if (problem !== undefined) return Promise.reject(problem);
    if (this.flushRunning === undefined) return this.startFlush();
    this.flushNext ??= this.flushRunning.then(
      () => this.startFlush(),
      () => this.startFlush(),
    );
    return this.flushNext;
  }

  private startFlush(): Promise<void> {
    this.flushNext = undefined;
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const running = datasync(this.files, this.fd).then(
      () => {
        if (this.flushRunning === running) this.flushRunning = undefined;
      },
      (error: unknown) => {
        if (this.flushRunning === running) this.flushRunning = undefined;
        // After a failed fdatasync Linux may mark the lost pages clean, and a
        // retry would succeed without them: fail this LU until reopened.
        this.failure = ioError(`fdatasync of ${this.id} (reopen the device)`, error);
        this.ioErrors.record("flush", this.failure);
        throw this.failure;
      },
    );
    this.flushRunning = running;
    return running;
  }

  /**
   * Writes zeroes over the range, in bounded chunks from one shared zero
   * buffer, through any mirror. Zeroes are written, never punched (Node has
   * no fallocate), so NO_HOLE is always honoured. Without NO_HOLE, and with
   * no mirror on the LU, a chunk that already reads as zeroes is left as it
   * is: importing a sparse image turns its holes into WRITE_ZEROES, and they
   * must stay holes of the LU file, not become gigabytes of written zeroes.
   * A mirror is left out because its destination may not match a skipped
   * source chunk yet.
   */
  writeZeroes(offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags): Promise<void> {
    if (flags.noHole || this.interceptor !== undefined) {
      return this.zeroes(offsetBytes, lengthBytes, flags.fua, this.writeThroughMirrors);
    }
    return this.zeroesKeepingHoles(offsetBytes, lengthBytes, flags.fua);
  }

  private async zeroesKeepingHoles(offsetBytes: number, lengthBytes: number, fua: boolean): Promise<void> {
    await this.scrub(offsetBytes, lengthBytes);
    if (fua) await this.flush();
  }

  private async zeroes(offsetBytes: number, lengthBytes: number, fua: boolean,
    write: (offsetBytes: number, data: Buffer, fua: boolean) => Promise<void>): Promise<void> {
    this.checkOpen();
    this.checkRange(offsetBytes, lengthBytes);
    for (let doneBytes = 0; doneBytes < lengthBytes; doneBytes += ioChunkSizeBytes) {
      const chunkBytes = Math.min(ioChunkSizeBytes, lengthBytes - doneBytes);
      await write(offsetBytes + doneBytes, zeroChunk.subarray(0, chunkBytes), false);
    }
    if (fua) await this.flush();
  }

  /**
   * How the range is allocated (BlockIo.allocation): runs that read as
   * zeroes are holes, the rest data, found by reading at most
   * allocationScanMaxBytes. Node has no SEEK_DATA or FIEMAP; reading is
   * exact about zeroes, and a zero run is never data to copy, which is what
   * block status is asked for (docs/design-notes.md, "Zeroing and block status"). A file with
   * no block allocated at all, or with no hole (fileBlocks), and no mirror,
   * answers without reading: all zero, or all data. The second spares a
   * copy out of a full LU reading every byte twice, once to learn it is data.
   */
  async allocation(offsetBytes: number, lengthBytes: number): Promise<readonly AllocationExtent[]> {
    this.checkOpen();
    this.checkRange(offsetBytes, lengthBytes);
    const blocks = await this.fileBlocks();
    // Not while a mirror takes reads: the area's bytes may then be another LU's (an external source's).
    if (blocks === "none" && this.interceptor === undefined) return [{ lengthBytes, state: allocationZeroState }];
    if (blocks === "all" && this.interceptor === undefined) return [{ lengthBytes, state: allocationDataState }];
    const scanBytes = Math.min(lengthBytes, allocationScanMaxBytes);
    const chunk = await this.scanChunks.take();
    const list = new AllocationList();
    let scanned = false;
    try {
      for (let doneBytes = 0; doneBytes < scanBytes; doneBytes += ioChunkSizeBytes) {
        const piece = chunk.subarray(0, Math.min(ioChunkSizeBytes, scanBytes - doneBytes));
        // Through any mirror, as a host's read: what the range holds for the host.
        await this.read(offsetBytes + doneBytes, piece);
        appendAllocationOfBytes(list, piece);
      }
      scanned = true;
    } finally {
      // A failed read through a mirror may still have parts writing into the chunk: a fresh one replaces it.
      this.scanChunks.give(scanned ? chunk : Buffer.allocUnsafe(ioChunkSizeBytes));
    }
    return list.toArray();
  }

  /**
   * Zeroes the range where it holds data, chunk by chunk: a chunk that
   * already reads as zeroes is not written, so holes of the sparse file stay
   * holes. Not durable by itself. Returns the bytes overwritten.
   */
  async scrub(offsetBytes: number, lengthBytes: number): Promise<number> {
    this.checkOpen();
    this.checkRange(offsetBytes, lengthBytes);
    const chunk = Buffer.allocUnsafe(Math.min(ioChunkSizeBytes, lengthBytes));
    let zeroedBytes = 0;
    for (let doneBytes = 0; doneBytes < lengthBytes; doneBytes += ioChunkSizeBytes) {
      const piece = chunk.subarray(0, Math.min(ioChunkSizeBytes, lengthBytes - doneBytes));
      await this.read(offsetBytes + doneBytes, piece);
      if (piece.equals(zeroChunk.subarray(0, piece.length))) continue;
      await this.writeThroughMirrors(offsetBytes + doneBytes, zeroChunk.subarray(0, piece.length), false);
      zeroedBytes += piece.length;
    }
    return zeroedBytes;
  }

  /** Waits for I/O in flight, makes it durable, and closes the file. Later calls fail with CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.inFlightCount > 0) {
      await new Promise<void>((resolve) => { this.closing = resolve; });
    }
    await Promise.allSettled([this.flushRunning, this.flushNext]);
    try {
      if (this.failure === undefined) await datasync(this.files, this.fd);
    } finally {
      await this.files.close(this.fd);
    }
  }

  private checkOpen(): void {
    const problem = this.openProblem();
    if (problem !== undefined) throw problem;
  }

  private openProblem(): DeviceError | undefined {
    if (this.closed) return new ClosedError(`${this.id} is closed`);
    return this.failure;
  }
}
