/**
 * Turning a console request into a change: the difference table, the byte
 * ranges to hold (claim 4: only what is remapped), the areas to zero first,
 * and the volumes as the store keeps them after the commit. No plan copies:
 * extents move in mirror state (claim 5, migration.ts). Pure:
 * the store state in, a plan out; every check happens here, before anything
 * is held.
 */
import assert from "node:assert/strict";
import type { DifferenceTable, ExtentRow, HoldMode, StoreState__Output, VolumeRange, VolumeTable, VolumeTable__Output } from "@switchyard/proto";
import { allocateAreas, keepMapsThrough, type AreaRef } from "./allocation.js";
import { ControllerError } from "./errors.js";
import { checkVolumeSize } from "./volumes.js";

export interface ChangePlan {
  readonly kind: "resize" | "mirror" | "switch" | "unmirror";
  readonly summary: string;
  readonly baseGeneration: number;
  readonly diff: DifferenceTable;
  readonly holdRanges: readonly VolumeRange[];
  readonly holdMode: HoldMode;
  /** Areas the change gives to a volume and nothing else fills: zeroed before anything is held. */
  readonly newAreas: readonly AreaRef[];
  /**
   * The store's volumes once the change commits, copied whole when asked:
   * the controller commits the diff and never asks (a copy per move cost a
   * million-extent volume tens of milliseconds and its garbage); a model of
   * the store does (tools/simulator). Ask before the state planned from changes.
   */
  readonly volumesAfter: () => readonly VolumeTable[];
}

function findVolume(state: StoreState__Output, name: string): VolumeTable__Output {
  const volume = state.volumes.find((candidate) => candidate.name === name);
  if (volume === undefined) throw new ControllerError("NOT_FOUND", `no volume ${name}`);
  return volume;
}

function row(volume: string, extentIndex: number, area: AreaRef): ExtentRow {
  return { volume, extent_index: extentIndex, lu_index: area.luIndex, area_index: area.areaIndex };
}

/**
 * The store's copy of `volume` at `sizeBytes`: its first rows kept (as many
 * as both sizes have), then `rows` written in by extent index, each with its
 * area and its mirror (none when the row names none).
 */
function volumeAfter(volume: VolumeTable__Output, sizeBytes: number, extentCount: number, rows: readonly ExtentRow[]): VolumeTable {
  const columns = volume.extents;
  assert.ok(columns !== null);
  const kept = (column: readonly number[]): number[] => Array.from({ length: extentCount }, (_, index) => column[index] ?? 0);
  const after = {
    lu_index: kept(columns.lu_index), area_index: kept(columns.area_index),
    mirror_lu_index_plus_one: kept(columns.mirror_lu_index_plus_one), mirror_area_index: kept(columns.mirror_area_index), mirror_watermark_bytes: kept(columns.mirror_watermark_bytes),
  };
  const written = new Set<number>();
  for (const changed of rows) {
    const index = changed.extent_index ?? 0;
    after.lu_index[index] = changed.lu_index ?? 0;
    after.area_index[index] = changed.area_index ?? 0;
    after.mirror_lu_index_plus_one[index] = changed.mirror_lu_index_plus_one ?? 0;
    after.mirror_area_index[index] = changed.mirror_area_index ?? 0;
    after.mirror_watermark_bytes[index] = Number(changed.mirror_watermark_bytes ?? 0);
    written.add(index);
  }
  for (let index = columns.lu_index.length; index < extentCount; index += 1) assert.ok(written.has(index), `new extent ${index} has no row`);
  return { name: volume.name, size_bytes: sizeBytes, extent_size_bytes: volume.extent_size_bytes, extents: after };
}

function replaceVolume(state: StoreState__Output, next: VolumeTable): VolumeTable[] {
  return state.volumes.map((volume) => (volume.name === next.name ? next : volume));
}

/**
 * Brings a table to the generation after a committed move, mirror, switch or
 * unmirror, in place, as the store does with the diff (store-delta.ts): each
 * row maps one extent to its area and mirror; the extent count stays.
 */
export function applyExtentRows(state: StoreState__Output, diff: DifferenceTable): void {
  assert.equal(diff.base_generation, state.generation, "a diff applies to the generation it was planned from");
  assert.ok((diff.shapes ?? []).length === 0 && (diff.lus_added ?? []).length === 0, "rows only: no volume shape, no LU added");
  keepMapsThrough(state, diff.rows ?? [], () => {
    for (const changed of diff.rows ?? []) applyExtentRow(state, changed);
    assert.equal(diff.generation, state.generation + 1);
    state.generation += 1;
  });
}

