// Goal: the configuration-management loop of one apparatus follows the change
// protocol (claims 1-4, 13): Hold drains only what was admitted before it and
// holds only its ranges, Apply switches faces without running held I/O,
// Release runs held I/O through the new mapping and brings the old face up
// to date, Abort restores the old mapping, and bad or stale messages are
// refused with nothing changed. Method: an apparatus over in-memory LUs whose
// I/O a test can keep in flight; bytes checked in the LUs.
import { describe, expect, it } from "vitest";
import type { DifferenceTable__Output, HoldRequest__Output } from "@switchyard/proto";
import { VirtualizationApparatus } from "./apparatus.js";
import { MemoryLu, memoryBackends, oneVolumeTable, opening } from "./testing.js";

const extentSizeBytes = 1 << 20;
const luSizeBytes = 8 * extentSizeBytes;

async function setup(): Promise<{ apparatus: VirtualizationApparatus; lus: MemoryLu[] }> {
  const lus = [new MemoryLu(luSizeBytes), new MemoryLu(luSizeBytes)];
  const apparatus = new VirtualizationApparatus({ id: "a", backends: memoryBackends(lus) });
  // Volume v: extent 0 on lu0 area 0, extent 1 on lu0 area 1.
  await apparatus.loadTable(1, oneVolumeTable(1, 2, luSizeBytes, extentSizeBytes, "v", [0, 0], [0, 1]));
  return { apparatus, lus };
}

function holdExtent0(overrides: Partial<HoldRequest__Output> = {}): HoldRequest__Output {
  return {
    change_id: "c1",
    epoch: 1,
    base_generation: 1,
    ranges: [{ volume: "v", offset_bytes: 0, length_bytes: extentSizeBytes }],
    mode: "HOLD_MODE_WRITES",
    ...overrides,
  };
}

/** Moves extent 0 of v to lu1 area 4. */
function moveExtent0(overrides: Partial<DifferenceTable__Output> = {}): DifferenceTable__Output {
  const row = { volume: "v", extent_index: 0, lu_index: 1, area_index: 4, mirror_lu_index_plus_one: 0, mirror_area_index: 0, mirror_watermark_bytes: 0 };
  return { base_generation: 1, generation: 2, shapes: [], rows: [row], lus_added: [], ...overrides };
}

const lu1Area4 = 4 * extentSizeBytes;

