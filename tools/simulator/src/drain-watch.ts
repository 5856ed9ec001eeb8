/**
 * A drain's meaning checked where it is promised (claim 6): once an
 * apparatus has answered a Hold, nothing it admitted before that Hold and
 * aimed at the held ranges is still running. So no write of its that left
 * for the device before the answer may land on a held extent's area after
 * it. The device's own check (device-paths.ts checkMapped) sees such a write
 * only when it lands after the commit on an area the move retired; this one
 * sees it whatever the commit's timing, at a mirror change as at a switch.
 */
import type { HoldRequest__Output, StoreState__Output } from "@switchyard/proto";

/** Drained Holds kept per apparatus: a write older than the last few is long landed (ioLateMaxMs). */
const drainsKeptMax = 8;

interface Drained {
  readonly changeId: string;
  readonly atMs: number;
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

export class DrainWatch {
  private readonly drained = new Map<string, Drained[]>();

  /** `apparatusId` answered `request` at `atMs`, with the committed table `state` (the Hold's base). */
  noteDrained(apparatusId: string, request: HoldRequest__Output, state: StoreState__Output, atMs: number): void {
    const list = this.drained.get(apparatusId) ?? [];
    list.push({ changeId: request.change_id, atMs, areas: heldAreas(state, request) });
    if (list.length > drainsKeptMax) list.shift();
    this.drained.set(apparatusId, list);
  }

  /**
   * A write of `apparatusId` sent at `sentAtMs` lands now on area `areaIndex`
   * of LU `luIndex`: the violation, if a Hold covering that area was
   * answered in between.
   */
  check(apparatusId: string, luIndex: number, areaIndex: number, sentAtMs: number, nowMs: number): string | undefined {
    const key = areaKey(luIndex, areaIndex);
    const broken = this.drained.get(apparatusId)?.find((drained) => sentAtMs < drained.atMs && drained.atMs < nowMs && drained.areas.has(key));
    if (broken === undefined) return undefined;
    return `drain: a write of ${apparatusId} sent at ${sentAtMs.toFixed(3)} ms landed on area ${areaIndex} of LU ${luIndex} at ${nowMs.toFixed(3)} ms, after ${apparatusId} answered the Hold of ${broken.changeId} over that area at ${broken.atMs.toFixed(3)} ms: admitted before the Hold and still running after its drain`;
  }
}
