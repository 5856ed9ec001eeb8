// Goal: a logical unit reads back what was written, zeroes and copies ranges
// in chunks, refuses every range past its end with a typed error, and shares
// fdatasyncs only among callers whose writes they cover.
// Method: real sparse files in a temporary folder, removed after each test;
// fdatasync calls are counted by spying on node:fs. Every case runs twice:
// with small requests done synchronously (the default) and all through the
// thread pool, so both I/O paths are held to the same behaviour. Which
// requests take which path is checked through a recording file port.
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LogicalUnit, allocationScanMaxBytes, ioChunkSizeBytes } from "./logical-unit.js";
import { validateExtentSize } from "./lu-geometry.js";
import { scanChunksMax } from "./scan-chunks.js";
import { nodeFiles, type DeviceFiles } from "./device-files.js";
import { hostSyncWriteMaxBytes, syncIoMaxBytes } from "./sync-io-valve.js";
import { temporaryFolder, type TemporaryFolder } from "./testing.js";

const mebibyte = 1 << 20;
/** NBD_STATE_HOLE | NBD_STATE_ZERO: what a zero run is reported as. */
const holeAndZero = 3;
let folder: TemporaryFolder;
const opened: LogicalUnit[] = [];
let syncIo = true;

beforeEach(async () => {
  folder = await temporaryFolder();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.allSettled(opened.splice(0).map((lu) => lu.close()));
  await folder.remove();
});

async function createLu(id = "lu0", sizeBytes = 8 * mebibyte): Promise<LogicalUnit> {
  const lu = await LogicalUnit.create({ id, path: path.join(folder.path, `${id}.img`), sizeBytes, extentSizeBytes: mebibyte, syncIo });
  opened.push(lu);
  return lu;
}

function pattern(lengthBytes: number, seed: number): Buffer {
  const buffer = Buffer.alloc(lengthBytes);
  for (let index = 0; index < lengthBytes; index += 1) buffer[index] = (index * 31 + seed) & 0xff;
  return buffer;
}

