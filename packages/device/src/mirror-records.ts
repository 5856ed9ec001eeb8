/**
 * What the device's mirrors (device-mirrors.ts) read from elsewhere: the
 * committed table's mirror columns (a mirror lives only while the table has
 * its extent in mirror state) and mirrors.json, the file that keeps them
 * across a restart.
 */
import type { ExtentRow, StoreState__Output } from "@switchyard/proto";
import type { MirrorSpec } from "./area-mirror.js";
import { DeviceCorruptError, InvalidArgumentError } from "./errors.js";

export interface StartMirrorRequest extends MirrorSpec {
  /** Mirrors of one group (a migration) share its rate limit. */
  readonly group: string;
  readonly rateBytesPerSecond: number;
}

/** Whether two mirrors of an extent are between the same two areas. */
export function sameAreas(a: Omit<MirrorSpec, "watermarkBytes">, b: MirrorSpec): boolean {
  return a.sourceLuId === b.sourceLuId && a.sourceAreaIndex === b.sourceAreaIndex &&
    a.destinationLuId === b.destinationLuId && a.destinationAreaIndex === b.destinationAreaIndex;
}

export function checkRate(rateBytesPerSecond: number): void {
  if (!Number.isSafeInteger(rateBytesPerSecond) || rateBytesPerSecond < 0) {
    throw new InvalidArgumentError(`copy rate ${rateBytesPerSecond} bytes per second is not a whole number >= 0`);
  }
}

/**
 * Refuses, before anything is mirrored, a watermark outside the area of
 * `areaBytes`, a rate that is none, a mirror of an area onto itself, and one
 * that shares an area with any of `others` (the mirrors there are).
 */
export function checkMirrorRequest(request: StartMirrorRequest, areaBytes: number, others: readonly Omit<MirrorSpec, "watermarkBytes">[]): void {
  if (!Number.isSafeInteger(request.watermarkBytes) || request.watermarkBytes < 0 || request.watermarkBytes > areaBytes) {
    throw new InvalidArgumentError(`watermark ${request.watermarkBytes} is not within an area of ${areaBytes} bytes`);
  }
  checkRate(request.rateBytesPerSecond);
  if (request.sourceLuId === request.destinationLuId && request.sourceAreaIndex === request.destinationAreaIndex) {
    throw new InvalidArgumentError(`a mirror of ${request.sourceLuId} area ${request.sourceAreaIndex} onto itself`);
  }
  const uses = (luId: string, area: number): boolean =>
    (luId === request.sourceLuId && area === request.sourceAreaIndex) || (luId === request.destinationLuId && area === request.destinationAreaIndex);
  if (others.some((other) => uses(other.sourceLuId, other.sourceAreaIndex) || uses(other.destinationLuId, other.destinationAreaIndex))) {
    throw new InvalidArgumentError(`${request.sourceLuId} area ${request.sourceAreaIndex} or ${request.destinationLuId} area ${request.destinationAreaIndex} is in another mirror`);
  }
}

/** The mirror a row puts its extent in when it is from an external device's area; undefined otherwise. */
export function externalSourceMirror(state: StoreState__Output, row: ExtentRow): Omit<MirrorSpec, "watermarkBytes"> | undefined {
  const mirrorLuPlusOne = row.mirror_lu_index_plus_one ?? 0;
  if (mirrorLuPlusOne === 0) return undefined;
  const source = state.lus.find((lu) => lu.index === (row.lu_index ?? 0));
  const destination = state.lus.find((lu) => lu.index === mirrorLuPlusOne - 1);
  if (source?.external !== true || destination === undefined || destination.external) return undefined;
  return {
    volume: row.volume ?? "", extentIndex: row.extent_index ?? 0, sourceLuId: source.id, sourceAreaIndex: row.area_index ?? 0,
    destinationLuId: destination.id, destinationAreaIndex: row.mirror_area_index ?? 0,
  };
}

/** The mirrors from external sources that `rows` put extents in, or the whole table does when there are no rows. */
export function externalSourceMirrors(state: StoreState__Output, rows: readonly ExtentRow[] | undefined): (Omit<MirrorSpec, "watermarkBytes"> | undefined)[] {
  return rows?.map((row) => externalSourceMirror(state, row)) ?? state.volumes.flatMap((volume) => {
    const columns = volume.extents;
    return (columns?.mirror_lu_index_plus_one ?? []).map((_, extentIndex) => externalSourceMirror(state, {
      volume: volume.name, extent_index: extentIndex, lu_index: columns?.lu_index[extentIndex], area_index: columns?.area_index[extentIndex],
      mirror_lu_index_plus_one: columns?.mirror_lu_index_plus_one[extentIndex], mirror_area_index: columns?.mirror_area_index[extentIndex],
    }));
  });
}

/**
 * True when the committed table has the mirror's extent in mirror state from
 * its source area to its destination (DESIGN.md: a change puts the extent in
 * mirror state; the device only carries it out).
 */
