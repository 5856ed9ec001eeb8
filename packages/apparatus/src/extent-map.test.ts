// Goal: extent maps keep their rows through table round trips, resizes and
// clones, and faces switch atomically. Method: build maps in memory, check rows.
import { describe, expect, it } from "vitest";
import type { ConfigurationTable__Output } from "@switchyard/proto";
import { ConfigurationFaces } from "./configuration-faces.js";
import { ExtentMap } from "./extent-map.js";

const mebibyte = 1 << 20;

describe("ExtentMap", () => {
  it("rounds the extent count up and round-trips its table", () => {
    const map = new ExtentMap("v", 5 * mebibyte + 512, 4 * mebibyte);
    expect(map.extentCount).toBe(2);
    map.luIndex.set([1, 0]);
    map.areaIndex.set([9, 3]);
    const table = map.toTable();
    expect(table.extents?.area_index).toEqual([9, 3]);
    expect(table.extents?.mirror_lu_index_plus_one).toBeUndefined();
  });

  it("keeps rows when resized and leaves the original untouched", () => {
    const map = new ExtentMap("v", 4 * mebibyte, mebibyte);
    map.areaIndex.set([4, 5, 6, 7]);
    const grown = map.resized(6 * mebibyte);
    expect(Array.from(grown.areaIndex)).toEqual([4, 5, 6, 7, 0, 0]);
    const shrunk = map.resized(2 * mebibyte);
    expect(Array.from(shrunk.areaIndex)).toEqual([4, 5]);
    grown.areaIndex[0] = 99;
    expect(map.areaIndex[0]).toBe(4);
  });

  it("holds a million extents in typed arrays", () => {
    const map = new ExtentMap("big", 2 ** 20 * mebibyte, mebibyte);
    expect(map.extentCount).toBe(2 ** 20);
    expect(map.luIndex.byteLength + map.areaIndex.byteLength).toBe(8 * 2 ** 20);
  });

  it("refuses a table whose rows name an unknown LU", () => {
    const faces = new ConfigurationFaces();
    const table: ConfigurationTable__Output = {
      generation: 1,
      lus: [],
      volumes: [
        {
          name: "v",
          size_bytes: mebibyte,
          extent_size_bytes: mebibyte,
          extents: { lu_index: [3], area_index: [0], mirror_lu_index_plus_one: [], mirror_area_index: [], mirror_watermark_bytes: [] },
        },
      ],
    };
    expect(() => {
      faces.load(table);
    }).toThrow(/unknown LU index 3/);
    expect(faces.active.generation).toBe(0);
  });
});
