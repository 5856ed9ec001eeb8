/**
 * Which storage areas are free, and picking areas for new extents. An area is
 * used when any extent row of any volume maps it, as its area or as the
 * target of a migration mirror. Bitmaps per LU, not a set of objects: a
 * million areas cost a megabyte.
 */
import assert from "node:assert/strict";
import type { ExtentRow, LogicalUnit__Output, StoreState__Output } from "@switchyard/proto";
import { ControllerError } from "./errors.js";

export interface AreaRef {
  readonly luIndex: number;
  readonly areaIndex: number;
}

export function areasTotal(lu: LogicalUnit__Output): number {
  assert.ok(lu.extent_size_bytes > 0);
  return Math.floor(lu.size_bytes / lu.extent_size_bytes);
}

/**
 * The maps of each table, kept with it while its generation stays: the
 * controller keeps one table per epoch and changes it in place move by move
 * (applyExtentRows, through keepMapsThrough), and rebuilding the maps from
 * every extent for each move cost about 60 ms, and as much again in garbage
 * collection, at a million extents (pnpm bench:change).
 */
const mapsByTable = new WeakMap<StoreState__Output, { generation: number; readonly maps: Map<number, Uint8Array> }>();

/** One bitmap per LU index: 1 where an area is in use. Shared with later calls for the same table: read, never change. */
export function usedAreaMaps(state: StoreState__Output): ReadonlyMap<number, Uint8Array> {
  const kept = mapsByTable.get(state);
  if (kept !== undefined && kept.generation === state.generation) return kept.maps;
  const maps = buildUsedAreaMaps(state);
  mapsByTable.set(state, { generation: state.generation, maps });
  return maps;
}

/**
 * Runs `apply`, which rewrites the extents `rows` name in `state` and moves
 * it to the next generation, and brings the table's kept maps along: the
 * areas those extents used before are freed, then the ones they use after
 * are marked, so an area passed from one row to another stays used.
 */
export function keepMapsThrough(state: StoreState__Output, rows: readonly ExtentRow[], apply: () => void): void {
  const kept = mapsByTable.get(state);
  const current = kept !== undefined && kept.generation === state.generation ? kept : undefined;
  const before = current === undefined ? [] : rows.flatMap((row) => areasOfExtent(state, row));
  apply();
  if (current === undefined) return;
  for (const area of before) setUsed(current.maps, area, 0);
  for (const area of rows.flatMap((row) => areasOfExtent(state, row))) {
    assert.equal(current.maps.get(area.luIndex)?.[area.areaIndex], 0, `area ${area.areaIndex} of LU index ${area.luIndex} is mapped twice`);
    setUsed(current.maps, area, 1);
  }
  current.generation = state.generation;
}

/** The area an extent maps and, in mirror state, its mirror's. */
function areasOfExtent(state: StoreState__Output, row: ExtentRow): AreaRef[] {
  const columns = state.volumes.find((volume) => volume.name === row.volume)?.extents;
  const index = row.extent_index ?? -1;
  assert.ok(columns != null && index >= 0 && index < columns.lu_index.length, `a row names extent ${index} of ${row.volume ?? ""}`);
  const areas = [{ luIndex: columns.lu_index[index] ?? 0, areaIndex: columns.area_index[index] ?? 0 }];
  const mirrorPlusOne = columns.mirror_lu_index_plus_one[index] ?? 0;
  if (mirrorPlusOne !== 0) areas.push({ luIndex: mirrorPlusOne - 1, areaIndex: columns.mirror_area_index[index] ?? 0 });
  return areas;
}

function setUsed(maps: Map<number, Uint8Array>, area: AreaRef, value: 0 | 1): void {
  const map = maps.get(area.luIndex);
  assert.ok(map !== undefined && area.areaIndex < map.length, `area ${area.areaIndex} of LU index ${area.luIndex} is not in the table`);
  map[area.areaIndex] = value;
}

function buildUsedAreaMaps(state: StoreState__Output): Map<number, Uint8Array> {
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
function lusByFreeAreas(state: StoreState__Output, used: ReadonlyMap<number, Uint8Array>): LogicalUnit__Output[] {
  const free = (lu: LogicalUnit__Output): number => freeAreaCount(used.get(lu.index) ?? new Uint8Array());
  return state.lus.filter((lu) => !lu.external).sort((a, b) => free(b) - free(a) || a.index - b.index);
}
