// Goal: each planted bug added for the conformance suite does the one wrong
// thing its name says and nothing else, so that a suite failing against it
// proves the suite checks that behaviour. Method: an apparatus over
// in-memory LUs with the fault's behaviour, driven like change-protocol.test.ts.
import { describe, expect, it } from "vitest";
import { registrationKeyDigest, type DifferenceTable__Output, type HoldRequest__Output } from "@switchyard/proto";
import { VirtualizationApparatus } from "../apparatus.js";
import { apparatusBehaviourDefault } from "../apparatus-behaviour.js";
import { ApparatusError } from "../errors.js";
import { MemoryLu, memoryBackends, oneVolumeTable } from "../testing.js";
import { apparatusFaultBehaviours, type ApparatusFault } from "./apparatus-faults.js";

const extentSizeBytes = 1 << 20;
const luSizeBytes = 8 * extentSizeBytes;
/** Held I/O is watched this long to see that it stays held. */
const heldWindowMs = 20;

async function setup(fault: ApparatusFault): Promise<{ apparatus: VirtualizationApparatus; lus: MemoryLu[] }> {
  const lus = [new MemoryLu(luSizeBytes), new MemoryLu(luSizeBytes)];
  const apparatus = new VirtualizationApparatus({ id: "a", backends: memoryBackends(lus), behaviour: apparatusFaultBehaviours[fault] });
  // Volume v: extents 0 and 1 on lu0 areas 0 and 1.
  await apparatus.loadTable(2, oneVolumeTable(1, 2, luSizeBytes, extentSizeBytes, "v", [0, 0], [0, 1]));
  return { apparatus, lus };
}

const holdExtent0: HoldRequest__Output = {
  change_id: "c1",
  epoch: 2,
  base_generation: 1,
  ranges: [{ volume: "v", offset_bytes: 0, length_bytes: extentSizeBytes }],
  mode: "HOLD_MODE_ALL",
};

/** Moves extent 0 of v to lu1 area 4. */
const moveExtent0: DifferenceTable__Output = {
  base_generation: 1,
  generation: 2,
  shapes: [],
  rows: [{ volume: "v", extent_index: 0, lu_index: 1, area_index: 4, mirror_lu_index_plus_one: 0, mirror_area_index: 0, mirror_watermark_bytes: 0 }],
  lus_added: [],
};

function settledWithin(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  return Promise.race([work.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => { resolve(false); }, timeoutMs))]);
}