/** Where the committed table has extent `extentIndex` of `volume` mirrored to (LU index and area), if it is in mirror state. */
function tableMirrorDestination(state: StoreState__Output, volume: string, extentIndex: number): { readonly luIndex: number; readonly areaIndex: number } | undefined {
  const extents = state.volumes.find((candidate) => candidate.name === volume)?.extents;
  const luPlusOne = extents?.mirror_lu_index_plus_one[extentIndex] ?? 0;
  if (extents == null || luPlusOne === 0) return undefined;
  return { luIndex: luPlusOne - 1, areaIndex: extents.mirror_area_index[extentIndex] ?? 0 };
}

/** What the device knows of the copy of one extent's mirror. */
export interface CopyState {
  readonly spec: Omit<MirrorSpec, "watermarkBytes">;
  readonly synced: boolean;
  readonly failure: string | undefined;
  readonly watermarkBytes: number;
  readonly areaBytes: number;
}

/**
 * Why `row` may not be committed over `state`, if it may not: it puts its
 * extent on an area only a copy fills (its copy's destination, or the
 * destination the table mirrors it to) while that copy is not in sync, has
 * failed, or is not this device's to begin with (no StartMirror for it since
 * the mirror change: a controller that lost track of its copy).
 */
export function switchRefusal(state: StoreState__Output, row: ExtentRow, copy: CopyState | undefined): string | undefined {
  const volume = row.volume ?? "";
  const extentIndex = row.extent_index ?? 0;
  const onto = { luIndex: row.lu_index ?? 0, areaIndex: row.area_index ?? 0 };
  const spec = copy?.spec;
  const ontoCopy = spec !== undefined && onto.luIndex === state.lus.find((lu) => lu.id === spec.destinationLuId)?.index && onto.areaIndex === spec.destinationAreaIndex;
  if (copy === undefined || spec === undefined || !ontoCopy) {
    const mirrored = tableMirrorDestination(state, volume, extentIndex);
    if (mirrored?.luIndex !== onto.luIndex || mirrored.areaIndex !== onto.areaIndex) return undefined;
    const luId = state.lus.find((lu) => lu.index === onto.luIndex)?.id ?? `LU index ${onto.luIndex}`;
    return `extent ${extentIndex} of ${volume} cannot switch to ${luId} area ${onto.areaIndex}: this device is copying nothing there (no StartMirror for it since its mirror change)`;
  }
  if (copy.failure === undefined && copy.synced) return undefined;
  const why = copy.failure ?? `${copy.watermarkBytes} of ${copy.areaBytes} bytes copied and durable`;
  return `extent ${extentIndex} of ${volume} cannot switch to ${spec.destinationLuId} area ${spec.destinationAreaIndex}: its mirror is not in sync (${why})`;
}

export function tableHasMirror(state: StoreState__Output, spec: Omit<MirrorSpec, "watermarkBytes">): boolean {
  const volume = state.volumes.find((candidate) => candidate.name === spec.volume);
  const sourceLu = state.lus.find((lu) => lu.id === spec.sourceLuId)?.index;
  const destinationLu = state.lus.find((lu) => lu.id === spec.destinationLuId)?.index;
  if (volume === undefined || volume.extents === null || sourceLu === undefined || destinationLu === undefined) return false;
  const columns = volume.extents;
  const at = spec.extentIndex;
  return columns.lu_index[at] === sourceLu && columns.area_index[at] === spec.sourceAreaIndex &&
    columns.mirror_lu_index_plus_one[at] === destinationLu + 1 && columns.mirror_area_index[at] === spec.destinationAreaIndex;
}

/** mirrors.json listing `requests`: what parseMirrorsFile reads back. */
export function mirrorsFileText(requests: readonly StartMirrorRequest[]): string {
  return JSON.stringify({ formatVersion: 1, mirrors: requests }, null, 2) + "\n";
}

/** The mirrors mirrors.json lists; DeviceCorruptError when it is not what this device writes. */
export function parseMirrorsFile(bytes: Buffer, filePath: string): StartMirrorRequest[] {
  const corrupt = (why: string): DeviceCorruptError => new DeviceCorruptError(`${filePath}: ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw corrupt("not JSON");
  }
  if (typeof value !== "object" || value === null || !("mirrors" in value) || !Array.isArray(value.mirrors)) throw corrupt("no mirrors list");
  return value.mirrors.map((entry: unknown, index) => {
    if (typeof entry !== "object" || entry === null) throw corrupt(`mirror ${index} is not an object`);
    const field = (name: string, type: "string" | "number"): unknown => {
      const found: unknown = (entry as Record<string, unknown>)[name];
      if (typeof found !== type) throw corrupt(`mirror ${index} has no ${type} ${name}`);
      return found;
    };
    return {
      volume: field("volume", "string") as string, extentIndex: field("extentIndex", "number") as number,
      sourceLuId: field("sourceLuId", "string") as string, sourceAreaIndex: field("sourceAreaIndex", "number") as number,
      destinationLuId: field("destinationLuId", "string") as string, destinationAreaIndex: field("destinationAreaIndex", "number") as number,
      watermarkBytes: field("watermarkBytes", "number") as number, group: field("group", "string") as string,
      rateBytesPerSecond: field("rateBytesPerSecond", "number") as number,
    };
  });
}
