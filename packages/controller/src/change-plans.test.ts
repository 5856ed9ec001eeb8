// Goal: move and resize plans hold only the remapped bytes, name the right
// copy and rows, give the store the right volumes after the commit, and
// refuse bad requests before anything is held. Method: store states in memory.
import { describe, expect, it } from "vitest";
import type { StoreState__Output } from "@switchyard/proto";
import { applyExtentRows, planMirror, planMirrorEnd, planMove, planResize } from "./change-plans.js";
import { usedAreaMaps } from "./allocation.js";

const mebibyte = 1 << 20;

function state(): StoreState__Output {
  return {
    generation: 7,
    lus: [0, 1].map((index) => ({ index, id: `lu${index}`, device_id: "dev0", size_bytes: 8 * mebibyte, extent_size_bytes: mebibyte, nbd_uri: "", external: false })),
    volumes: [
      {
        name: "v",
        size_bytes: 3 * mebibyte,
        extent_size_bytes: mebibyte,
        extents: { lu_index: [0, 0, 0], area_index: [0, 1, 2], mirror_lu_index_plus_one: [], mirror_area_index: [], mirror_watermark_bytes: [] },
      },
    ],
    journal: [],
    copy_progress: [],
    external_devices: [],
    fenced_by_operator: [],
    apparatuses: [],
  };
}

describe("planMirror and planMirrorEnd", () => {
  it("put extents in mirror state towards free areas (held for the change), then switch them, and keep the table in step", () => {
    const table = state();
    const mirror = planMirror(table, "v", [0, 2], "lu1");
    expect(mirror.holdRanges).toEqual([{ volume: "v", offset_bytes: 0, length_bytes: mebibyte }, { volume: "v", offset_bytes: 2 * mebibyte, length_bytes: mebibyte }]);
    expect(mirror.copy).toBeUndefined();
    applyExtentRows(table, mirror.diff);
    expect(table.volumes[0]?.extents).toMatchObject({ lu_index: [0, 0, 0], area_index: [0, 1, 2], mirror_lu_index_plus_one: [2, 0, 2], mirror_area_index: [0, 0, 1] });
    // The mirrors' destinations are taken: a move of extent 1 goes to the next free area.
    expect(planMove(table, "v", 1, "lu1").diff.rows).toEqual([{ volume: "v", extent_index: 1, lu_index: 1, area_index: 2 }]);
    expect(() => planMirror(table, "v", [0], "lu1")).toThrow(/being mirrored already/);
    applyExtentRows(table, planMirrorEnd(table, "v", [0, 2], "switch").diff);
    expect(table.volumes[0]?.extents).toMatchObject({ lu_index: [1, 0, 1], area_index: [0, 1, 1], mirror_lu_index_plus_one: [0, 0, 0] });
    expect(table.generation).toBe(9);
    expect(() => planMirrorEnd(table, "v", [0], "unmirror")).toThrow(/not in mirror state/);
  });
});

describe("applyExtentRows and the table's kept area maps", () => {
  it("keeps them equal to maps built afresh, change after change", () => {
    const table = state();
    const fresh = (): number[][] => [...usedAreaMaps(structuredClone(table)).values()].map((map) => [...map]);
    const kept = (): number[][] => [...usedAreaMaps(table).values()].map((map) => [...map]);
    expect(kept()).toEqual(fresh());
    const maps = usedAreaMaps(table);
    const plans = [
      () => planMirror(table, "v", [0, 2], "lu1"),
      () => planMirrorEnd(table, "v", [0], "switch"),
      () => planMirrorEnd(table, "v", [2], "unmirror"),
      () => planMove(table, "v", 1, "lu1"),
      () => planMove(table, "v", 0, "lu0"),
    ];
    for (const plan of plans) {
      applyExtentRows(table, plan().diff);
      expect(kept(), `generation ${table.generation}`).toEqual(fresh());
    }
    // Brought along, not built again: a million-extent table would pay for that on every move.
    expect(usedAreaMaps(table)).toBe(maps);
    // Extent 0 went back to lu0 area 0, freed by its switch to lu1: the maps hold what the store would.
    expect(table.volumes[0]?.extents).toMatchObject({ lu_index: [0, 1, 0], area_index: [0, 1, 2] });
  });
});

