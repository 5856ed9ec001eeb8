/**
 * How the device's mirrors (device-mirrors.ts) take hosts' I/O: an I/O on a
 * watched LU is split at the edges of the mirrored areas it touches.
 */
import type { AreaMirror } from "./area-mirror.js";
import type { LogicalUnit } from "./logical-unit.js";

/**
 * Splits an I/O on `lu` at the edges of the watched areas it touches:
 * the parts in areas whose mirror `takes` go to it, the rest to the LU.
 * A host I/O lies within one area (apparatuses split at extents); an
 * administrator's may span a few. Undefined when no mirror takes a part.
 */
export function splitAtAreas(lu: LogicalUnit, byArea: ReadonlyMap<number, AreaMirror> | undefined, offsetBytes: number, buffer: Buffer,
  takes: (mirror: AreaMirror) => boolean,
  toMirror: (mirror: AreaMirror, areaOffsetBytes: number, part: Buffer) => Promise<void>,
  toLu: (offsetBytes: number, part: Buffer) => Promise<void>): Promise<void> | undefined {
  const end = offsetBytes + buffer.length;
  if (byArea === undefined || buffer.length === 0) return undefined;
  const touched: AreaMirror[] = [];
  for (let area = Math.floor(offsetBytes / lu.extentSizeBytes); area * lu.extentSizeBytes < end; area += 1) {
    const mirror = byArea.get(area);
    if (mirror !== undefined && takes(mirror)) touched.push(mirror);
  }
  if (touched.length === 0) return undefined;
  const parts: Promise<void>[] = [];
  let at = offsetBytes;
  for (const mirror of touched) {
    const span = mirror.watchedSpan;
    if (at < span.startBytes) parts.push(toLu(at, buffer.subarray(at - offsetBytes, span.startBytes - offsetBytes)));
    const partEnd = Math.min(end, span.endBytes);
    const partStart = Math.max(at, span.startBytes);
    parts.push(toMirror(mirror, partStart - span.startBytes, buffer.subarray(partStart - offsetBytes, partEnd - offsetBytes)));
    at = partEnd;
  }
  if (at < end) parts.push(toLu(at, buffer.subarray(at - offsetBytes)));
  return Promise.all(parts).then(() => undefined);
}
