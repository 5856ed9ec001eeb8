/**
 * The volumes the suite serves through the apparatus under test, on storage
 * areas that no volume of the device's store uses: volume A of four extents
 * (the changes move its extent 1 or 2), volume B of one extent (a bystander
 * no change names), and one spare area that moves take extents to. The
 * tables and diffs are the protocol's own messages (table.proto).
 */
import { allocateAreas } from "@switchyard/controller";
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
}

export const volumeAExtents = 4;
const volumeBExtents = 1;
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
  const picked = allocateAreas(state, volumeAExtents + volumeBExtents + 1);
  const areaA = picked.slice(0, volumeAExtents);
  const areaB = picked.slice(volumeAExtents, volumeAExtents + volumeBExtents);
  const spare = picked[volumeAExtents + volumeBExtents];
  if (spare === undefined) throw new CheckFailure("the device has too few free storage areas for the suite's volumes");
  return {
    extentSizeBytes,
    lus: state.lus,
    volumeA: { name: "conformance-a", areas: areaA },
    volumeB: { name: "conformance-b", areas: areaB },
    spare,
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
    volumes: [volumeTable(layout.volumeA, layout.extentSizeBytes), volumeTable(layout.volumeB, layout.extentSizeBytes)],
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
