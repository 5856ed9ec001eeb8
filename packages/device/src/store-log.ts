/**
 * The configuration store's log: StoreDelta records appended one at a time,
 * each fsynced before its commit is answered. A record is a 32-byte header
 * (magic, sequence, payload length, payload crc32, reserved, header crc32)
 * and its payload. Only the last record can be torn, since each is durable
 * before the next is written: at open the first invalid record ends the log.
 *
 * The file is preallocated with zeroes (up to logPreallocatedBytesMax) and never
 * shrinks: emptying it zeroes what was used. An append inside it changes
 * neither the file's size nor its blocks, so its fdatasync writes the record
 * and commits no file-system journal transaction, which would stall every
 * other writer of the device (host writes to the LU files) for its length.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import zlib from "node:zlib";
import { decodeStoreDelta, type StoreDelta__Output } from "@switchyard/proto";
import { StoreCorruptError, errnoOf, ioError } from "./errors.js";
import type { DeviceFiles } from "./device-files.js";
import { datasync, readWhole, syncFolder, writeFully } from "./durable-file.js";

export const logRecordHeaderSizeBytes = 32;
/** 2 GiB: a checkpoint empties the log at 64 MiB, plus one record of at most a 1 GiB slot; a bigger log is not ours. */
export const logSizeMaxBytes = 2 ** 31;
/**
 * Zeroes written when the log is created, at most: 64 MiB, as much as the
 * log holds before a checkpoint empties it (checkpointLogBytesMax), so that
 * appends do not grow the file. The store asks for no more than a slot.
 */
export const logPreallocatedBytesMax = 64 << 20;
/** Zeroes written per call when preallocating or emptying the log. */
const zeroChunkBytes = 1 << 20;

const logMagic = Buffer.from("SWYDLOG1", "latin1");
const headerChecksumOffset = logRecordHeaderSizeBytes - 4;

assert.equal(logMagic.length, 8);

export interface StoreLog {
  readonly path: string;
  readonly files: DeviceFiles;
  readonly fd: number;
  /** Where the next record goes: the end of the last valid one. */
  endBytes: number;
  /** Valid records in the log, replayed or not: the checkpoint cadence counts them. */
  recordCount: number;
}

export function encodeLogRecord(sequence: number, payload: Buffer): Buffer {
  assert.ok(Number.isSafeInteger(sequence) && sequence > 0);
  const record = Buffer.alloc(logRecordHeaderSizeBytes + payload.length);
  logMagic.copy(record, 0);
  record.writeBigUInt64LE(BigInt(sequence), 8);
  record.writeUInt32LE(payload.length, 16);
  record.writeUInt32LE(zlib.crc32(payload), 20);
  record.writeUInt32LE(zlib.crc32(record.subarray(0, headerChecksumOffset)), headerChecksumOffset);
  payload.copy(record, logRecordHeaderSizeBytes);
  return record;
}

/** The record at `offsetBytes`: its sequence and payload, or undefined where the log ends (or is torn). */
function parseLogRecord(bytes: Buffer, offsetBytes: number): { sequence: number; payload: Buffer } | undefined {
  if (bytes.length - offsetBytes < logRecordHeaderSizeBytes) return undefined;
  const header = bytes.subarray(offsetBytes, offsetBytes + logRecordHeaderSizeBytes);
  if (!header.subarray(0, logMagic.length).equals(logMagic)) return undefined;
  if (zlib.crc32(header.subarray(0, headerChecksumOffset)) !== header.readUInt32LE(headerChecksumOffset)) return undefined;
  const payloadStart = offsetBytes + logRecordHeaderSizeBytes;
  const payloadLengthBytes = header.readUInt32LE(16);
  if (bytes.length - payloadStart < payloadLengthBytes) return undefined;
  const payload = bytes.subarray(payloadStart, payloadStart + payloadLengthBytes);
  if (zlib.crc32(payload) !== header.readUInt32LE(20)) return undefined;
  return { sequence: Number(header.readBigUInt64LE(8)), payload };
}

/** Writes zeroes over [0, lengthBytes) and makes them durable: real blocks, not a hole. */
async function writeZeroes(files: DeviceFiles, fd: number, lengthBytes: number): Promise<void> {
  const zeroes = Buffer.alloc(Math.min(zeroChunkBytes, lengthBytes));
  for (let doneBytes = 0; doneBytes < lengthBytes; doneBytes += zeroes.length) {
    await writeFully(files, fd, zeroes.subarray(0, Math.min(zeroes.length, lengthBytes - doneBytes)), doneBytes);
  }
  await datasync(files, fd);
}

