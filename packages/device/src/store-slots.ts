/**
 * The configuration store's file of slots (configuration-store.ts): two
 * slots, each a checksummed header and a payload, written whole and in
 * turn, so a torn write damages only the slot being written. This is the
 * format alone: encoding, reading and validating a slot, and creating the
 * file; which slot is current, and the log beside it, are the store's.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import zlib from "node:zlib";
import { InvalidArgumentError, StoreCorruptError, ioError } from "./errors.js";
import type { DeviceFiles } from "./device-files.js";
import { readFully, syncFolder, temporarySuffix, writeFully } from "./durable-file.js";

/** 64 MiB per slot: room for a table of millions of extents plus the journal; sparse until used. */
export const slotSizeDefaultBytes = 64 << 20;
/**
 * Slots are whole 4 KiB pages, so writing one never rewrites a sector of the
 * other: a torn write can only damage the slot being written.
 */
export const slotAlignmentBytes: number = 4096;
export const slotSizeMinBytes = slotAlignmentBytes;
/** 1 GiB: the slot size is recorded in a uint32 header field, and a state that big is a bug. */
export const slotSizeMaxBytes = 1 << 30;
export const slotHeaderSizeBytes: number = 64;
const magic = Buffer.from("SWYDSTOR", "latin1");
const formatVersion = 1;
const headerChecksumOffset = slotHeaderSizeBytes - 4;

assert.equal(magic.length, 8);
assert.ok(slotSizeMinBytes > slotHeaderSizeBytes);
assert.ok(slotSizeMaxBytes <= 2 ** 32 - 1);
assert.equal(slotSizeDefaultBytes % slotAlignmentBytes, 0);

export interface SlotHeader {
  readonly sequence: number;
  readonly payloadLengthBytes: number;
  readonly payloadCrc32: number;
}

/** One slot as found on disk: valid with its contents, or why not. */
export type SlotReading =
  | { readonly valid: true; readonly header: SlotHeader; readonly payload: Buffer }
  | { readonly valid: false; readonly reason: string };

/** Header followed by payload, ready for one positioned write. */
export function encodeSlot(slotIndex: number, slotSizeBytes: number, sequence: number, payload: Buffer): Buffer {
  assert.ok(slotIndex === 0 || slotIndex === 1);
  assert.ok(Number.isSafeInteger(sequence) && sequence >= 0);
  assert.ok(payload.length <= slotSizeBytes - slotHeaderSizeBytes);
  const slot = Buffer.alloc(slotHeaderSizeBytes + payload.length);
  magic.copy(slot, 0);
  slot.writeUInt32LE(formatVersion, 8);
  slot.writeUInt32LE(slotIndex, 12);
  slot.writeBigUInt64LE(BigInt(sequence), 16);
  slot.writeUInt32LE(payload.length, 24);
  slot.writeUInt32LE(zlib.crc32(payload), 28);
  slot.writeUInt32LE(slotSizeBytes, 32);
  slot.writeUInt32LE(zlib.crc32(slot.subarray(0, headerChecksumOffset)), headerChecksumOffset);
  payload.copy(slot, slotHeaderSizeBytes);
  // Pair the assertion: what goes to disk parses back to what was meant.
  const parsed = parseHeader(slot.subarray(0, slotHeaderSizeBytes), slotIndex, slotSizeBytes);
  assert.ok(typeof parsed !== "string" && parsed.sequence === sequence && parsed.payloadLengthBytes === payload.length);
  return slot;
}

