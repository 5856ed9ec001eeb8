// Goal: the device refuses a commit that puts an extent on an area only a
// copy fills unless that copy is its own, in sync and unfailed. Found by the
// cluster simulator (seed 725 of a wider sweep): two moves of one extent ran
// at once after a journal write's answer was lost; one switched the extent
// onto its new mirror's destination before the device had been asked to copy
// anything there, the device let it through because it knew no mirror of
// that extent, and hosts read zeros.
// Method: switchRefusal against tables and copies built by hand.
import { describe, expect, it } from "vitest";
import type { ExtentRow, StoreState__Output } from "@switchyard/proto";
import { switchRefusal, type CopyState } from "./mirror-records.js";

/** Volume v's one extent on lu0 area 1, mirrored to lu1 area 2 when `mirrored`. */
function table(mirrored: boolean): StoreState__Output {
  return {
    lus: [{ id: "lu0", index: 0 }, { id: "lu1", index: 1 }],
    volumes: [{ name: "v", extents: { lu_index: [0], area_index: [1], mirror_lu_index_plus_one: [mirrored ? 2 : 0], mirror_area_index: [mirrored ? 2 : 0] } }],
  } as unknown as StoreState__Output;
}

/** The row that switches extent 0 onto lu1 area `areaIndex`. */
function onto(areaIndex: number): ExtentRow {
  return { volume: "v", extent_index: 0, lu_index: 1, area_index: areaIndex };
}

function copyTo(areaIndex: number, synced: boolean, failure?: string): CopyState {
  return {
    spec: { volume: "v", extentIndex: 0, sourceLuId: "lu0", sourceAreaIndex: 1, destinationLuId: "lu1", destinationAreaIndex: areaIndex },
    synced, failure, watermarkBytes: synced ? 4096 : 1024, areaBytes: 4096,
  };
}

describe("switchRefusal", () => {
  it("lets a switch onto the destination of its own copy through once that copy is in sync", () => {
    expect(switchRefusal(table(true), onto(2), copyTo(2, true))).toBeUndefined();
  });

  it("refuses a switch onto the mirror's destination when the device copies nothing there", () => {
    expect(switchRefusal(table(true), onto(2), undefined)).toBe("extent 0 of v cannot switch to lu1 area 2: this device is copying nothing there (no StartMirror for it since its mirror change)");
  });

  it("refuses it when the device's copy of that extent goes to another area, even one in sync", () => {
    expect(switchRefusal(table(true), onto(2), copyTo(3, true))).toMatch(/cannot switch to lu1 area 2: this device is copying nothing there/);
  });

  it("refuses a switch onto its copy's destination while the copy is behind or has failed", () => {
    expect(switchRefusal(table(true), onto(2), copyTo(2, false))).toBe("extent 0 of v cannot switch to lu1 area 2: its mirror is not in sync (1024 of 4096 bytes copied and durable)");
    expect(switchRefusal(table(true), onto(2), copyTo(2, true, "lu1 failed a write"))).toMatch(/its mirror is not in sync \(lu1 failed a write\)/);
  });

  it("leaves alone rows that fill no copied area: back onto the source, or onto an area of no mirror", () => {
    expect(switchRefusal(table(true), { volume: "v", extent_index: 0, lu_index: 0, area_index: 1 }, undefined)).toBeUndefined();
    expect(switchRefusal(table(false), onto(2), undefined)).toBeUndefined();
    expect(switchRefusal(table(true), onto(5), undefined)).toBeUndefined();
  });
});