async function openOrCreate(files: DeviceFiles, path: string, preallocatedBytes: number): Promise<number> {
  try {
    return await files.open(path, "r+");
  } catch (error) {
    if (errnoOf(error) !== "ENOENT") throw ioError(`opening ${path}`, error);
  }
  // A log lost with its folder entry before this sync was empty: nothing is lost.
  const fd = await files.open(path, "w+").catch((error: unknown) => { throw ioError(`creating ${path}`, error); });
  try {
    await writeZeroes(files, fd, preallocatedBytes);
  } catch (error) {
    await files.close(fd);
    throw ioError(`preallocating ${path}`, error);
  }
  await syncFolder(files, dirname(path));
  return fd;
}

/**
 * Opens the log and hands `replay` every record above `baseSequence` (the
 * checkpoint's), in order. Records at or below it were folded into the
 * checkpoint already. A gap in the sequence is corruption, not a torn write.
 */
export async function openLog(
  files: DeviceFiles, path: string, baseSequence: number, preallocatedBytes: number, replay: (delta: StoreDelta__Output) => void,
): Promise<StoreLog> {
  assert.ok(Number.isSafeInteger(preallocatedBytes) && preallocatedBytes >= 0 && preallocatedBytes <= logPreallocatedBytesMax);
  const fd = await openOrCreate(files, path, preallocatedBytes);
  try {
    const { endBytes, recordCount } = replayLogBytes(path, await readWhole(files, fd), baseSequence, replay);
    return { path, files, fd, endBytes, recordCount };
  } catch (error) {
    await files.close(fd);
    if (error instanceof StoreCorruptError) throw error;
    throw ioError(`reading ${path}`, error);
  }
}

/**
 * Hands `replay` every record of the log's `bytes` above `baseSequence`, in
 * order, and says where the valid records end. Reads only: openLog and a
 * read-only reading of a stopped device's store (readStoreFile) share it.
 */
export function replayLogBytes(
  path: string, bytes: Buffer, baseSequence: number, replay: (delta: StoreDelta__Output) => void,
): { endBytes: number; recordCount: number } {
  if (bytes.length > logSizeMaxBytes) throw new StoreCorruptError(`${path} is ${bytes.length} bytes, more than a log ever holds`);
  let offsetBytes = 0;
  let recordCount = 0;
  let expected = baseSequence + 1;
  for (let record = parseLogRecord(bytes, 0); record !== undefined; record = parseLogRecord(bytes, offsetBytes)) {
    if (record.sequence === expected) {
      replay(decodeRecord(path, record.payload, record.sequence));
      expected += 1;
    } else if (record.sequence > baseSequence || expected > baseSequence + 1) {
      throw new StoreCorruptError(`${path}: record ${record.sequence} where ${expected} was due`);
    }
    offsetBytes += logRecordHeaderSizeBytes + record.payload.length;
    recordCount += 1;
  }
  // Past the last valid record: zeroes, or the torn tail of an append that
  // was never answered, which the next append overwrites.
  return { endBytes: offsetBytes, recordCount };
}

function decodeRecord(path: string, payload: Buffer, sequence: number): StoreDelta__Output {
  try {
    return decodeStoreDelta(payload);
  } catch (error) {
    // The checksum matched, so these are the bytes we wrote: not a torn write.
    throw new StoreCorruptError(`${path}: record ${sequence} does not decode`, { cause: error });
  }
}

/**
 * Appends one record and makes it durable. A zeroed header follows it in
 * the same write: whatever lies beyond (the rest of a longer torn record)
 * is never read as part of the log.
 */
export async function appendLogRecord(log: StoreLog, sequence: number, payload: Buffer): Promise<void> {
  const record = encodeLogRecord(sequence, payload);
  const terminated = Buffer.alloc(record.length + logRecordHeaderSizeBytes);
  record.copy(terminated, 0);
  await writeFully(log.files, log.fd, terminated, log.endBytes);
  await datasync(log.files, log.fd);
  log.endBytes += record.length;
  log.recordCount += 1;
}

/**
 * After a failed append: zeroes where the record went, not made durable (the
 * sync is what failed). The page cache then holds no valid record there, so
 * a record whose sync failed is not written back later and read at the next
 * open as if committed; only a power cut before the next good sync may keep
 * it (a failed fsync leaves the disk's contents unknown).
 */
export async function unwriteLogTail(log: StoreLog, payloadLengthBytes: number): Promise<void> {
  // The record (header and payload) and the zeroed header appendLogRecord wrote after it.
  const writtenBytes = logRecordHeaderSizeBytes + payloadLengthBytes + logRecordHeaderSizeBytes;
  await writeFully(log.files, log.fd, Buffer.alloc(writtenBytes), log.endBytes);
}

/**
 * Empties the log once a checkpoint covers every record in it, by zeroing
 * what was used. A crash halfway leaves some of those records: all at or
 * below the checkpoint's sequence, so replay skips them.
 */
export async function emptyLog(log: StoreLog): Promise<void> {
  await writeZeroes(log.files, log.fd, log.endBytes);
  log.endBytes = 0;
  log.recordCount = 0;
}