/** The header's fields, or why the header is not valid. */
function parseHeader(header: Buffer, slotIndex: number, slotSizeBytes: number): SlotHeader | string {
  assert.equal(header.length, slotHeaderSizeBytes);
  if (!header.subarray(0, magic.length).equals(magic)) {
    return header.every((byte) => byte === 0) ? "never written" : "bad magic";
  }
  if (zlib.crc32(header.subarray(0, headerChecksumOffset)) !== header.readUInt32LE(headerChecksumOffset)) {
    return "header checksum mismatch";
  }
  const version = header.readUInt32LE(8);
  if (version !== formatVersion) {
    // A whole header in a format we do not know is not a torn write: do not
    // fall back to an older state over it.
    throw new StoreCorruptError(`slot ${slotIndex} has format version ${version}; this software reads ${formatVersion}`);
  }
  if (header.readUInt32LE(12) !== slotIndex) return `header names slot ${header.readUInt32LE(12)}`;
  if (header.readUInt32LE(32) !== slotSizeBytes) return `header names slot size ${header.readUInt32LE(32)}`;
  const sequence = header.readBigUInt64LE(16);
  if (sequence > BigInt(Number.MAX_SAFE_INTEGER)) return `sequence ${sequence} out of range`;
  const payloadLengthBytes = header.readUInt32LE(24);
  if (payloadLengthBytes > slotSizeBytes - slotHeaderSizeBytes) return `payload length ${payloadLengthBytes} too large`;
  return { sequence: Number(sequence), payloadLengthBytes, payloadCrc32: header.readUInt32LE(28) };
}

export async function readSlot(files: DeviceFiles, fd: number, slotIndex: number, slotSizeBytes: number): Promise<SlotReading> {
  const slotOffsetBytes = slotIndex * slotSizeBytes;
  const headerBytes = Buffer.alloc(slotHeaderSizeBytes);
  // Past the end of a short file the missing bytes read as zeroes, which
  // parse as "never written" or fail a checksum.
  await readFully(files, fd, headerBytes, slotOffsetBytes);
  const header = parseHeader(headerBytes, slotIndex, slotSizeBytes);
  if (typeof header === "string") return { valid: false, reason: header };
  const payload = Buffer.alloc(header.payloadLengthBytes);
  await readFully(files, fd, payload, slotOffsetBytes + slotHeaderSizeBytes);
  if (zlib.crc32(payload) !== header.payloadCrc32) return { valid: false, reason: "payload checksum mismatch" };
  return { valid: true, header, payload };
}

function validSlotSize(slotSizeBytes: number): boolean {
  return Number.isSafeInteger(slotSizeBytes) && slotSizeBytes % slotAlignmentBytes === 0 &&
    slotSizeBytes >= slotSizeMinBytes && slotSizeBytes <= slotSizeMaxBytes;
}

/**
 * A new store holds the empty state as sequence 0 in slot 0 before it gets
 * its name, so an existing store file always had a valid slot: "no valid
 * slot" then always means corruption, never "new".
 */
export async function createStoreFile(files: DeviceFiles, path: string, slotSizeBytes: number): Promise<void> {
  if (!validSlotSize(slotSizeBytes)) {
    throw new InvalidArgumentError(
      `slot size ${slotSizeBytes} bytes must be a multiple of ${slotAlignmentBytes} from ${slotSizeMinBytes} to ${slotSizeMaxBytes}`,
    );
  }
  const temporaryPath = path + temporarySuffix;
  try {
    const fd = await files.open(temporaryPath, "w");
    try {
      await files.ftruncate(fd, 2 * slotSizeBytes);
      await writeFully(files, fd, encodeSlot(0, slotSizeBytes, 0, Buffer.alloc(0)), 0);
      await files.fsync(fd);
    } finally {
      await files.close(fd);
    }
    await files.rename(temporaryPath, path);
  } catch (error) {
    throw ioError(`creating ${path}`, error);
  }
  await syncFolder(files, dirname(path));
}

export async function slotSizeOf(files: DeviceFiles, fd: number, path: string): Promise<number> {
  const stats = await files.fstat(fd).catch((error: unknown) => { throw ioError(`examining ${path}`, error); });
  const slotSizeBytes = stats.sizeBytes / 2;
  if (!validSlotSize(slotSizeBytes)) {
    throw new StoreCorruptError(`${path} is ${stats.sizeBytes} bytes: not two slots of a valid slot size`);
  }
  return slotSizeBytes;
}
