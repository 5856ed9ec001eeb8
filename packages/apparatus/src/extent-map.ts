/**
 * The extent map of one virtual volume, as columns of typed arrays (struct of
 * arrays): row i says which storage area backs virtual extent i. A million
 * extents cost 24 bytes each, about 24 MB per face, and no object per extent.
 */
import assert from "node:assert/strict";
import { extentsPerVolumeMax, type ExtentColumns, type VolumeTable, type VolumeTable__Output } from "@switchyard/proto";

/** Marks "no mirror" in the mirror LU column, whose values are LU index + 1. */
export const noMirror = 0;

export class ExtentMap {
  readonly name: string;
  readonly sizeBytes: number;
  readonly extentSizeBytes: number;
  readonly extentCount: number;
  readonly luIndex: Uint32Array;
  readonly areaIndex: Uint32Array;
  readonly mirrorLuIndexPlusOne: Uint32Array;
  readonly mirrorAreaIndex: Uint32Array;
  readonly mirrorWatermarkBytes: Float64Array;

  constructor(name: string, sizeBytes: number, extentSizeBytes: number) {
    assert.ok(name.length > 0);
    assert.ok(Number.isSafeInteger(sizeBytes) && sizeBytes > 0);
    assert.ok(Number.isSafeInteger(extentSizeBytes) && extentSizeBytes > 0);
    // Power of two: the I/O path finds an extent by division and the
    // offset inside it by remainder, both exact.
    assert.equal(extentSizeBytes & (extentSizeBytes - 1), 0);
    this.name = name;
    this.sizeBytes = sizeBytes;
    this.extentSizeBytes = extentSizeBytes;
    this.extentCount = Math.ceil(sizeBytes / extentSizeBytes);
    assert.ok(this.extentCount <= extentsPerVolumeMax);
    this.luIndex = new Uint32Array(this.extentCount);
    this.areaIndex = new Uint32Array(this.extentCount);
    this.mirrorLuIndexPlusOne = new Uint32Array(this.extentCount);
    this.mirrorAreaIndex = new Uint32Array(this.extentCount);
    this.mirrorWatermarkBytes = new Float64Array(this.extentCount);
  }

  static fromTable(table: VolumeTable__Output): ExtentMap {
    const map = new ExtentMap(table.name, table.size_bytes, table.extent_size_bytes);
    const columns = table.extents;
    assert.ok(columns !== null, `volume ${table.name} has no extent columns`);
    assert.equal(columns.lu_index.length, map.extentCount);
    assert.equal(columns.area_index.length, map.extentCount);
    map.luIndex.set(columns.lu_index);
    map.areaIndex.set(columns.area_index);
    copyOptionalColumn(map.mirrorLuIndexPlusOne, columns.mirror_lu_index_plus_one);
    copyOptionalColumn(map.mirrorAreaIndex, columns.mirror_area_index);
    copyOptionalColumn(map.mirrorWatermarkBytes, columns.mirror_watermark_bytes);
    return map;
  }

  toTable(): VolumeTable {
    const extents: ExtentColumns = {
      lu_index: Array.from(this.luIndex),
      area_index: Array.from(this.areaIndex),
    };
    if (this.mirrorLuIndexPlusOne.some((value) => value !== noMirror)) {
      extents.mirror_lu_index_plus_one = Array.from(this.mirrorLuIndexPlusOne);
      extents.mirror_area_index = Array.from(this.mirrorAreaIndex);
      extents.mirror_watermark_bytes = Array.from(this.mirrorWatermarkBytes);
    }
    return { name: this.name, size_bytes: this.sizeBytes, extent_size_bytes: this.extentSizeBytes, extents };
  }

  /** A copy of this map, resized to `sizeBytes`: rows kept up to the new count, new rows zero. */
  resized(sizeBytes: number): ExtentMap {
    const copy = new ExtentMap(this.name, sizeBytes, this.extentSizeBytes);
    const kept = Math.min(copy.extentCount, this.extentCount);
    copy.luIndex.set(this.luIndex.subarray(0, kept));
    copy.areaIndex.set(this.areaIndex.subarray(0, kept));
    copy.mirrorLuIndexPlusOne.set(this.mirrorLuIndexPlusOne.subarray(0, kept));
    copy.mirrorAreaIndex.set(this.mirrorAreaIndex.subarray(0, kept));
    copy.mirrorWatermarkBytes.set(this.mirrorWatermarkBytes.subarray(0, kept));
    return copy;
  }

  clone(): ExtentMap {
    return this.resized(this.sizeBytes);
  }

  /** Copies row `index` of `source` into the same row of this map. */
  copyRow(source: ExtentMap, index: number): void {
    assert.ok(index < this.extentCount && index < source.extentCount);
    this.luIndex[index] = source.luIndex[index] ?? 0;
    this.areaIndex[index] = source.areaIndex[index] ?? 0;
    this.mirrorLuIndexPlusOne[index] = source.mirrorLuIndexPlusOne[index] ?? noMirror;
    this.mirrorAreaIndex[index] = source.mirrorAreaIndex[index] ?? 0;
    this.mirrorWatermarkBytes[index] = source.mirrorWatermarkBytes[index] ?? 0;
  }
}

function copyOptionalColumn(target: Uint32Array | Float64Array, values: readonly number[]): void {
  if (values.length === 0) return;
  assert.equal(values.length, target.length, "a mirror column must cover every extent");
  target.set(values);
}
