// Goal: registering an external device checks everything before the store
// changes (names, duplicates, limits, size against areas), LUs are found
// by every name the console accepts, automatic allocation leaves external
// LUs alone, a move between external devices is streamed, and a device is removed only when nothing uses it. Method: store states in memory; the server's answer is given as data.
import { describe, expect, it } from "vitest";
import type { LogicalUnit__Output, StoreState__Output } from "@switchyard/proto";
import { allocateAreas } from "./allocation.js";
import { checkRegistration, checkRemoval, externalDevicesMax, findLu, planExternalDevice } from "./external-devices.js";
import { removeExternalDevice } from "./external-registration.js";

const mebibyte = 1024 * 1024;
const externalUri = "nbd://127.0.0.1:10900/disk";

function lu(index: number, id: string, deviceId: string, external = false): LogicalUnit__Output {
  return { index, id, device_id: deviceId, size_bytes: 8 * mebibyte, extent_size_bytes: mebibyte, nbd_uri: external ? externalUri : `nbd://127.0.0.1:1/${id}`, external };
}

function state(lus: LogicalUnit__Output[] = [lu(0, "lu0", "dev0"), lu(1, "lu1", "dev0")]): StoreState__Output {
  return {
    generation: 3,
    lus,
    volumes: [{ name: "v", size_bytes: 2 * mebibyte, extent_size_bytes: mebibyte, extents: { lu_index: [0, 0], area_index: [0, 1], mirror_lu_index_plus_one: [], mirror_area_index: [], mirror_watermark_bytes: [] } }],
    journal: [],
    copy_progress: [],
    external_devices: lus.filter((entry) => entry.external).map((entry) => ({ id: entry.device_id, nbd_uri: entry.nbd_uri })),
    apparatuses: [],
    fenced_by_operator: [],
  };
}

const withExternal = (): StoreState__Output => state([lu(0, "lu0", "dev0"), lu(1, "lu1", "dev0"), lu(2, "ext1:disk", "ext1", true)]);

describe("registering an external device", () => {
  const registration = { name: "ext1", nbdUri: externalUri, extentSizeBytes: 0 };

  it("adds one external LU at the next index, cut into the cluster's areas", () => {
    const current = state();
    checkRegistration(current, registration);
    const { lu: added, device } = planExternalDevice(current, registration, { sizeBytes: 16 * mebibyte, readOnly: false, exportName: "disk" });
    expect(added).toEqual({ index: 2, id: "ext1:disk", device_id: "ext1", size_bytes: 16 * mebibyte, extent_size_bytes: mebibyte, nbd_uri: externalUri, external: true });
    expect(device).toEqual({ id: "ext1", nbd_uri: externalUri });
    const unnamed = { ...registration, nbdUri: "nbd://127.0.0.1:10900" };
    checkRegistration(current, unnamed);
    expect(planExternalDevice(current, unnamed, { sizeBytes: mebibyte, readOnly: false, exportName: "" }).lu.id).toBe("ext1:default");
  });

  it("refuses names and URIs taken, and more devices than the limit", () => {
    expect(() => { checkRegistration(withExternal(), registration); }).toThrow(/a device or LU named ext1 exists already/);
    expect(() => { checkRegistration(withExternal(), { ...registration, name: "lu0" }); }).toThrow(/exists already/);
    expect(() => { checkRegistration(withExternal(), { ...registration, name: "ext2" }); }).toThrow(/is registered already, as device ext1/);
    expect(() => { checkRegistration(state(), { ...registration, name: "a:b" }); }).toThrow(/device name "a:b" must be/);
    const full = state();
    full.external_devices = Array.from({ length: externalDevicesMax }, (_, index) => ({ id: `x${index}`, nbd_uri: `nbd://h:1/${index}` }));
    expect(() => { checkRegistration(full, registration); }).toThrow(new RegExp(`already has ${externalDevicesMax} external devices`));
  });

  it("refuses an export that is read-only or not a whole number of areas", () => {
    const current = state();
    checkRegistration(current, registration);
    expect(() => planExternalDevice(current, registration, { sizeBytes: 16 * mebibyte, readOnly: true, exportName: "disk" })).toThrow(/is read-only/);
    expect(() => planExternalDevice(current, registration, { sizeBytes: 16 * mebibyte + 512, readOnly: false, exportName: "disk" })).toThrow(/not a whole number of 1048576-byte areas/);
    expect(() => planExternalDevice(current, registration, { sizeBytes: 512 * 1024, readOnly: false, exportName: "disk" })).toThrow(/not a whole number/);
    expect(() => planExternalDevice(current, { ...registration, extentSizeBytes: 1000 }, { sizeBytes: 16 * mebibyte, readOnly: false, exportName: "disk" })).toThrow(/not a multiple of 512/);
  });
});

