// Goal: move and resize plans hold only the remapped bytes, name the right
// copy and rows, give the store the right volumes after the commit, and
// refuse bad requests before anything is held. Method: store states in memory.
import { describe, expect, it } from "vitest";
import type { StoreState__Output } from "@switchyard/proto";
import { applyExtentRows, planMirror, planMirrorEnd, planResize } from "./change-plans.js";
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
    // Asked before the table moves on: what a model of the store commits (tools/simulator) is what the store has.
    const modelled = mirror.volumesAfter()[0]?.extents;
    applyExtentRows(table, mirror.diff);
    expect(table.volumes[0]?.extents).toMatchObject({ lu_index: [0, 0, 0], area_index: [0, 1, 2], mirror_lu_index_plus_one: [2, 0, 2], mirror_area_index: [0, 0, 1] });
    expect(modelled).toEqual(table.volumes[0]?.extents);
    // The mirrors' destinations are taken: a mirror of extent 1 goes to the next free area.
    expect(planMirror(table, "v", [1], "lu1").diff.rows).toEqual([{ volume: "v", extent_index: 1, lu_index: 0, area_index: 1, mirror_lu_index_plus_one: 2, mirror_area_index: 2, mirror_watermark_bytes: 0 }]);
    expect(() => planMirror(table, "v", [0], "lu1")).toThrow(/being mirrored already/);
    applyExtentRows(table, planMirrorEnd(table, "v", [0, 2], "switch").diff);
    expect(table.volumes[0]?.extents).toMatchObject({ lu_index: [1, 0, 1], area_index: [0, 1, 1], mirror_lu_index_plus_one: [0, 0, 0] });
    expect(table.generation).toBe(9);
    expect(() => planMirrorEnd(table, "v", [0], "unmirror")).toThrow(/not in mirror state/);
  });
});

describe("the hold a migration's change asks for", () => {
  it("holds nothing to put extents in mirror state, switch them or take them out between two areas of one device", () => {
    const table = state();
    const mirror = planMirror(table, "v", [0, 2], "lu1");
    expect(mirror.holdMode).toBe("HOLD_MODE_NONE");
    applyExtentRows(table, mirror.diff);
    expect(planMirrorEnd(table, "v", [0, 2], "switch").holdMode).toBe("HOLD_MODE_NONE");
    expect(planMirrorEnd(table, "v", [0, 2], "unmirror").holdMode).toBe("HOLD_MODE_NONE");
  });

  it.each([
    ["an LU of another device", { device_id: "dev1", external: false }],
    ["an external NBD server's LU", { device_id: "", external: true }],
  ])("holds writes to mirror, switch or unmirror an extent towards %s: no one device sees both areas' I/O", (_what, target) => {
    const table = state();
    table.lus.push({ index: 2, id: "lu2", size_bytes: 8 * mebibyte, extent_size_bytes: mebibyte, nbd_uri: "nbd://127.0.0.1:10810/lu2", ...target });
    const mirror = planMirror(table, "v", [1], "lu2");
    expect(mirror.holdMode).toBe("HOLD_MODE_WRITES");
    applyExtentRows(table, mirror.diff);
    expect(planMirrorEnd(table, "v", [1], "switch").holdMode).toBe("HOLD_MODE_WRITES");
    expect(planMirrorEnd(table, "v", [1], "unmirror").holdMode).toBe("HOLD_MODE_WRITES");
    // One row towards another device is enough to hold the change's every extent.
    expect(planMirror(table, "v", [0, 2], "lu2").holdMode).toBe("HOLD_MODE_WRITES");
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
      () => planMirror(table, "v", [1], "lu1"),
      () => planMirrorEnd(table, "v", [1], "switch"),
      () => planMirror(table, "v", [0], "lu0"),
      () => planMirrorEnd(table, "v", [0], "switch"),
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