function applyExtentRow(state: StoreState__Output, changed: ExtentRow): void {
  const columns = state.volumes.find((volume) => volume.name === changed.volume)?.extents;
  const index = changed.extent_index ?? -1;
  assert.ok(columns != null && index >= 0 && index < columns.lu_index.length, `a row names extent ${index} of ${changed.volume ?? ""}`);
  columns.lu_index[index] = changed.lu_index ?? 0;
  columns.area_index[index] = changed.area_index ?? 0;
  const mirrorLuPlusOne = changed.mirror_lu_index_plus_one ?? 0;
  // Mirror columns stay empty until a row of the volume has a mirror, as the store keeps them.
  if (mirrorLuPlusOne === 0 && columns.mirror_lu_index_plus_one.length === 0) return;
  const count = columns.lu_index.length;
  for (const column of [columns.mirror_lu_index_plus_one, columns.mirror_area_index, columns.mirror_watermark_bytes]) {
    while (column.length < count) column.push(0);
  }
  columns.mirror_lu_index_plus_one[index] = mirrorLuPlusOne;
  columns.mirror_area_index[index] = changed.mirror_area_index ?? 0;
  columns.mirror_watermark_bytes[index] = Number(changed.mirror_watermark_bytes ?? 0);
}

/** `volume resize NAME --size SIZE`: grow onto new areas, or shrink and free the tail's areas. */
export function planResize(state: StoreState__Output, name: string, sizeBytes: number): ChangePlan {
  const volume = findVolume(state, name);
  if (sizeBytes === volume.size_bytes) throw new ControllerError("INVALID_ARGUMENT", `volume ${name} is already ${sizeBytes} bytes`);
  const extentSize = volume.extent_size_bytes;
  const extentCount = checkVolumeSize(sizeBytes, extentSize);
  const oldCount = volume.extents?.lu_index.length ?? 0;
  const newAreas = extentCount > oldCount ? allocateAreas(state, extentCount - oldCount) : [];
  const rows = newAreas.map((area, offset) => row(name, oldCount + offset, area));
  // Everything from the smaller end on is held: I/O there is about to appear or vanish.
  const heldFromBytes = Math.min(sizeBytes, volume.size_bytes);
  return {
    kind: "resize",
    summary: `resize ${name} from ${volume.size_bytes} to ${sizeBytes} bytes (${oldCount} to ${extentCount} extents)`,
    baseGeneration: state.generation,
    diff: {
      base_generation: state.generation,
      generation: state.generation + 1,
      shapes: [{ name, size_bytes: sizeBytes, extent_size_bytes: extentSize, extent_count: extentCount, deleted: false }],
      rows,
    },
    holdRanges: [{ volume: name, offset_bytes: heldFromBytes, length_bytes: 0 }],
    holdMode: "HOLD_MODE_ALL",
    newAreas,
    volumesAfter: () => replaceVolume(state, volumeAfter(volume, sizeBytes, extentCount, rows)),
  };
}

/** Write holds on each of `extents` of `volume`, contiguous ones merged. */
function extentRanges(volume: VolumeTable__Output, extents: readonly number[]): VolumeRange[] {
  const size = volume.extent_size_bytes;
  const ranges: VolumeRange[] = [];
  for (const extent of [...extents].sort((a, b) => a - b)) {
    const start = extent * size;
    const length = Math.min(size, volume.size_bytes - start);
    const last = ranges.at(-1);
    if (last !== undefined && Number(last.offset_bytes) + Number(last.length_bytes) === start) last.length_bytes = Number(last.length_bytes) + length;
    else ranges.push({ volume: volume.name, offset_bytes: start, length_bytes: length });
  }
  return ranges;
}

/**
 * A plan of migration rows of one volume: writes to those extents held while
 * every apparatus switches. Reads too when an extent's source is an external
 * device's: putting it in mirror state or taking it out sends its reads to
 * another place (io-path.ts), and a read already on its way to the old one
 * must end first. Nothing is held when every area of the rows, before and
 * after, is one Switchyard device's (HOLD_MODE_NONE): that device's mirror
 * takes the I/O of both areas as one until the commit that ends it, and
 * putting an extent into mirror state or out of it sends no apparatus's I/O
 * anywhere new.
 */