describe("change protocol on one apparatus", () => {
  it("reports drained only after the I/O admitted before the hold has finished", async () => {
    const { apparatus, lus } = await setup();
    const gate = opening();
    (lus[0] as MemoryLu).gate = gate.promise;
    const inFlight = apparatus.io.write("v", 0, Buffer.alloc(512, 1), false);
    let drained = false;
    const report = apparatus.hold(holdExtent0()).then((value) => {
      drained = true;
      return value;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drained).toBe(false);
    gate.open();
    await inFlight;
    expect((await report).drained_requests).toBe(1);
  });

  it("keeps held writes out until Release, then runs them through the new face", async () => {
    const { apparatus, lus } = await setup();
    await apparatus.hold(holdExtent0());
    let written = false;
    const held = apparatus.io.write("v", 0, Buffer.alloc(512, 0x77), false).then(() => {
      written = true;
    });
    // Outside the held range, and reads inside it (writes-only hold), go on.
    await apparatus.io.write("v", extentSizeBytes, Buffer.alloc(512, 0x22), false);
    await apparatus.io.read("v", 0, Buffer.alloc(512));
    expect(apparatus.state().status).toBe("APPARATUS_STATUS_HELD");
    expect(apparatus.state().holds?.[0]?.held_requests).toBe(1);
    await apparatus.apply({ change_id: "c1", epoch: 1, diff: moveExtent0() });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(written).toBe(false);
    expect(apparatus.release({ change_id: "c1", epoch: 1 }).released_requests).toBe(1);
    await held;
    expect(lus[1]?.bytes[lu1Area4]).toBe(0x77);
    expect(lus[0]?.bytes[0]).toBe(0);
    expect(lus[0]?.bytes[extentSizeBytes]).toBe(0x22);
    // The old face caught up: both faces map extent 0 to lu1 area 4.
    expect(apparatus.faces.standby.volumes.get("v")?.areaIndex[0]).toBe(4);
    expect(apparatus.faces.standby.generation).toBe(2);
    expect(apparatus.state().status).toBe("APPARATUS_STATUS_SERVING");
  });

  it("holds nothing under HOLD_MODE_NONE, and answers Apply once the old face's requests have ended", async () => {
    const { apparatus, lus } = await setup();
    const gate = opening();
    (lus[0] as MemoryLu).gate = gate.promise;
    const oldFace = apparatus.io.write("v", 0, Buffer.alloc(512, 0x41), false);
    const report = await apparatus.hold(holdExtent0({ mode: "HOLD_MODE_NONE" }));
    // No drain at Hold, no gate: the write in flight is not waited for, and writes go on.
    expect(report.drained_requests).toBe(0);
    expect(apparatus.io.gate.empty).toBe(true);
    expect(apparatus.state().status).toBe("APPARATUS_STATUS_SERVING");
    let applied = false;
    const apply = apparatus.apply({ change_id: "c1", epoch: 1, diff: moveExtent0() }).then((value) => {
      applied = true;
      return value;
    });
    // Flipped at once: a write admitted now goes through the new face and is not held.
    await apparatus.io.write("v", 512, Buffer.alloc(512, 0x42), false);
    expect(lus[1]?.bytes[lu1Area4 + 512]).toBe(0x42);
    // A repeated Apply while it drains is the same answer, not a second flip.
    const repeated = apparatus.apply({ change_id: "c1", epoch: 1, diff: moveExtent0() });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(applied).toBe(false);
    gate.open();
    await oldFace;
    expect(await apply).toEqual(await repeated);
    expect(apparatus.generation).toBe(2);
    expect(lus[0]?.bytes[0]).toBe(0x41);
    expect(apparatus.release({ change_id: "c1", epoch: 1 }).released_requests).toBe(0);
    expect(apparatus.faces.standby.volumes.get("v")?.areaIndex[0]).toBe(4);
  });

  it("holds reads too under an all-I/O hold", async () => {
    const { apparatus } = await setup();
    await apparatus.hold(holdExtent0({ mode: "HOLD_MODE_ALL" }));
    let read = false;
    const pending = apparatus.io.read("v", 0, Buffer.alloc(16)).then(() => {
      read = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(read).toBe(false);
    apparatus.release({ change_id: "c1", epoch: 1 });
    await pending;
    expect(read).toBe(true);
  });

  it("answers repeated messages as before", async () => {
    const { apparatus } = await setup();
    const first = await apparatus.hold(holdExtent0());
    expect(await apparatus.hold(holdExtent0())).toEqual(first);
    const applied = await apparatus.apply({ change_id: "c1", epoch: 1, diff: moveExtent0() });
    expect(await apparatus.apply({ change_id: "c1", epoch: 1, diff: moveExtent0() })).toEqual(applied);
    const released = apparatus.release({ change_id: "c1", epoch: 1 });
    expect(apparatus.release({ change_id: "c1", epoch: 1 })).toEqual(released);
    expect(apparatus.generation).toBe(2);
  });

  it("aborts after Apply back to the old mapping, and takes the next change cleanly", async () => {
    const { apparatus, lus } = await setup();
    await apparatus.hold(holdExtent0());
    const held = apparatus.io.write("v", 0, Buffer.alloc(512, 0x33), false);
    await apparatus.apply({ change_id: "c1", epoch: 1, diff: moveExtent0() });
    apparatus.abort({ change_id: "c1", epoch: 1 });
    // Flipped back but still holding: writes wait for Release, so no apparatus still reading the new area can miss them.
    expect(apparatus.generation).toBe(1);
    expect(apparatus.io.gate.empty).toBe(false);
    await expect(apparatus.apply({ change_id: "c1", epoch: 1, diff: moveExtent0() })).rejects.toThrow(/was aborted/);
    expect(lus[0]?.bytes[0]).toBe(0);
    expect(apparatus.release({ change_id: "c1", epoch: 1 })).toMatchObject({ released_requests: 1 });
    await held;
    expect(apparatus.generation).toBe(1);
    expect(lus[0]?.bytes[0]).toBe(0x33);
    expect(lus[1]?.bytes[lu1Area4]).toBe(0);
    expect(apparatus.faces.standby.volumes.get("v")?.areaIndex[0]).toBe(0);
    await apparatus.hold(holdExtent0({ change_id: "c2" }));
    await apparatus.apply({ change_id: "c2", epoch: 1, diff: moveExtent0() });
    apparatus.release({ change_id: "c2", epoch: 1 });
    expect(apparatus.faces.active.volumes.get("v")?.luIndex[0]).toBe(1);
  });

  it("refuses a Hold that reuses the id of a finished change", async () => {
    const { apparatus } = await setup();
    await apparatus.hold(holdExtent0());
    apparatus.release({ change_id: "c1", epoch: 1 });
    await expect(apparatus.hold(holdExtent0())).rejects.toMatchObject({ code: "CHANGE_IN_PROGRESS", message: expect.stringMatching(/already released/) as string });
    expect(apparatus.io.gate.empty).toBe(true);
  });

  it("refuses stale epochs and wrong generations with nothing changed", async () => {
    const { apparatus } = await setup();
    await apparatus.loadTable(5, oneVolumeTable(1, 2, luSizeBytes, extentSizeBytes, "v", [0, 0], [0, 1]));
    await expect(apparatus.hold(holdExtent0({ epoch: 4 }))).rejects.toMatchObject({ code: "STALE_EPOCH" });
    await expect(apparatus.hold(holdExtent0({ epoch: 5, base_generation: 7 }))).rejects.toMatchObject({ code: "WRONG_GENERATION" });
    expect(apparatus.io.gate.empty).toBe(true);
    await apparatus.hold(holdExtent0({ epoch: 5 }));
    await expect(apparatus.apply({ change_id: "c1", epoch: 5, diff: moveExtent0({ base_generation: 3, generation: 4 }) })).rejects.toMatchObject({ code: "WRONG_GENERATION" });
    await expect(apparatus.apply({ change_id: "other", epoch: 5, diff: moveExtent0() })).rejects.toThrow(/pending change is c1/);
    expect(apparatus.generation).toBe(1);
  });

  it.each([
    ["a row past the volume's end", moveExtent0({ rows: [{ volume: "v", extent_index: 9, lu_index: 1, area_index: 0, mirror_lu_index_plus_one: 0, mirror_area_index: 0, mirror_watermark_bytes: 0 }] })],
    ["a row for an unknown LU", moveExtent0({ rows: [{ volume: "v", extent_index: 0, lu_index: 7, area_index: 0, mirror_lu_index_plus_one: 0, mirror_area_index: 0, mirror_watermark_bytes: 0 }] })],
    ["two rows for one extent", moveExtent0({ rows: [...moveExtent0().rows, ...moveExtent0().rows] })],
    ["a grown volume without rows for its new extents", moveExtent0({ shapes: [{ name: "v", size_bytes: 3 * extentSizeBytes, extent_size_bytes: extentSizeBytes, extent_count: 3, deleted: false }] })],
    ["a generation that does not follow", moveExtent0({ generation: 5 })],
  ])("refuses a diff with %s and changes nothing", async (_what, diff) => {
    const { apparatus } = await setup();
    await apparatus.hold(holdExtent0());
    await expect(apparatus.apply({ change_id: "c1", epoch: 1, diff })).rejects.toMatchObject({ code: "INVALID_DIFF" });
    expect(apparatus.generation).toBe(1);
    expect(apparatus.faces.standby.volumes.get("v")?.luIndex[0]).toBe(0);
    expect(apparatus.faces.standby.generation).toBe(1);
  });

  it("refuses holds on unknown volumes and holds without ranges", async () => {
    const { apparatus } = await setup();
    await expect(apparatus.hold(holdExtent0({ ranges: [] }))).rejects.toMatchObject({ code: "INVALID_HOLD" });
    await expect(apparatus.hold(holdExtent0({ ranges: [{ volume: "nope", offset_bytes: 0, length_bytes: 1 }] }))).rejects.toMatchObject({
      code: "INVALID_HOLD",
    });
    expect(apparatus.io.gate.empty).toBe(true);
  });
});
