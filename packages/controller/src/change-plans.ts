/**
 * Turning a console request into a change: the difference table, the byte
 * ranges to hold (claim 4: only what is remapped), the copy to make first
 * (claim 5) and the volumes as the store keeps them after the commit. Pure:
 * the store state in, a plan out; every check happens here, before anything
 * is held.
 */
import assert from "node:assert/strict";
import type { DifferenceTable, ExtentRow, HoldMode, StoreState__Output, VolumeRange, VolumeTable, VolumeTable__Output } from "@switchyard/proto";
import { allocateAreas, type AreaRef } from "./allocation.js";
import { ControllerError } from "./errors.js";
import { checkVolumeSize } from "./volumes.js";

export interface CopyStep {
  readonly sourceLuId: string;
  readonly sourceAreaIndex: number;
  readonly destinationLuId: string;
  readonly destinationAreaIndex: number;
  readonly lengthBytes: number;
}

export interface ChangePlan {
  readonly kind: "move" | "resize";
  readonly summary: string;
  readonly baseGeneration: number;
  readonly diff: DifferenceTable;
  readonly holdRanges: readonly VolumeRange[];
  readonly holdMode: HoldMode;
  readonly copy: CopyStep | undefined;
  /** Areas the change gives to a volume and nothing else fills: zeroed before anything is held. */
  readonly newAreas: readonly AreaRef[];
  /** The store's volumes once the change commits. */
  readonly volumesAfter: readonly VolumeTable[];
}

function findVolume(state: StoreState__Output, name: string): VolumeTable__Output {
  const volume = state.volumes.find((candidate) => candidate.name === name);
  if (volume === undefined) throw new ControllerError("NOT_FOUND", `no volume ${name}`);
  return volume;
}

function luIdOf(state: StoreState__Output, luIndex: number): string {
  const lu = state.lus.find((candidate) => candidate.index === luIndex);
  assert.ok(lu !== undefined, `LU index ${luIndex} is not in the store`);
  return lu.id;
}

function row(volume: string, extentIndex: number, area: AreaRef): ExtentRow {
  return { volume, extent_index: extentIndex, lu_index: area.luIndex, area_index: area.areaIndex };
}

/**
 * The store's copy of `volume` at `sizeBytes`: its first rows kept (as many
 * as both sizes have), then `rows` written in by extent index.
 */
function volumeAfter(volume: VolumeTable__Output, sizeBytes: number, extentCount: number, rows: readonly ExtentRow[]): VolumeTable {
  const columns = volume.extents;
  assert.ok(columns !== null);
  const luIndex = Array.from({ length: extentCount }, (_, index) => columns.lu_index[index] ?? 0);
  const areaIndex = Array.from({ length: extentCount }, (_, index) => columns.area_index[index] ?? 0);
  const written = new Set<number>();
  for (const changed of rows) {
    const index = changed.extent_index ?? 0;
    luIndex[index] = changed.lu_index ?? 0;
    areaIndex[index] = changed.area_index ?? 0;
    written.add(index);
  }
  for (let index = columns.lu_index.length; index < extentCount; index += 1) assert.ok(written.has(index), `new extent ${index} has no row`);
  return { name: volume.name, size_bytes: sizeBytes, extent_size_bytes: volume.extent_size_bytes, extents: { lu_index: luIndex, area_index: areaIndex } };
}

function replaceVolume(state: StoreState__Output, next: VolumeTable): VolumeTable[] {
  return state.volumes.map((volume) => (volume.name === next.name ? next : volume));
}

/** `volume move NAME --extent I --to LU`: copy extent I to a free area of LU under a write hold, then switch. */
export function planMove(state: StoreState__Output, name: string, extentIndex: number, toLuId: string): ChangePlan {
  const volume = findVolume(state, name);
  const columns = volume.extents;
  assert.ok(columns !== null);
  const extentCount = columns.lu_index.length;
  if (!Number.isInteger(extentIndex) || extentIndex < 0 || extentIndex >= extentCount) {
    throw new ControllerError("OUT_OF_RANGE", `volume ${name} has extents 0 to ${extentCount - 1}, not ${extentIndex}`);
  }
  const target = state.lus.find((lu) => lu.id === toLuId);
  if (target === undefined) throw new ControllerError("NOT_FOUND", `no LU ${toLuId}; LUs are ${state.lus.map((lu) => lu.id).join(", ")}`);
  const sourceLu = columns.lu_index[extentIndex] ?? 0;
  const sourceArea = columns.area_index[extentIndex] ?? 0;
  if (sourceLu === target.index) {
    throw new ControllerError("FAILED_PRECONDITION", `extent ${extentIndex} of ${name} is already on ${toLuId} (area ${sourceArea})`);
  }
  if (target.extent_size_bytes !== volume.extent_size_bytes) {
    throw new ControllerError("FAILED_PRECONDITION", `${toLuId} has ${target.extent_size_bytes}-byte areas; ${name} has ${volume.extent_size_bytes}-byte extents`);
  }
  const [destination] = allocateAreas(state, 1, target);
  assert.ok(destination !== undefined);
  const extentSize = volume.extent_size_bytes;
  const rows = [row(name, extentIndex, destination)];
  return {
    kind: "move",
    summary: `move extent ${extentIndex} of ${name} from ${luIdOf(state, sourceLu)}:${sourceArea} to ${toLuId}:${destination.areaIndex}`,
    baseGeneration: state.generation,
    diff: { base_generation: state.generation, generation: state.generation + 1, rows },
    holdRanges: [{ volume: name, offset_bytes: extentIndex * extentSize, length_bytes: Math.min(extentSize, volume.size_bytes - extentIndex * extentSize) }],
    // Reads go on during the copy: the source stays valid until the switch.
    holdMode: "HOLD_MODE_WRITES",
    copy: { sourceLuId: luIdOf(state, sourceLu), sourceAreaIndex: sourceArea, destinationLuId: toLuId, destinationAreaIndex: destination.areaIndex, lengthBytes: extentSize },
    // The copy writes the whole destination area: zeroing it first would be work thrown away.
    newAreas: [],
    volumesAfter: replaceVolume(state, volumeAfter(volume, volume.size_bytes, extentCount, rows)),
  };
}

/**
 * Brings a table to the generation after a committed move, in place, as the
 * store does with the move's diff: each row maps one extent to its new area.
 * A move's rows carry no mirror, and the extent map's columns stay as long.
 */
export function applyMoveRows(state: StoreState__Output, diff: DifferenceTable): void {
  assert.equal(diff.base_generation, state.generation, "a move's diff applies to the generation it was planned from");
  assert.ok((diff.shapes ?? []).length === 0 && (diff.lus_added ?? []).length === 0, "a move changes no volume shape and adds no LU");
  for (const changed of diff.rows ?? []) {
    const columns = state.volumes.find((volume) => volume.name === changed.volume)?.extents;
    const index = changed.extent_index ?? -1;
    assert.ok(columns != null && index >= 0 && index < columns.lu_index.length, `a move's row names extent ${index} of ${changed.volume ?? ""}`);
    assert.ok((changed.mirror_lu_index_plus_one ?? 0) === 0, "a move's row carries no mirror");
    columns.lu_index[index] = changed.lu_index ?? 0;
    columns.area_index[index] = changed.area_index ?? 0;
  }
  assert.equal(diff.generation, state.generation + 1);
  state.generation += 1;
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
    copy: undefined,
    newAreas,
    volumesAfter: replaceVolume(state, volumeAfter(volume, sizeBytes, extentCount, rows)),
  };
}