function migrationPlan(state: StoreState__Output, volume: VolumeTable__Output, kind: "mirror" | "switch" | "unmirror", summary: string, rows: readonly ExtentRow[]): ChangePlan {
  const columns = volume.extents;
  assert.ok(columns !== null);
  const external = new Set(state.lus.filter((lu) => lu.external).map((lu) => lu.index));
  const reroutesReads = kind !== "switch" && rows.some((changed) => external.has(changed.lu_index ?? 0));
  const withinOneDevice = rows.every((changed) => {
    const extent = changed.extent_index ?? 0;
    const before = [columns.lu_index[extent] ?? 0, (columns.mirror_lu_index_plus_one[extent] ?? 0) - 1];
    const after = [changed.lu_index ?? 0, (changed.mirror_lu_index_plus_one ?? 0) - 1];
    return onOneOwnDevice(state, [...before, ...after].filter((luIndex) => luIndex >= 0));
  });
  return {
    kind,
    summary,
    baseGeneration: state.generation,
    diff: { base_generation: state.generation, generation: state.generation + 1, rows: [...rows] },
    holdRanges: extentRanges(volume, rows.map((changed) => changed.extent_index ?? 0)),
    holdMode: withinOneDevice ? "HOLD_MODE_NONE" : reroutesReads ? "HOLD_MODE_ALL" : "HOLD_MODE_WRITES",
    newAreas: [],
    volumesAfter: () => replaceVolume(state, volumeAfter(volume, volume.size_bytes, columns.lu_index.length, rows)),
  };
}

/** True when every one of `luIndexes` names an LU of one Switchyard device (none an external NBD server's). */
function onOneOwnDevice(state: StoreState__Output, luIndexes: readonly number[]): boolean {
  const lus = luIndexes.map((luIndex) => state.lus.find((candidate) => candidate.index === luIndex));
  const deviceId = lus[0]?.device_id;
  return lus.every((lu) => lu !== undefined && !lu.external && lu.device_id === deviceId);
}

/**
 * A migration's first change for `extents` (DESIGN.md "Online migration"):
 * each into mirror state from its area to a free area of the target, which
 * the table's mirror columns then reserve. The device mirrors and copies.
 */
export function planMirror(state: StoreState__Output, name: string, extents: readonly number[], toLuId: string): ChangePlan {
  const volume = findVolume(state, name);
  const columns = volume.extents;
  assert.ok(columns !== null && extents.length > 0);
  const target = state.lus.find((lu) => lu.id === toLuId);
  if (target === undefined) throw new ControllerError("NOT_FOUND", `no LU ${toLuId}; LUs are ${state.lus.map((lu) => lu.id).join(", ")}`);
  const destinations = allocateAreas(state, extents.length, target);
  const rows = extents.map((extent, at) => {
    if ((columns.mirror_lu_index_plus_one[extent] ?? 0) !== 0) throw new ControllerError("FAILED_PRECONDITION", `extent ${extent} of ${name} is being mirrored already`);
    const destination = destinations[at];
    assert.ok(destination !== undefined);
    return {
      volume: name, extent_index: extent, lu_index: columns.lu_index[extent] ?? 0, area_index: columns.area_index[extent] ?? 0,
      mirror_lu_index_plus_one: destination.luIndex + 1, mirror_area_index: destination.areaIndex, mirror_watermark_bytes: 0,
    };
  });
  return migrationPlan(state, volume, "mirror", `mirror ${extents.length} extent${extents.length === 1 ? "" : "s"} of ${name} to ${toLuId}`, rows);
}

/** Each of `extents` from mirror state onto its destination (switch) or back to its source alone (unmirror). */
export function planMirrorEnd(state: StoreState__Output, name: string, extents: readonly number[], outcome: "switch" | "unmirror"): ChangePlan {
  const volume = findVolume(state, name);
  const columns = volume.extents;
  assert.ok(columns !== null && extents.length > 0);
  const rows = extents.map((extent) => {
    const mirrorLuPlusOne = columns.mirror_lu_index_plus_one[extent] ?? 0;
    if (mirrorLuPlusOne === 0) throw new ControllerError("FAILED_PRECONDITION", `extent ${extent} of ${name} is not in mirror state`);
    const onDestination = outcome === "switch";
    return {
      volume: name, extent_index: extent,
      lu_index: onDestination ? mirrorLuPlusOne - 1 : columns.lu_index[extent] ?? 0,
      area_index: onDestination ? columns.mirror_area_index[extent] ?? 0 : columns.area_index[extent] ?? 0,
      mirror_lu_index_plus_one: 0, mirror_area_index: 0, mirror_watermark_bytes: 0,
    };
  });
  const what = outcome === "switch" ? "switch" : "end the mirror of";
  return migrationPlan(state, volume, outcome, `${what} ${extents.length} extent${extents.length === 1 ? "" : "s"} of ${name}`, rows);
}