describe("planMove", () => {
  it("holds writes on the one extent, copies it to a free area, and switches that row only", () => {
    const plan = planMove(state(), "v", 1, "lu1");
    expect(plan.holdRanges).toEqual([{ volume: "v", offset_bytes: mebibyte, length_bytes: mebibyte }]);
    expect(plan.holdMode).toBe("HOLD_MODE_WRITES");
    expect(plan.copy).toMatchObject({ sourceLuId: "lu0", sourceAreaIndex: 1, destinationLuId: "lu1", destinationAreaIndex: 0, lengthBytes: mebibyte });
    expect(plan.diff).toMatchObject({ base_generation: 7, generation: 8, rows: [{ volume: "v", extent_index: 1, lu_index: 1, area_index: 0 }] });
    expect(plan.volumesAfter()[0]?.extents).toEqual({ lu_index: [0, 1, 0], area_index: [0, 0, 2] });
  });

  it("applied to the table it was planned from, gives the table the store has after the commit", () => {
    const table = state();
    const plan = planMove(table, "v", 1, "lu1");
    applyExtentRows(table, plan.diff);
    expect(table.generation).toBe(8);
    expect(table.volumes[0]?.extents).toMatchObject(plan.volumesAfter()[0]?.extents ?? {});
    // The next move plans from it: extent 2 goes to the next free area of lu1.
    expect(planMove(table, "v", 2, "lu1").diff.rows).toEqual([{ volume: "v", extent_index: 2, lu_index: 1, area_index: 1 }]);
    expect(() => { applyExtentRows(table, plan.diff); }).toThrow(/generation/);
  });

  it.each([
    { volume: "nope", extent: 0, lu: "lu1", message: /no volume nope/ },
    { volume: "v", extent: 3, lu: "lu1", message: /extents 0 to 2, not 3/ },
    { volume: "v", extent: 0, lu: "lu9", message: /no LU lu9/ },
    { volume: "v", extent: 0, lu: "lu0", message: /already on lu0/ },
  ])("refuses extent $extent of $volume to $lu", ({ volume, extent, lu, message }) => {
    expect(() => planMove(state(), volume, extent, lu)).toThrow(message);
  });
});

describe("planResize", () => {
  it("grows onto new areas with a row for each new extent, holding from the old end", () => {
    const plan = planResize(state(), "v", 5 * mebibyte);
    expect(plan.holdRanges).toEqual([{ volume: "v", offset_bytes: 3 * mebibyte, length_bytes: 0 }]);
    expect(plan.diff.shapes).toEqual([{ name: "v", size_bytes: 5 * mebibyte, extent_size_bytes: mebibyte, extent_count: 5, deleted: false }]);
    expect(plan.diff.rows).toHaveLength(2);
    expect(plan.newAreas).toEqual([{ luIndex: 1, areaIndex: 0 }, { luIndex: 1, areaIndex: 1 }]);
    expect(plan.volumesAfter()[0]?.extents?.lu_index).toEqual([0, 0, 0, 1, 1]);
  });

  it("shrinks without rows, and the store keeps only the first extents", () => {
    const plan = planResize(state(), "v", mebibyte);
    expect(plan.diff.rows).toEqual([]);
    expect(plan.holdRanges[0]?.offset_bytes).toBe(mebibyte);
    expect(plan.volumesAfter()[0]).toMatchObject({ size_bytes: mebibyte, extents: { lu_index: [0], area_index: [0] } });
  });

  it("refuses the same size and sizes that are not whole sectors", () => {
    expect(() => planResize(state(), "v", 3 * mebibyte)).toThrow(/already/);
    expect(() => planResize(state(), "v", 1000)).toThrow(/multiple of 512/);
  });
});
