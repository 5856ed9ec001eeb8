/**
 * Small wire helpers shared by the NBD server and client: 64-bit integers as
 * JavaScript numbers, and bounded UTF-8 strings.
 */
import assert from "node:assert/strict";

const twoPow32 = 0x100000000;

/**
 * Writes a non-negative safe integer as an unsigned 64-bit big-endian value,
 * in two 32-bit halves (no BigInt on the hot path).
 */
export function writeUInt64(buffer: Buffer, value: number, offset: number): void {
  buffer.writeUInt32BE(Math.floor(value / twoPow32), offset);
  buffer.writeUInt32BE(value >>> 0, offset + 4);
}

/**
 * Reads an unsigned 64-bit big-endian value as a number. Exact up to 2^53;
 * above that it is rounded, which is harmless where it is only compared with
 * an export size (always below 2^53): it stays past the end.
 */
export function readUInt64(buffer: Buffer, offset: number): number {
  return buffer.readUInt32BE(offset) * twoPow32 + buffer.readUInt32BE(offset + 4);
}

/**
 * UTF-8 bytes of `text`, cut to at most `maxBytes` at a character boundary
 * (proto.md: strings are UTF-8 and at most 4096 bytes).
 */
export function truncatedUtf8(text: string, maxBytes: number): Buffer {
  const encoded = Buffer.from(text, "utf8");
  if (encoded.length <= maxBytes) return encoded;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((encoded[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return encoded.subarray(0, end);
}

/** An export size must be a whole number of bytes that fits the wire and a number. */
export function exportSizeAssert(sizeBytes: number): void {
  assert.ok(Number.isSafeInteger(sizeBytes) && sizeBytes >= 0, `export size ${sizeBytes} is not a safe non-negative integer`);
}
