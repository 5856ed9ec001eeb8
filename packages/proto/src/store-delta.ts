/**
 * Folding a StoreDelta into the configuration store's state, in place: the
 * diff's rows and shapes, and the change's journal entry. Its cost is the
 * diff's (claim 2), except for a resize, which copies the resized volume's
 * columns once. A delta is checked whole before anything is written: a bad
 * one changes nothing.
 *
 * It lives here, beside the store's codec, because every store folds deltas
 * the same way: the device's (configuration-store.ts, on append and on
 * replay of its log), the etcd coordination's (read, fold, Txn) and the
 * simulator's. One applier, so that a commit means the same table whichever
 * store took it. Errors are StoreDeltaError with a stable code; each store
 * maps them to its own at its edge.
 */
import type { DifferenceTable__Output } from "./gen/switchyard/v1/DifferenceTable.js";
import type { ExtentColumns__Output } from "./gen/switchyard/v1/ExtentColumns.js";
import type { JournalEntry__Output } from "./gen/switchyard/v1/JournalEntry.js";
import type { StoreDelta__Output } from "./gen/switchyard/v1/StoreDelta.js";
import type { StoreState__Output } from "./gen/switchyard/v1/StoreState.js";
import type { VolumeShape__Output } from "./gen/switchyard/v1/VolumeShape.js";
import type { VolumeTable__Output } from "./gen/switchyard/v1/VolumeTable.js";
import { journalEntriesMax } from "./limits.js";

export type StoreDeltaErrorCode =
  /** The delta can never apply as given (unknown volume, LU or extent, bad shape, no content). */
  | "INVALID_ARGUMENT"
  /** The diff is not based on the stored generation: someone committed in between. */
  | "STALE_GENERATION";

export class StoreDeltaError extends Error {
  readonly code: StoreDeltaErrorCode;
  /** For STALE_GENERATION: the generation the diff is based on, and the stored one. */
  readonly baseGeneration: number;
  readonly storedGeneration: number;
  constructor(code: StoreDeltaErrorCode, message: string, generations: { base: number; stored: number } = { base: 0, stored: 0 }) {
    super(message);
    this.name = "StoreDeltaError";
    this.code = code;
    this.baseGeneration = generations.base;
    this.storedGeneration = generations.stored;
  }
}

function invalid(message: string): StoreDeltaError {
  return new StoreDeltaError("INVALID_ARGUMENT", `store delta: ${message}`);
}

/** Extent counts of every volume once the shapes are applied. */
function extentCountsAfter(state: StoreState__Output, shapes: readonly VolumeShape__Output[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const volume of state.volumes) counts.set(volume.name, volume.extents?.lu_index.length ?? 0);
  for (const shape of shapes) {
    if (shape.deleted) {
      if (!counts.delete(shape.name)) throw invalid(`deletes volume ${shape.name}, which does not exist`);
      continue;
    }
    if (shape.name === "" || shape.extent_size_bytes <= 0 || shape.extent_count !== Math.ceil(shape.size_bytes / shape.extent_size_bytes)) {
      throw invalid(`volume shape ${JSON.stringify(shape.name)}: ${shape.extent_count} extents do not fit ${shape.size_bytes} bytes`);
    }
    counts.set(shape.name, shape.extent_count);
  }
  return counts;
}

/** Throws unless `diff` takes the stored generation to the next one and names only what exists. */
function checkDifference(state: StoreState__Output, diff: DifferenceTable__Output): void {
  if (diff.base_generation !== state.generation) {
    throw new StoreDeltaError("STALE_GENERATION", `a diff from generation ${diff.base_generation} does not apply to stored generation ${state.generation}`,
      { base: diff.base_generation, stored: state.generation });
  }
  if (diff.generation !== diff.base_generation + 1) throw invalid(`generation ${diff.generation} does not follow ${diff.base_generation}`);
  const lus = new Set(state.lus.map((lu) => lu.index));
  for (const lu of diff.lus_added) {
    if (lus.has(lu.index)) throw invalid(`adds LU index ${lu.index}, which exists`);
    lus.add(lu.index);
  }
  const counts = extentCountsAfter(state, diff.shapes);
  for (const row of diff.rows) {
    const count = counts.get(row.volume);
    if (count === undefined) throw invalid(`a row for volume ${row.volume}, which does not exist`);
    if (row.extent_index >= count) throw invalid(`extent ${row.extent_index} of ${row.volume} is past its ${count} extents`);
    if (!lus.has(row.lu_index)) throw invalid(`extent ${row.extent_index} of ${row.volume} maps to unknown LU index ${row.lu_index}`);
  }
}

