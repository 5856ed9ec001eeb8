/**
 * The volumes the suite serves through the apparatus under test, on storage
 * areas that no volume of the device's store uses: volume A of four extents
 * (the changes move its extent 1 or 2), volume B of one extent (a bystander
 * no change names), one spare area that moves take extents to, and volume C,
 * longer than NBD's portable payload limit (32 MiB) by two extents, for the
 * TRIM and WRITE_ZEROES that proto.md lets be longer than any payload, and
 * spanning two LUs where the device has two, for the FLUSH cases. The
 * tables and diffs are the protocol's own messages (table.proto).
 */
import { allocateAreas } from "@switchyard/controller";
import { NBD_PORTABLE_BLOCK_SIZE_MAX_BYTES } from "@switchyard/nbd";
import type { ConfigurationTable, DifferenceTable, LogicalUnit__Output, StoreState__Output, VolumeTable } from "@switchyard/proto";
import { CheckFailure } from "./check.js";

export interface Area {
  readonly luIndex: number;
  readonly areaIndex: number;
}

export interface TestVolume {
  readonly name: string;
  readonly areas: readonly Area[];
}

export interface Layout {
  readonly extentSizeBytes: number;
  readonly lus: readonly LogicalUnit__Output[];
  readonly volumeA: TestVolume;
  readonly volumeB: TestVolume;
  readonly spare: Area;
  /** Longer than the portable payload limit; undefined when the device has too few free areas (its cases then say so). */
  readonly volumeC: TestVolume | undefined;
}

export const volumeAExtents = 4;
const volumeBExtents = 1;
/** Extents past the payload limit: one for a request longer than it, one more for a bystander after it. */
const volumeCSpareExtents = 2;
/** The bytes every stamp fills: one block as hosts write them. */
export const blockBytes = 4096;

/** Picks free areas on the device for the suite's volumes. */
export function planLayout(state: StoreState__Output): Layout {
  const first = state.lus[0];
  if (first === undefined) throw new CheckFailure("the device's store lists no LUs: the suite has nowhere to put its volumes");
  if (state.lus.some((lu) => lu.nbd_uri === "")) throw new CheckFailure("the device's store gives no nbd_uri for its LUs: apparatuses cannot reach them");
  const extentSizeBytes = first.extent_size_bytes;
  // A move between LUs of different extent sizes is no move at all: one size keeps every diff valid.
  if (state.lus.some((lu) => lu.extent_size_bytes !== extentSizeBytes)) throw new CheckFailure("the suite needs a device whose LUs share one extent size");
  const smallCount = volumeAExtents + volumeBExtents + 1;
  const longCount = Math.ceil(NBD_PORTABLE_BLOCK_SIZE_MAX_BYTES / extentSizeBytes) + volumeCSpareExtents;
  let picked: ReturnType<typeof allocateAreas>;
  try {
    // In one call, so that C begins where the small volumes end and runs on into the next LU.
    picked = allocateAreas(state, smallCount + longCount);
  } catch {
    picked = allocateAreas(state, smallCount);
  }
  const areaA = picked.slice(0, volumeAExtents);
  const areaB = picked.slice(volumeAExtents, volumeAExtents + volumeBExtents);
  const spare = picked[volumeAExtents + volumeBExtents];
  if (spare === undefined) throw new CheckFailure("the device has too few free storage areas for the suite's volumes");
  const areaC = picked.slice(smallCount);
  return {
    extentSizeBytes,
    lus: state.lus,
    volumeA: { name: "conformance-a", areas: areaA },
    volumeB: { name: "conformance-b", areas: areaB },
    spare,
    volumeC: areaC.length === longCount ? { name: "conformance-c", areas: areaC } : undefined,
  };
}

function volumeTable(volume: TestVolume, extentSizeBytes: number): VolumeTable {
  return {
    name: volume.name,
    size_bytes: volume.areas.length * extentSizeBytes,
    extent_size_bytes: extentSizeBytes,
    extents: {
      lu_index: volume.areas.map((area) => area.luIndex),
      area_index: volume.areas.map((area) => area.areaIndex),
      mirror_lu_index_plus_one: volume.areas.map(() => 0),
      mirror_area_index: volume.areas.map(() => 0),
      mirror_watermark_bytes: volume.areas.map(() => 0),
    },
  };
}

/** The whole table every case starts from, at `generation`. */
export function baselineTable(layout: Layout, generation: number): ConfigurationTable {
  return {
    generation,
    lus: [...layout.lus],
    volumes: [layout.volumeA, layout.volumeB, ...(layout.volumeC === undefined ? [] : [layout.volumeC])].map((volume) => volumeTable(volume, layout.extentSizeBytes)),
  };
}

/** Claim 2: the one row that moves extent `extentIndex` of volume A to `to`. */
export function moveDiff(layout: Layout, baseGeneration: number, extentIndex: number, to: Area): DifferenceTable {
  return {
    base_generation: baseGeneration,
    generation: baseGeneration + 1,
    shapes: [],
    rows: [
      {
        volume: layout.volumeA.name,
        extent_index: extentIndex,
        lu_index: to.luIndex,
        area_index: to.areaIndex,
        mirror_lu_index_plus_one: 0,
        mirror_area_index: 0,
        mirror_watermark_bytes: 0,
      },
    ],
    lus_added: [],
  };
}

/** A block whose first 8 bytes say `value`, the rest a pattern from it: no two stamps look alike. */
export function stamp(value: number): Buffer {
  const block = Buffer.alloc(blockBytes, value & 0xff);
  block.writeBigUInt64BE(BigInt(value), 0);
  return block;
}

export function stampValue(block: Buffer): number {
  return Number(block.readBigUInt64BE(0));
}