describe("planted apparatus bugs", () => {
  it("release-early lets held I/O run at Apply, through the new face", async () => {
    const { apparatus, lus } = await setup("release-early");
    await apparatus.hold(holdExtent0);
    const held = apparatus.io.write("v", 0, Buffer.alloc(512, 0x55), false);
    expect(await settledWithin(held, heldWindowMs)).toBe(false);
    await apparatus.apply({ change_id: "c1", epoch: 2, diff: moveExtent0 });
    expect(await settledWithin(held, heldWindowMs)).toBe(true);
    expect(lus[1]?.bytes[4 * extentSizeBytes]).toBe(0x55);
  });

  it("hold-whole-volume holds I/O outside the asked range", async () => {
    const { apparatus } = await setup("hold-whole-volume");
    await apparatus.hold(holdExtent0);
    const outside = apparatus.io.write("v", extentSizeBytes, Buffer.alloc(512, 1), false);
    expect(await settledWithin(outside, heldWindowMs)).toBe(false);
    apparatus.release({ change_id: "c1", epoch: 2 });
    await outside;
  });

  it("accept-stale-epoch obeys a stale epoch but keeps the highest seen", async () => {
    const { apparatus } = await setup("accept-stale-epoch");
    await apparatus.hold({ ...holdExtent0, epoch: 1 });
    expect(apparatus.state().pending_change_id).toBe("c1");
    expect(apparatus.state().epoch_seen).toBe(2);
  });

  it("apply-whole-table loses the rows and volumes the diff does not name, and still refuses a malformed diff", async () => {
    const lus = [new MemoryLu(luSizeBytes), new MemoryLu(luSizeBytes)];
    const apparatus = new VirtualizationApparatus({ id: "a", backends: memoryBackends(lus), behaviour: apparatusFaultBehaviours["apply-whole-table"] });
    const table = oneVolumeTable(1, 2, luSizeBytes, extentSizeBytes, "v", [0, 0], [2, 3]);
    const other = { ...table.volumes[0], name: "w" } as (typeof table.volumes)[number];
    await apparatus.loadTable(2, { ...table, volumes: [...table.volumes, other] });
    await apparatus.hold(holdExtent0);
    await expect(apparatus.apply({ change_id: "c1", epoch: 2, diff: { ...moveExtent0, generation: 3 } })).rejects.toThrow(ApparatusError);
    await apparatus.apply({ change_id: "c1", epoch: 2, diff: moveExtent0 });
    const map = apparatus.faces.active.volumes.get("v");
    expect(map?.areaIndex[1]).toBe(0);
    expect(apparatus.faces.active.volumes.has("w")).toBe(false);
  });

  it("hold-forever keeps held I/O waiting past the deadline; open-control asks serve.ts not to check callers, any-apparatus-commands not their epochs", async () => {
    const lus = [new MemoryLu(luSizeBytes), new MemoryLu(luSizeBytes)];
    const behaviour = apparatusFaultBehaviours["hold-forever"];
    const apparatus = new VirtualizationApparatus({ id: "a", backends: memoryBackends(lus), behaviour, holdDeadlineMs: 1 });
    await apparatus.loadTable(2, oneVolumeTable(1, 2, luSizeBytes, extentSizeBytes, "v", [0, 0], [0, 1]));
    await apparatus.hold(holdExtent0);
    const held = apparatus.io.write("v", 0, Buffer.alloc(512, 1), false);
    expect(await settledWithin(held, heldWindowMs)).toBe(false);
    expect(apparatus.state().status).toBe("APPARATUS_STATUS_HELD");
    apparatus.release({ change_id: "c1", epoch: 2 });
    await held;
    expect(new VirtualizationApparatus({ id: "b", backends: memoryBackends(lus), behaviour: apparatusFaultBehaviours["open-control"] }).checksCallers).toBe(false);
    const anyCommands = new VirtualizationApparatus({ id: "c", backends: memoryBackends(lus), behaviour: apparatusFaultBehaviours["any-apparatus-commands"] });
    expect([anyCommands.checksCallers, anyCommands.checksEpochHolders]).toEqual([true, false]);
    expect(apparatus.checksCallers).toBe(true);
  });

  it("wrap-large-integers lets integers past 2^53 - 1 through, each kept modulo 2^53; the default refuses them", () => {
    const lus = [new MemoryLu(luSizeBytes)];
    const wrapping = new VirtualizationApparatus({ id: "a", backends: memoryBackends(lus), behaviour: apparatusFaultBehaviours["wrap-large-integers"] });
    const request = { epoch: 2 ** 64, table: { generation: 2 ** 53, lus: [{ size_bytes: 2 ** 53 + 2 }] }, ranges: [{ offset_bytes: 5, length_bytes: 2 ** 60 }] };
    expect(wrapping.integerRefusal(request)).toBeUndefined();
    expect(request).toEqual({ epoch: 0, table: { generation: 0, lus: [{ size_bytes: 2 }] }, ranges: [{ offset_bytes: 5, length_bytes: 0 }] });
    const correct = new VirtualizationApparatus({ id: "b", backends: memoryBackends(lus) });
    expect(correct.integerRefusal({ epoch: 2 ** 64 })).toMatch(/epoch = .* is out of range/);
    expect(correct.integerRefusal({ epoch: 2 ** 53 - 1 })).toBeUndefined();
  });

  it("unscreened-integers refuses no integer, so an epoch at the uint64 limit is obeyed and outranks every real one", async () => {
    const { apparatus } = await setup("unscreened-integers");
    const epoch = 2 ** 64;
    expect(apparatus.integerRefusal({ epoch })).toBeUndefined();
    await apparatus.hold({ ...holdExtent0, epoch });
    expect(apparatus.state().epoch_seen).toBe(epoch);
    expect(() => apparatus.release({ change_id: "c1", epoch: 2 })).toThrow(ApparatusError);
  });

  it("state-shows-key names the registration by the key itself; the default by its SHA-256", () => {
    expect(apparatusFaultBehaviours["state-shows-key"].registrationInState("secret")).toBe("secret");
    expect(apparatusBehaviourDefault.registrationInState("secret")).toBe(registrationKeyDigest("secret"));
    expect(apparatusBehaviourDefault.registrationInState("")).toBe("");
  });
});