/** The columns resized to `extentCount` rows; mirror columns stay empty when no row has a mirror. */
function resizedColumns(columns: ExtentColumns__Output | null, extentCount: number): ExtentColumns__Output {
  const resize = (column: readonly number[] | undefined): number[] => {
    if (column === undefined || column.length === 0) return [];
    const next = column.slice(0, extentCount);
    while (next.length < extentCount) next.push(0);
    return next;
  };
  return {
    lu_index: resize(columns?.lu_index ?? Array<number>(extentCount).fill(0)),
    area_index: resize(columns?.area_index ?? Array<number>(extentCount).fill(0)),
    mirror_lu_index_plus_one: resize(columns?.mirror_lu_index_plus_one),
    mirror_area_index: resize(columns?.mirror_area_index),
    mirror_watermark_bytes: resize(columns?.mirror_watermark_bytes),
  };
}

function applyShape(state: StoreState__Output, shape: VolumeShape__Output): void {
  const index = state.volumes.findIndex((volume) => volume.name === shape.name);
  if (shape.deleted) {
    state.volumes.splice(index, 1);
    return;
  }
  const existing: VolumeTable__Output | undefined = state.volumes[index];
  const empty = Array<number>(shape.extent_count).fill(0);
  const next: VolumeTable__Output = {
    name: shape.name,
    size_bytes: shape.size_bytes,
    extent_size_bytes: shape.extent_size_bytes,
    extents: existing === undefined
      ? { lu_index: empty, area_index: [...empty], mirror_lu_index_plus_one: [], mirror_area_index: [], mirror_watermark_bytes: [] }
      : resizedColumns(existing.extents, shape.extent_count),
  };
  if (existing === undefined) state.volumes.push(next);
  else state.volumes[index] = next;
}

/** A mirror column filled to the volume's length the first time a row of it has a mirror. */
function mirrorColumn(column: number[], extentCount: number, value: number): number[] {
  if (column.length === 0 && value !== 0) {
    for (let index = 0; index < extentCount; index += 1) column.push(0);
  }
  return column;
}

function applyRows(state: StoreState__Output, diff: DifferenceTable__Output): void {
  const byName = new Map(state.volumes.map((volume) => [volume.name, volume]));
  for (const row of diff.rows) {
    const columns = byName.get(row.volume)?.extents;
    if (columns === null || columns === undefined) throw new Error(`checked delta names missing volume ${row.volume}`);
    const count = columns.lu_index.length;
    columns.lu_index[row.extent_index] = row.lu_index;
    columns.area_index[row.extent_index] = row.area_index;
    const mirrorLu = mirrorColumn(columns.mirror_lu_index_plus_one, count, row.mirror_lu_index_plus_one);
    if (mirrorLu.length > 0) {
      mirrorLu[row.extent_index] = row.mirror_lu_index_plus_one;
      mirrorColumn(columns.mirror_area_index, count, 1)[row.extent_index] = row.mirror_area_index;
      mirrorColumn(columns.mirror_watermark_bytes, count, 1)[row.extent_index] = row.mirror_watermark_bytes;
    }
  }
}

function upsertJournal(state: StoreState__Output, entry: JournalEntry__Output): void {
  const index = state.journal.findIndex((existing) => existing.change_id === entry.change_id);
  if (index >= 0) state.journal[index] = entry;
  else state.journal.push(entry);
  if (state.journal.length > journalEntriesMax) state.journal.splice(0, state.journal.length - journalEntriesMax);
}

/** Throws (changing nothing) unless `delta` applies to `state`. */
export function checkStoreDelta(state: StoreState__Output, delta: StoreDelta__Output): void {
  if (delta.diff === null && delta.journal_entry === null) throw invalid("neither a diff nor a journal entry");
  if (delta.diff !== null) checkDifference(state, delta.diff);
  if (delta.journal_entry !== null && delta.journal_entry.change_id === "") throw invalid("a journal entry without a change id");
  if (delta.earlier_journal_entries.length > journalEntriesMax) {
    throw invalid(`${delta.earlier_journal_entries.length} earlier journal entries, more than the journal keeps (${journalEntriesMax})`);
  }
  if (delta.earlier_journal_entries.some((entry) => entry.change_id === "")) throw invalid("an earlier journal entry without a change id");
}

/** Folds a checked delta into `state`. */
export function applyStoreDelta(state: StoreState__Output, delta: StoreDelta__Output): void {
  const diff = delta.diff;
  if (diff !== null) {
    for (const lu of diff.lus_added) state.lus.push(lu);
    for (const shape of diff.shapes) applyShape(state, shape);
    applyRows(state, diff);
    state.generation = diff.generation;
  }
  for (const entry of delta.earlier_journal_entries) upsertJournal(state, entry);
  if (delta.journal_entry !== null) upsertJournal(state, delta.journal_entry);
}