describe.each([true, false])("LogicalUnit (synchronous small I/O: %s)", (synchronous) => {
  beforeEach(() => {
    syncIo = synchronous;
  });

  it("creates a sparse file cut into areas", async () => {
    const lu = await createLu();
    expect(lu.areaCount).toBe(8);
    expect(lu.areaOffsetBytes(3)).toBe(3 * mebibyte);
    const stats = fs.statSync(lu.path);
    expect(stats.size).toBe(8 * mebibyte);
    expect(stats.blocks * 512).toBeLessThan(mebibyte);
  });

  it("reads back writes, with and without FUA, and zeroes where nothing was written", async () => {
    const lu = await createLu();
    const data = pattern(3 * 4096, 7);
    await lu.write(4096, data, false);
    await lu.write(mebibyte - 100, pattern(200, 9), true);
    const into = Buffer.alloc(data.length);
    await lu.read(4096, into);
    expect(into.equals(data)).toBe(true);
    const straddling = Buffer.alloc(200);
    await lu.read(mebibyte - 100, straddling);
    expect(straddling.equals(pattern(200, 9))).toBe(true);
    const untouched = Buffer.alloc(4096, 0xff);
    await lu.read(5 * mebibyte, untouched);
    expect(untouched.every((byte) => byte === 0)).toBe(true);
  });

  it("keeps data across close and open", async () => {
    const lu = await createLu();
    await lu.write(12345, pattern(5000, 3), false);
    await lu.close();
    const reopened = await LogicalUnit.open({ id: "lu0", path: lu.path, sizeBytes: lu.sizeBytes, extentSizeBytes: mebibyte });
    opened.push(reopened);
    const into = Buffer.alloc(5000);
    await reopened.read(12345, into);
    expect(into.equals(pattern(5000, 3))).toBe(true);
  });

  it("serves many concurrent reads and writes (request objects are reused)", async () => {
    const lu = await createLu();
    const count = 300;
    await Promise.all(Array.from({ length: count }, (_, index) => lu.write(index * 4096, pattern(4096, index), false)));
    const buffers = Array.from({ length: count }, () => Buffer.alloc(4096));
    await Promise.all(buffers.map((buffer, index) => lu.read(index * 4096, buffer)));
    buffers.forEach((buffer, index) => { expect(buffer.equals(pattern(4096, index))).toBe(true); });
  });

  it("writes zeroes over a range of several chunks, and nothing else", async () => {
    const lu = await createLu();
    const lengthBytes = 3 * ioChunkSizeBytes + 12345;
    await lu.write(0, pattern(lu.sizeBytes, 1), false);
    await lu.writeZeroes(4096, lengthBytes, { fua: true, noHole: true });
    const all = Buffer.alloc(lu.sizeBytes);
    await lu.read(0, all);
    expect(all.subarray(0, 4096).equals(pattern(lu.sizeBytes, 1).subarray(0, 4096))).toBe(true);
    expect(all.subarray(4096, 4096 + lengthBytes).every((byte) => byte === 0)).toBe(true);
    expect(all.subarray(4096 + lengthBytes).equals(pattern(lu.sizeBytes, 1).subarray(4096 + lengthBytes))).toBe(true);
  });

  it("zeroes without NO_HOLE over holes and data: data chunks read zero, holes stay unallocated", async () => {
    const lu = await createLu("lu0", 64 * mebibyte);
    // One chunk of data in the middle of 64 MiB of holes, as a sparse image's import sends it.
    await lu.write(32 * mebibyte, pattern(mebibyte, 2), false);
    await lu.writeZeroes(0, lu.sizeBytes, { fua: true, noHole: false });
    const back = Buffer.alloc(lu.sizeBytes);
    await lu.read(0, back);
    expect(back.every((byte) => byte === 0)).toBe(true);
    // Written zeroes are allocated; only the chunk that held data was written.
    expect(fs.statSync(lu.path).blocks * 512).toBeLessThanOrEqual(2 * mebibyte);
    await lu.writeZeroes(0, 16 * mebibyte, { fua: true, noHole: true });
    expect(fs.statSync(lu.path).blocks * 512).toBeGreaterThanOrEqual(16 * mebibyte);
  });

  it("answers allocation from what the range reads: zero runs are holes, data is data, at most allocationScanMaxBytes a call", async () => {
    const lu = await createLu("lu0", 128 * mebibyte);
    // A fresh file has no block: all hole, at any length, without a scan limit.
    expect(await lu.allocation(0, lu.sizeBytes)).toEqual([{ lengthBytes: lu.sizeBytes, state: holeAndZero }]);
    await lu.write(mebibyte + 4096, Buffer.alloc(8192, 1), false);
    await lu.write(100 * mebibyte, Buffer.alloc(4096, 2), false);
    expect(await lu.allocation(0, 2 * mebibyte)).toEqual([
      { lengthBytes: mebibyte + 4096, state: holeAndZero },
      { lengthBytes: 8192, state: 0 },
      { lengthBytes: mebibyte - 12288, state: holeAndZero },
    ]);
    const whole = await lu.allocation(0, lu.sizeBytes);
    expect(whole.reduce((sum, extent) => sum + extent.lengthBytes, 0)).toBe(allocationScanMaxBytes);
    const tail = await lu.allocation(allocationScanMaxBytes, lu.sizeBytes - allocationScanMaxBytes);
    expect(tail.map((extent) => extent.state)).toEqual([holeAndZero, 0, holeAndZero]);
    await expect(lu.allocation(lu.sizeBytes - 4096, 8192)).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
  });

  it("answers a file with no hole as all data at any length, without reading (zeroes written with NO_HOLE are data then)", async () => {
    const lu = await createLu("lu0", allocationScanMaxBytes + 8 * mebibyte);
    await lu.write(0, Buffer.alloc(4096, 1), false);
    expect(await lu.allocation(0, 2 * mebibyte)).toEqual([{ lengthBytes: 4096, state: 0 }, { lengthBytes: 2 * mebibyte - 4096, state: holeAndZero }]);
    await lu.writeZeroes(4096, lu.sizeBytes - 4096, { fua: true, noHole: true });
    // A scan stops at allocationScanMaxBytes; this answer covers more, so no scan made it.
    expect(await lu.allocation(0, lu.sizeBytes)).toEqual([{ lengthBytes: lu.sizeBytes, state: 0 }]);
  });

  it("answers concurrent allocation scans each from its own chunk, twice as many as it has chunks (the rest wait)", async () => {
    const scanCount = 2 * scanChunksMax;
    const lu = await createLu("lu0", scanCount * mebibyte);
    // Data in every even mebibyte, none in the odd ones: any chunk shared by two scans would mix them up.
    for (let index = 0; index < scanCount; index += 2) await lu.write(index * mebibyte, Buffer.alloc(mebibyte, 5), false);
    for (let round = 0; round < 2; round += 1) {
      const answers = await Promise.all(Array.from({ length: scanCount }, (_, index) => lu.allocation(index * mebibyte, mebibyte)));
      answers.forEach((answer, index) => {
        expect(answer).toEqual([{ lengthBytes: mebibyte, state: index % 2 === 0 ? 0 : holeAndZero }]);
      });
    }
  });

  it("answers allocation through a mirror that takes its reads, even with no block of its own", async () => {
    const lu = await createLu();
    // A mirror filling this LU from an external source reads there (device-mirrors.ts).
    lu.intercept({
      read: (_lu, _offsetBytes, into) => { into.fill(9); return Promise.resolve(); },
      write: () => undefined,
      flush: () => undefined,
    });
    expect(await lu.allocation(0, mebibyte)).toEqual([{ lengthBytes: mebibyte, state: 0 }]);
    lu.intercept(undefined);
    expect(await lu.allocation(0, mebibyte)).toEqual([{ lengthBytes: mebibyte, state: holeAndZero }]);
  });

  it("refuses ranges past the end or not in whole bytes, and changes nothing", async () => {
    const lu = await createLu();
    await expect(lu.read(lu.sizeBytes - 10, Buffer.alloc(11))).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
    await expect(lu.write(lu.sizeBytes, Buffer.alloc(1), false)).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
    await expect(lu.write(-1, Buffer.alloc(1), false)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(lu.read(0.5, Buffer.alloc(1))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(lu.writeZeroes(lu.sizeBytes - 1, 2, { fua: false, noHole: false })).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
    expect(() => lu.areaOffsetBytes(8)).toThrow(expect.objectContaining({ code: "OUT_OF_RANGE" }));
    await lu.read(lu.sizeBytes, Buffer.alloc(0));
    expect(fs.statSync(lu.path).size).toBe(lu.sizeBytes);
  });

  it("validates extent sizes and LU sizes with typed errors", async () => {
    for (const extentSizeBytes of [0, 3 * mebibyte, mebibyte / 2, 2 ** 31, 1.5]) {
      expect(() => { validateExtentSize(extentSizeBytes); }).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
    validateExtentSize(4 * mebibyte);
    const lu = LogicalUnit.create({ id: "odd", path: path.join(folder.path, "odd.img"), sizeBytes: mebibyte + 1, extentSizeBytes: mebibyte });
    await expect(lu).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("refuses to create over an existing file, and to open a file of another size", async () => {
    const lu = await createLu();
    await expect(LogicalUnit.create({ id: "lu0", path: lu.path, sizeBytes: lu.sizeBytes, extentSizeBytes: mebibyte }))
      .rejects.toMatchObject({ code: "DEVICE_FOLDER_CONFLICT" });
    await expect(LogicalUnit.open({ id: "lu0", path: lu.path, sizeBytes: 2 * lu.sizeBytes, extentSizeBytes: mebibyte }))
      .rejects.toMatchObject({ code: "DEVICE_CORRUPT" });
  });

  it("reports a file shortened behind its back instead of returning short data", async () => {
    const lu = await createLu();
    fs.truncateSync(lu.path, mebibyte);
    await expect(lu.read(2 * mebibyte, Buffer.alloc(4096))).rejects.toMatchObject({ code: "DEVICE_CORRUPT" });
  });

  it("shares one fdatasync among concurrent flushes, but never one that started before the call", async () => {
    const lu = await createLu();
    const fdatasync = vi.spyOn(fs, "fdatasync");
    await Promise.all(Array.from({ length: 20 }, () => lu.flush()));
    // The first starts at once; the other 19 arrive while it runs and share the next.
    expect(fdatasync).toHaveBeenCalledTimes(2);
    fdatasync.mockClear();
    const first = lu.flush();
    await lu.write(0, pattern(4096, 1), false);
    const second = lu.flush();
    await Promise.all([first, second]);
    expect(fdatasync).toHaveBeenCalledTimes(2);
  });

  it("makes FUA writes durable with shared flushes", async () => {
    const lu = await createLu();
    const fdatasync = vi.spyOn(fs, "fdatasync");
    await Promise.all(Array.from({ length: 32 }, (_, index) => lu.write(index * 4096, pattern(4096, index), true)));
    expect(fdatasync.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(fdatasync.mock.calls.length).toBeLessThan(32);
  });

  it("fails every later call after a failed fdatasync, until reopened", async () => {
    const lu = await createLu();
    vi.spyOn(fs, "fdatasync").mockImplementationOnce((_fd, callback) => {
      callback(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
    });
    await expect(lu.flush()).rejects.toMatchObject({ code: "IO_FAILED" });
    await expect(lu.write(0, Buffer.alloc(4096), false)).rejects.toMatchObject({ code: "IO_FAILED" });
    await expect(lu.flush()).rejects.toMatchObject({ code: "IO_FAILED" });
  });

  it("waits for I/O in flight on close, then refuses new I/O", async () => {
    const lu = await createLu();
    const reads = Array.from({ length: 50 }, (_, index) => lu.read(index * 4096, Buffer.alloc(4096)));
    await lu.close();
    await Promise.all(reads);
    await expect(lu.read(0, Buffer.alloc(1))).rejects.toMatchObject({ code: "CLOSED" });
    await expect(lu.flush()).rejects.toMatchObject({ code: "CLOSED" });
  });
});

describe("LogicalUnit: which requests run on the loop", () => {
  /** nodeFiles, recording each pread and pwrite as "sync" or "pool" with its length. */
  function recordingFiles(calls: string[]): DeviceFiles {
    return {
      ...nodeFiles,
      read: (fd, buffer, offset, length, position, callback) => { calls.push(`pool read ${length}`); nodeFiles.read(fd, buffer, offset, length, position, callback); },
      write: (fd, buffer, offset, length, position, callback) => { calls.push(`pool write ${length}`); nodeFiles.write(fd, buffer, offset, length, position, callback); },
      readSync: (fd, buffer, offset, length, position) => { calls.push(`sync read ${length}`); return nodeFiles.readSync(fd, buffer, offset, length, position); },
      writeSync: (fd, buffer, offset, length, position) => { calls.push(`sync write ${length}`); return nodeFiles.writeSync(fd, buffer, offset, length, position); },
    };
  }

  it("runs a host's 1 MiB write on the loop and its 1 MiB read in the pool, and sends a mirror's or the LU's own 1 MiB to the pool", async () => {
    const calls: string[] = [];
    const lu = await LogicalUnit.create({ id: "lu0", path: path.join(folder.path, "lu0.img"), sizeBytes: 8 * mebibyte, extentSizeBytes: mebibyte, files: recordingFiles(calls) });
    opened.push(lu);
    await lu.write(0, pattern(hostSyncWriteMaxBytes, 1), false);
    await lu.read(0, Buffer.alloc(hostSyncWriteMaxBytes));
    await lu.read(0, Buffer.alloc(syncIoMaxBytes));
    await lu.write(0, pattern(hostSyncWriteMaxBytes + 4096, 2), false);
    expect(calls).toEqual([`sync write ${hostSyncWriteMaxBytes}`, `pool read ${hostSyncWriteMaxBytes}`, `sync read ${syncIoMaxBytes}`, `pool write ${hostSyncWriteMaxBytes + 4096}`]);
    calls.length = 0;
    await lu.writeDirect(0, pattern(mebibyte, 3), false);
    await lu.readDirect(0, Buffer.alloc(mebibyte));
    await lu.readDirect(0, Buffer.alloc(syncIoMaxBytes));
    await lu.scrub(0, mebibyte);
    expect(calls).toEqual([`pool write ${mebibyte}`, `pool read ${mebibyte}`, `sync read ${syncIoMaxBytes}`, `pool read ${mebibyte}`, `pool write ${mebibyte}`]);
  });
});
