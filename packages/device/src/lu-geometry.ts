/**
 * The sizes an LU and its areas may have: limits with their reasons, and
 * the checks that refuse anything else with a typed error.
 */
import assert from "node:assert/strict";
import { InvalidArgumentError } from "./errors.js";

/** A storage area is at least 1 MiB: smaller ones make extent maps too long. */
export const extentSizeMinBytes = 1 << 20;
/** At most 1 GiB: a migration copies one area at a time, and must finish in minutes. */
export const extentSizeMaxBytes = 1 << 30;
export const extentSizeDefaultBytes = 4 << 20;
/**
 * 16 TiB, the largest file ext4 holds with 4 KiB blocks. It keeps byte
 * offsets far below 2^53, area indexes inside uint32, and a bitmap of used
 * areas (inventory) at most 2 MiB.
 */
export const luSizeMaxBytes = 2 ** 44;
assert.ok(extentSizeMinBytes <= extentSizeDefaultBytes && extentSizeDefaultBytes <= extentSizeMaxBytes);
assert.ok(luSizeMaxBytes / extentSizeMinBytes <= 2 ** 32, "area indexes must fit uint32");
assert.ok(Number.isSafeInteger(luSizeMaxBytes + extentSizeMaxBytes));

/** Throws a typed error unless `extentSizeBytes` is a power of two within the limits. */
export function validateExtentSize(extentSizeBytes: number): void {
  const powerOfTwo = Number.isSafeInteger(extentSizeBytes) && extentSizeBytes > 0 &&
    2 ** Math.round(Math.log2(extentSizeBytes)) === extentSizeBytes;
  if (!powerOfTwo || extentSizeBytes < extentSizeMinBytes || extentSizeBytes > extentSizeMaxBytes) {
    throw new InvalidArgumentError(
      `extent size ${extentSizeBytes} bytes must be a power of two from ${extentSizeMinBytes} to ${extentSizeMaxBytes}`,
    );
  }
}

/** Throws a typed error unless `sizeBytes` is a positive whole number of areas within the limit. */
export function validateLuSize(sizeBytes: number, extentSizeBytes: number): void {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes > luSizeMaxBytes ||
    sizeBytes % extentSizeBytes !== 0) {
    throw new InvalidArgumentError(
      `LU size ${sizeBytes} bytes must be a positive multiple of the extent size ${extentSizeBytes}, at most ${luSizeMaxBytes}`,
    );
  }
}

/** Throws a typed error unless both sizes are valid for an LU. */
export function validateLuOptions(options: { readonly sizeBytes: number; readonly extentSizeBytes: number }): void {
  validateExtentSize(options.extentSizeBytes);
  validateLuSize(options.sizeBytes, options.extentSizeBytes);
}
