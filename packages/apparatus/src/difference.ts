/**
 * The difference information table (claim 2) written into a face: only the
 * rows and volume shapes it names change, so the cost of a change grows with
 * the diff, not with the table. A diff is checked whole before anything is
 * written: a malformed one changes nothing.
 */
import { extentsPerVolumeMax, type DifferenceTable__Output, type VolumeShape__Output } from "@switchyard/proto";
import type { TableFace } from "./configuration-faces.js";
import { ApparatusError } from "./errors.js";
import { ExtentMap, noMirror } from "./extent-map.js";

function invalid(message: string): ApparatusError {
  return new ApparatusError("INVALID_DIFF", `malformed diff: ${message}`);
}

/** Extent counts of every volume once the diff's shapes are applied. */
function extentCountsAfter(face: TableFace, shapes: readonly VolumeShape__Output[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [name, map] of face.volumes) counts.set(name, map.extentCount);
  for (const shape of shapes) {
    if (shape.name === "") throw invalid("a volume shape without a name");
    if (shape.deleted) {
      if (!counts.has(shape.name)) throw invalid(`deletes volume ${shape.name}, which does not exist`);
      counts.delete(shape.name);
      continue;
    }
    checkShape(face, shape);
    counts.set(shape.name, shape.extent_count);
  }
  return counts;
}

function checkShape(face: TableFace, shape: VolumeShape__Output): void {
  const extentSize = shape.extent_size_bytes;
  if (!Number.isSafeInteger(extentSize) || extentSize <= 0 || (extentSize & (extentSize - 1)) !== 0) {
    throw invalid(`volume ${shape.name} has extent size ${extentSize}, not a power of two`);
  }
  if (!Number.isSafeInteger(shape.size_bytes) || shape.size_bytes <= 0) throw invalid(`volume ${shape.name} has size ${shape.size_bytes}`);
  if (shape.extent_count !== Math.ceil(shape.size_bytes / extentSize) || shape.extent_count > extentsPerVolumeMax) {
    throw invalid(`volume ${shape.name}: ${shape.extent_count} extents do not fit ${shape.size_bytes} bytes of ${extentSize}-byte extents`);
  }
  const existing = face.volumes.get(shape.name);
  if (existing !== undefined && existing.extentSizeBytes !== extentSize) {
    throw invalid(`volume ${shape.name} cannot change its extent size from ${existing.extentSizeBytes} to ${extentSize}`);
  }
}

/** Throws INVALID_DIFF unless `diff` can be written into `face` whole. */
export function checkDifference(face: TableFace, diff: DifferenceTable__Output): void {
  if (diff.generation !== diff.base_generation + 1) throw invalid(`generation ${diff.generation} does not follow base ${diff.base_generation}`);
  const lus = new Set(face.lus.keys());
  for (const lu of diff.lus_added) {
    if (lus.has(lu.index)) throw invalid(`adds LU index ${lu.index}, which exists`);
    lus.add(lu.index);
  }
  const counts = extentCountsAfter(face, diff.shapes);
  const seen = new Set<string>();
  for (const row of diff.rows) {
    const key = `${row.volume}\u0000${row.extent_index}`;
    if (seen.has(key)) throw invalid(`two rows for extent ${row.extent_index} of ${row.volume}`);
    seen.add(key);
    const count = counts.get(row.volume);
    if (count === undefined) throw invalid(`a row for volume ${row.volume}, which does not exist`);
    if (row.extent_index >= count) throw invalid(`extent ${row.extent_index} of ${row.volume} is past its ${count} extents`);
    if (!lus.has(row.lu_index)) throw invalid(`extent ${row.extent_index} of ${row.volume} maps to unknown LU index ${row.lu_index}`);
    if (row.mirror_lu_index_plus_one !== noMirror && !lus.has(row.mirror_lu_index_plus_one - 1)) {
      throw invalid(`extent ${row.extent_index} of ${row.volume} mirrors to unknown LU index ${row.mirror_lu_index_plus_one - 1}`);
    }
  }
  checkNewExtentsHaveRows(face, diff.shapes, seen);
}

/** A volume created or grown by the diff has a row for every new extent, or it would map to area 0 of LU 0. */
function checkNewExtentsHaveRows(face: TableFace, shapes: readonly VolumeShape__Output[], seen: ReadonlySet<string>): void {
  for (const shape of shapes) {
    if (shape.deleted) continue;
    const first = face.volumes.get(shape.name)?.extentCount ?? 0;
    for (let index = first; index < shape.extent_count; index += 1) {
      if (!seen.has(`${shape.name}\u0000${index}`)) throw invalid(`new extent ${index} of ${shape.name} has no row`);
    }
  }
}

/** Writes a checked diff into `face` (always a standby face). */
export function applyDifference(face: TableFace, diff: DifferenceTable__Output): void {
  for (const lu of diff.lus_added) face.lus.set(lu.index, lu);
  for (const shape of diff.shapes) {
    const existing = face.volumes.get(shape.name);
    if (shape.deleted) face.volumes.delete(shape.name);
    else if (existing === undefined) face.volumes.set(shape.name, new ExtentMap(shape.name, shape.size_bytes, shape.extent_size_bytes));
    else face.volumes.set(shape.name, existing.resized(shape.size_bytes));
  }
  for (const row of diff.rows) {
    const map = face.volumes.get(row.volume);
    if (map === undefined) throw new Error(`checked diff names missing volume ${row.volume}`);
    map.luIndex[row.extent_index] = row.lu_index;
    map.areaIndex[row.extent_index] = row.area_index;
    map.mirrorLuIndexPlusOne[row.extent_index] = row.mirror_lu_index_plus_one;
    map.mirrorAreaIndex[row.extent_index] = row.mirror_area_index;
    map.mirrorWatermarkBytes[row.extent_index] = row.mirror_watermark_bytes;
  }
  face.generation = diff.generation;
}
