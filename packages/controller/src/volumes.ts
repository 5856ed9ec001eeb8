/** Volume names, sizes and their table rows: the checks every volume request passes first. */
import assert from "node:assert/strict";
import { extentsPerVolumeMax, type LogicalUnit__Output, type VolumeInfo, type VolumeTable, type VolumeTable__Output } from "@switchyard/proto";
import type { AreaRef } from "./allocation.js";
import { ControllerError } from "./errors.js";

/** Names are NBD export names and file-system-safe words. */
const volumeNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Volume sizes are whole sectors: NBD clients and qemu address 512-byte blocks. */
export const volumeSizeAlignmentBytes = 512;

export function checkVolumeName(name: string): void {
  if (!volumeNamePattern.test(name)) {
    throw new ControllerError(
      "INVALID_ARGUMENT",
      `volume name ${JSON.stringify(name)} must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
}

/** Returns the number of extents a volume of `sizeBytes` needs. */
export function checkVolumeSize(sizeBytes: number, extentSizeBytes: number): number {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
    throw new ControllerError("INVALID_ARGUMENT", `volume size must be a positive number of bytes, not ${sizeBytes}`);
  }
  if (sizeBytes % volumeSizeAlignmentBytes !== 0) {
    throw new ControllerError("INVALID_ARGUMENT", `volume size ${sizeBytes} is not a multiple of ${volumeSizeAlignmentBytes} bytes`);
  }
  const extentCount = Math.ceil(sizeBytes / extentSizeBytes);
  if (extentCount > extentsPerVolumeMax) {
    throw new ControllerError("LIMIT", `a volume may have at most ${extentsPerVolumeMax} extents; ${sizeBytes} bytes needs ${extentCount}`);
  }
  return extentCount;
}

export function volumeTable(name: string, sizeBytes: number, extentSizeBytes: number, areas: readonly AreaRef[]): VolumeTable {
  assert.equal(areas.length, Math.ceil(sizeBytes / extentSizeBytes));
  return {
    name,
    size_bytes: sizeBytes,
    extent_size_bytes: extentSizeBytes,
    extents: { lu_index: areas.map((area) => area.luIndex), area_index: areas.map((area) => area.areaIndex) },
  };
}

export function volumeInfo(volume: VolumeTable | VolumeTable__Output, lus: readonly LogicalUnit__Output[]): VolumeInfo {
  const luIds = new Map(lus.map((lu) => [lu.index, lu.id]));
  const luIndexes = volume.extents?.lu_index ?? [];
  const areaIndexes = volume.extents?.area_index ?? [];
  return {
    name: volume.name ?? "",
    size_bytes: Number(volume.size_bytes),
    extent_size_bytes: Number(volume.extent_size_bytes),
    extents: luIndexes.map((luIndex, index) => ({ index, lu: luIds.get(luIndex) ?? `#${luIndex}`, area: areaIndexes[index] ?? 0 })),
  };
}
