/**
 * How the device's mirrors (device-mirrors.ts) take hosts' I/O: the areas
 * they watch (a mirror's source, and its destination too when both are the
 * device's own), and an I/O on a watched LU split at their edges.
 */
import type { AreaMirror, MirrorSide } from "./area-mirror.js";
import type { IoInterceptor, LogicalUnit } from "./logical-unit.js";

/** An area whose hosts' I/O a mirror takes, and which of the mirror's two it is. */
export interface WatchedArea {
  readonly mirror: AreaMirror;
  readonly side: MirrorSide;
}

/** The watched areas by LU and area index: an I/O finds its mirror without a scan. */
export class WatchedAreas {
  private readonly byLu = new Map<LogicalUnit, Map<number, WatchedArea>>();
  /** Where each mirror is watched, so that ending one costs its own areas, not a scan of all. */
  private readonly byMirror = new Map<AreaMirror, [LogicalUnit, number][]>();

  /** `interceptor` takes the I/O of every LU with a watched area. */
  constructor(private readonly interceptor: IoInterceptor) {}

  of(lu: LogicalUnit): ReadonlyMap<number, WatchedArea> | undefined {
    return this.byLu.get(lu);
  }

  watch(lu: LogicalUnit, areaIndex: number, area: WatchedArea): void {
    let byArea = this.byLu.get(lu);
    if (byArea === undefined) {
      byArea = new Map();
      this.byLu.set(lu, byArea);
    }
    byArea.set(areaIndex, area);
    this.byMirror.set(area.mirror, [...(this.byMirror.get(area.mirror) ?? []), [lu, areaIndex]]);
    lu.intercept(this.interceptor);
  }

  unwatch(mirror: AreaMirror): void {
    for (const [lu, areaIndex] of this.byMirror.get(mirror) ?? []) {
      const byArea = this.byLu.get(lu);
      byArea?.delete(areaIndex);
      if (byArea === undefined || byArea.size > 0) continue;
      this.byLu.delete(lu);
      lu.intercept(undefined);
    }
    this.byMirror.delete(mirror);
  }
}

/**
 * Splits an I/O on `lu` at the edges of the watched areas it touches:
 * the parts in areas whose mirror `takes` go to it, the rest to the LU.
 * A host I/O lies within one area (apparatuses split at extents); an
 * administrator's may span a few. Undefined when no mirror takes a part.
 */
export function splitAtAreas(lu: LogicalUnit, byArea: ReadonlyMap<number, WatchedArea> | undefined, offsetBytes: number, buffer: Buffer,
  takes: (area: WatchedArea) => boolean,
  toMirror: (area: WatchedArea, areaOffsetBytes: number, part: Buffer) => Promise<void>,
  toLu: (offsetBytes: number, part: Buffer) => Promise<void>): Promise<void> | undefined {
  const end = offsetBytes + buffer.length;
  if (byArea === undefined || buffer.length === 0) return undefined;
  const touched: WatchedArea[] = [];
  for (let index = Math.floor(offsetBytes / lu.extentSizeBytes); index * lu.extentSizeBytes < end; index += 1) {
    const area = byArea.get(index);
    if (area !== undefined && takes(area)) touched.push(area);
  }
  if (touched.length === 0) return undefined;
  const parts: Promise<void>[] = [];
  let at = offsetBytes;
  for (const area of touched) {
    const span = area.mirror.spanOn(area.side);
    if (at < span.startBytes) parts.push(toLu(at, buffer.subarray(at - offsetBytes, span.startBytes - offsetBytes)));
    const partEnd = Math.min(end, span.endBytes);
    const partStart = Math.max(at, span.startBytes);
    parts.push(toMirror(area, partStart - span.startBytes, buffer.subarray(partStart - offsetBytes, partEnd - offsetBytes)));
    at = partEnd;
  }
  if (at < end) parts.push(toLu(at, buffer.subarray(at - offsetBytes)));
  return Promise.all(parts).then(() => undefined);
}

/**
 * The own areas whose hosts' I/O a mirror takes: its source's, and its
 * destination's when that is this device's too (the source's alias until
 * the commit ends the mirror, so a switch needs no hold); only the
 * destination's when the source is an external device's.
 */
export function* watchedAreas(mirror: AreaMirror, ownSource: LogicalUnit | undefined, ownDestination: LogicalUnit | undefined): Generator<[LogicalUnit, number, WatchedArea]> {
  if (ownSource !== undefined) yield [ownSource, mirror.spec.sourceAreaIndex, { mirror, side: "source" }];
  if (ownDestination !== undefined) yield [ownDestination, mirror.spec.destinationAreaIndex, { mirror, side: "destination" }];
}
