/**
 * A drain's meaning checked where it is promised (claim 6): once an
 * apparatus has answered a Hold, nothing it admitted before that Hold and
 * aimed at the held ranges is still running. So no write of its that left
 * for the device before the answer may land on a held extent's area after
 * it. Under HOLD_MODE_NONE the promise is the Apply's: once answered,
 * nothing admitted before its flip still runs (a write sent after the flip
 * went through the new face, which the device's mirror takes). The device's own check (device-paths.ts checkMapped) sees such a write
 * only when it lands after the commit on an area the move retired; this one
 * sees it whatever the commit's timing, at a mirror change as at a switch.
 */
import type { HoldRequest__Output, StoreState__Output } from "@switchyard/proto";

/** Drained Holds kept per apparatus: a write older than the last few is long landed (ioLateMaxMs). */
const drainsKeptMax = 8;

interface Drained {
  readonly changeId: string;
  readonly atMs: number;
  /** Writes sent before this must have landed by atMs: the Hold's answer, or an Apply's flip under HOLD_MODE_NONE. */
  readonly admittedBeforeMs: number;
  /** "lu:area" of every area the held ranges mapped to then, mirror destinations included. */
  readonly areas: ReadonlySet<string>;
}

function areaKey(luIndex: number, areaIndex: number): string {
  return `${luIndex}:${areaIndex}`;
}

/** The areas the committed table maps `request`'s ranges to: each extent's area and its mirror's destination. */
function heldAreas(state: StoreState__Output, request: HoldRequest__Output): Set<string> {
  const areas = new Set<string>();
  const extentSizeBytes = state.lus[0]?.extent_size_bytes ?? 0;
  if (extentSizeBytes <= 0) return areas;
  for (const range of request.ranges) {
    const extents = state.volumes.find((volume) => volume.name === range.volume)?.extents;
    if (extents == null) continue;
    const first = Math.floor(range.offset_bytes / extentSizeBytes);
    const endBytes = range.length_bytes === 0 ? Number.MAX_SAFE_INTEGER : range.offset_bytes + range.length_bytes;
    const last = Math.min(extents.lu_index.length - 1, Math.floor((endBytes - 1) / extentSizeBytes));
    for (let extent = first; extent <= last; extent += 1) {
      areas.add(areaKey(extents.lu_index[extent] ?? 0, extents.area_index[extent] ?? 0));
      const mirrorLuPlusOne = extents.mirror_lu_index_plus_one[extent] ?? 0;
      if (mirrorLuPlusOne > 0) areas.add(areaKey(mirrorLuPlusOne - 1, extents.mirror_area_index[extent] ?? 0));
    }
  }
  return areas;
}

/** A Hold under HOLD_MODE_NONE, waiting for its Apply, and when that Apply first flipped the apparatus. */
interface Unheld {
  readonly request: HoldRequest__Output;
  flippedAtMs: number | undefined;
}

const changeKey = (apparatusId: string, changeId: string): string => `${apparatusId}\u0000${changeId}`;

export class DrainWatch {
  private readonly drained = new Map<string, Drained[]>();
  private readonly unheld = new Map<string, Unheld>();

  /** `apparatusId` answered `request` at `atMs`, with the committed table `state` (the Hold's base). */
  noteDrained(apparatusId: string, request: HoldRequest__Output, state: StoreState__Output, atMs: number, admittedBeforeMs = atMs): void {
    const list = this.drained.get(apparatusId) ?? [];
    list.push({ changeId: request.change_id, atMs, admittedBeforeMs, areas: heldAreas(state, request) });
    if (list.length > drainsKeptMax) list.shift();
    this.drained.set(apparatusId, list);
  }

  /** `apparatusId` answered a Hold under HOLD_MODE_NONE: its drain comes with the Apply. */
  noteUnheld(apparatusId: string, request: HoldRequest__Output): void {
    this.unheld.set(changeKey(apparatusId, request.change_id), { request, flippedAtMs: undefined });
    if (this.unheld.size > drainsKeptMax * 8) this.unheld.delete(this.unheld.keys().next().value ?? "");
  }

  /** An Apply reached the apparatus; a repeated one does not flip again. */
  noteFlip(apparatusId: string, changeId: string, atMs: number): void {
    const unheld = this.unheld.get(changeKey(apparatusId, changeId));
    if (unheld !== undefined) unheld.flippedAtMs ??= atMs;
  }

  /** The apparatus answered an Apply at `atMs`: under HOLD_MODE_NONE, what it admitted before the flip has ended. */
  noteApplied(apparatusId: string, changeId: string, state: StoreState__Output, atMs: number): void {
    const unheld = this.unheld.get(changeKey(apparatusId, changeId));
    if (unheld?.flippedAtMs === undefined) return;
    this.noteDrained(apparatusId, unheld.request, state, atMs, unheld.flippedAtMs);
  }

  /**
   * A write of `apparatusId` sent at `sentAtMs` lands now on area `areaIndex`
   * of LU `luIndex`: the violation, if a Hold covering that area was
   * answered in between.
   */
  check(apparatusId: string, luIndex: number, areaIndex: number, sentAtMs: number, nowMs: number): string | undefined {
    const key = areaKey(luIndex, areaIndex);
    const broken = this.drained.get(apparatusId)?.find((drained) => sentAtMs < drained.admittedBeforeMs && drained.atMs < nowMs && drained.areas.has(key));
    if (broken === undefined) return undefined;
    return `drain: a write of ${apparatusId} sent at ${sentAtMs.toFixed(3)} ms landed on area ${areaIndex} of LU ${luIndex} at ${nowMs.toFixed(3)} ms, after ${apparatusId} answered the Hold of ${broken.changeId} over that area at ${broken.atMs.toFixed(3)} ms: admitted before the Hold and still running after its drain`;
  }
}