describe("LUs by name", () => {
  it("finds an LU by id, by DEVICE:LU, and by a device with one LU", () => {
    const current = withExternal();
    expect(findLu(current, "lu1")?.index).toBe(1);
    expect(findLu(current, "dev0:lu1")?.index).toBe(1);
    expect(findLu(current, "ext1:disk")?.index).toBe(2);
    expect(findLu(current, "ext1")?.index).toBe(2);
    // dev0 has two LUs: its name alone says not which.
    expect(findLu(current, "dev0")).toBeUndefined();
    expect(findLu(current, "nosuch:lu0")).toBeUndefined();
  });

  it("allocates new areas on the devices' own LUs only", () => {
    const areas = allocateAreas(withExternal(), 14);
    expect(new Set(areas.map((area) => area.luIndex))).toEqual(new Set([0, 1]));
    expect(() => allocateAreas(withExternal(), 15)).toThrow(/needs 15 free areas/);
  });
});

describe("checkRemoval", () => {
  /** withExternal, with extent `row` of v on ext1:disk (its LU index 2), or mirrored there. */
  const onExternal = (how: "lives" | "mirrors"): StoreState__Output => {
    const base = withExternal();
    const [volume] = base.volumes;
    if (volume?.extents == null) throw new Error("no volume");
    const extents = how === "lives"
      ? { ...volume.extents, lu_index: [0, 2], area_index: [0, 0] }
      : { ...volume.extents, mirror_lu_index_plus_one: [0, 3], mirror_area_index: [0, 0], mirror_watermark_bytes: [0, 0] };
    return { ...base, volumes: [{ ...volume, extents }] };
  };

  it("removes an unused external device, its LU and its row, a generation up", () => {
    const before = withExternal();
    expect(checkRemoval(before, "ext1").map((entry) => entry.id)).toEqual(["ext1:disk"]);
    const { state: after, device } = removeExternalDevice(before, "ext1");
    expect(device.id).toBe("ext1");
    expect(device.nbd_uri).toBe(externalUri);
    expect(after.generation).toBe(before.generation + 1);
    expect(after.lus?.map((entry) => entry.id)).toEqual(["lu0", "lu1"]);
    expect(after.external_devices).toEqual([]);
  });

  it.each([
    ["ext2", /^no external device ext2; external devices are ext1$/],
    ["dev0", /dev0 is the Switchyard device, not an external one/],
    ["bad name!", /device name "bad name!" must be/],
  ])("refuses %s", (name, message) => {
    expect(() => checkRemoval(withExternal(), name)).toThrow(message);
  });

  it("says there are none when no external device is registered", () => {
    expect(() => checkRemoval(state(), "ext1")).toThrow(/no external device ext1; none is registered/);
  });

  it.each([["lives" as const], ["mirrors" as const]])("refuses while an extent %s on it, naming the volume", (how) => {
    expect(() => checkRemoval(onExternal(how), "ext1")).toThrow(/device ext1 still holds extents of volume v \(1\); move them off first, e\.g\. 'switchyard migrate v --to LU'/);
  });

  it("refuses while a running migration moves extents onto it, and not once it ended", () => {
    const migration = { change_id: "migrate-3-abc", kind: "migrate", state: "CHANGE_STATE_RUNNING" as const, target_lu_id: "ext1:disk" };
    const running = { ...withExternal(), journal: [migration as StoreState__Output["journal"][number]] };
    expect(() => checkRemoval(running, "ext1")).toThrow(/migration migrate-3-abc is moving extents onto ext1:disk; wait for it or 'switchyard migrate cancel migrate-3-abc'/);
    const ended = { ...running, journal: [{ ...migration, state: "CHANGE_STATE_COMMITTED" } as StoreState__Output["journal"][number]] };
    expect(checkRemoval(ended, "ext1")).toHaveLength(1);
  });
});
