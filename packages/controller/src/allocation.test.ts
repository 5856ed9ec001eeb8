// Goal: free-area accounting and allocation pick only free areas, spread over
// LUs when allowed, and refuse precisely when space runs out. Method: store
// states built in memory.
import { describe, expect, it } from "vitest";
import type { StoreState__Output } from "@switchyard/proto";
import { allocateAreas, freeAreaCount, usedAreaMaps } from "./allocation.js";
import { checkVolumeName, checkVolumeSize } from "./volumes.js";

const mebibyte = 1 << 20;

function state(volumeAreas: { lu: number[]; area: number[] }[]): StoreState__Output {
  return {
    generation: 1,
    lus: [0, 1].map((index) => ({ index, id: `lu${index}`, device_id: "dev0", size_bytes: 4 * mebibyte, extent_size_bytes: mebibyte, nbd_uri: "", external: false })),
    volumes: volumeAreas.map((areas, index) => ({
      name: `v${index}`,
      size_bytes: areas.lu.length * mebibyte,
      extent_size_bytes: mebibyte,
      extents: { lu_index: areas.lu, area_index: areas.area, mirror_lu_index_plus_one: [], mirror_area_index: [], mirror_watermark_bytes: [] },
    })),
    journal: [],
    copy_progress: [],
    external_devices: [],
    fenced_by_operator: [],
    apparatuses: [],
  };
}

describe("allocation", () => {
  it("counts used and free areas per LU", () => {
    const used = usedAreaMaps(state([{ lu: [0, 0, 1], area: [0, 2, 3] }]));
    expect(freeAreaCount(used.get(0) ?? new Uint8Array())).toBe(2);
    expect(freeAreaCount(used.get(1) ?? new Uint8Array())).toBe(3);
  });

  it("takes the LU with the most free areas first, then spills over", () => {
    const picked = allocateAreas(state([{ lu: [0, 0], area: [0, 1] }]), 5);
    expect(picked.slice(0, 4)).toEqual([0, 1, 2, 3].map((areaIndex) => ({ luIndex: 1, areaIndex })));
    expect(picked[4]).toEqual({ luIndex: 0, areaIndex: 2 });
  });

  it("refuses with NO_SPACE when one LU is asked for more than it has", () => {
    const current = state([{ lu: [1], area: [0] }]);
    const lu1 = current.lus[1];
    expect(() => allocateAreas(current, 4, lu1)).toThrow(/needs 4 free areas but LU lu1 has 3/);
  });

  it("catches an area mapped twice as a broken invariant", () => {
    expect(() => usedAreaMaps(state([{ lu: [0], area: [1] }, { lu: [0], area: [1] }]))).toThrow(/mapped twice/);
  });

  it("checks names and sizes", () => {
    expect(() => {
      checkVolumeName("bad name");
    }).toThrow(/letters, digits/);
    expect(() => checkVolumeSize(1000, mebibyte)).toThrow(/multiple of 512/);
    expect(checkVolumeSize(mebibyte + 512, mebibyte)).toBe(2);
  });
});
