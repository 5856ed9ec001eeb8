/**
 * Which storage areas are free, and picking areas for new extents. An area is
 * used when any extent row of any volume maps it, as its area or as the
 * target of a migration mirror. Bitmaps per LU, not a set of objects: a
 * million areas cost a megabyte.
 */
import assert from "node:assert/strict";
import type { LogicalUnit__Output, StoreState__Output } from "@switchyard/proto";
import { ControllerError } from "./errors.js";

export interface AreaRef {
  readonly luIndex: number;
  readonly areaIndex: number;
}

export function areasTotal(lu: LogicalUnit__Output): number {
  assert.ok(lu.extent_size_bytes > 0);
  return Math.floor(lu.size_bytes / lu.extent_size_bytes);
}

/** One bitmap per LU index: 1 where an area is in use. */
export function usedAreaMaps(state: StoreState__Output): Map<number, Uint8Array> {
  const used = new Map<number, Uint8Array>();
  for (const lu of state.lus) used.set(lu.index, new Uint8Array(areasTotal(lu)));
  const mark = (luIndex: number, areaIndex: number): void => {
    const map = used.get(luIndex);
    assert.ok(map !== undefined, `an extent refers to unknown LU index ${luIndex}`);
    assert.ok(areaIndex < map.length, `area ${areaIndex} is past the end of LU index ${luIndex}`);
    assert.equal(map[areaIndex], 0, `area ${areaIndex} of LU index ${luIndex} is mapped twice`);
    map[areaIndex] = 1;
  };
  for (const volume of state.volumes) {
    const columns = volume.extents;
    if (columns === null) continue;
    columns.lu_index.forEach((luIndex, row) => {
      mark(luIndex, columns.area_index[row] ?? 0);
    });
    columns.mirror_lu_index_plus_one.forEach((plusOne, row) => {
      if (plusOne !== 0) mark(plusOne - 1, columns.mirror_area_index[row] ?? 0);
    });
  }
  return used;
}

export function freeAreaCount(used: Uint8Array): number {
  let free = 0;
  for (const bit of used) if (bit === 0) free += 1;
  return free;
}

/**
 * Picks `count` free areas: all on `onlyLu` when given, otherwise from the LU
 * with the most free areas first, then the others (like LVM's allocation
 * over physical volumes).
 */
export function allocateAreas(state: StoreState__Output, count: number, onlyLu?: LogicalUnit__Output): AreaRef[] {
  const used = usedAreaMaps(state);
  const candidates = onlyLu === undefined ? lusByFreeAreas(state, used) : [onlyLu];
  const picked: AreaRef[] = [];
  for (const lu of candidates) {
    const map = used.get(lu.index);
    assert.ok(map !== undefined);
    for (let area = 0; area < map.length && picked.length < count; area += 1) {
      if (map[area] === 0) picked.push({ luIndex: lu.index, areaIndex: area });
    }
  }
  if (picked.length < count) {
    const where = onlyLu === undefined ? "all LUs together have" : `LU ${onlyLu.id} has`;
    throw new ControllerError("NO_SPACE", `needs ${count} free areas but ${where} ${picked.length}`);
  }
  return picked;
}

/**
 * LUs to allocate from when none is named: the devices' own. An external
 * device gets extents only when asked by name (move, migrate), since new
 * areas are zeroed by the device that owns them and an external server has
 * no device to ask.
 */
function lusByFreeAreas(state: StoreState__Output, used: Map<number, Uint8Array>): LogicalUnit__Output[] {
  const free = (lu: LogicalUnit__Output): number => freeAreaCount(used.get(lu.index) ?? new Uint8Array());
  return state.lus.filter((lu) => !lu.external).sort((a, b) => free(b) - free(a) || a.index - b.index);
}
