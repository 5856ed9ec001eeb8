// Goal: a device folder is created once, reopened with its data, LUs and
// store intact, lists its LUs in the store, counts used areas from volume
// extents and mirrors, and checks epochs on store writes, keys and copies.
// Method: real devices (small LUs) in temporary folders, removed after each test.
import fs from "node:fs";
import path from "node:path";
import type { StoreState } from "@switchyard/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StorageDevice } from "./storage-device.js";
import { openTestDevice, temporaryFolder, type TemporaryFolder } from "./testing.js";

const mebibyte = 1 << 20;
let folder: TemporaryFolder;
const opened: StorageDevice[] = [];

beforeEach(async () => {
  folder = await temporaryFolder();
});

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((device) => device.close()));
  await folder.remove();
});

async function open(overrides = {}): Promise<StorageDevice> {
  const device = await openTestDevice(folder.path, overrides);
  opened.push(device);
  return device;
}

async function closeAll(): Promise<void> {
  await Promise.all(opened.splice(0).map((device) => device.close()));
}

/** A state with one volume on lu0 areas 0-2, migrating extent 1 to lu1 area 5, plus a row on another device's LU. */
function stateWithVolume(device: StorageDevice): StoreState {
  const { state } = device.readStore();
  return {
    ...state,
    generation: 1,
    lus: [...state.lus, { index: 7, id: "lu0", device_id: "elsewhere", size_bytes: 16 * mebibyte, extent_size_bytes: mebibyte }],
    volumes: [{
      name: "v",
      size_bytes: 4 * mebibyte,
      extent_size_bytes: mebibyte,
      extents: {
        lu_index: [0, 0, 0, 7],
        area_index: [0, 1, 2, 3],
        mirror_lu_index_plus_one: [0, 2, 0, 0],
        mirror_area_index: [0, 5, 0, 0],
        mirror_watermark_bytes: [0, 4096, 0, 0],
      },
    }],
  };
}

describe("StorageDevice", () => {
  it("creates the folder's files, writing device.json last, and lists its LUs in the store", async () => {
    const device = await open();
    expect(device.created).toBe(true);
    expect(device.lus.map((lu) => lu.id)).toEqual(["lu0", "lu1"]);
    expect(fs.readdirSync(folder.path).sort()).toEqual(["device.json", "lu0.img", "lu1.img", "store.slots", "store.slots.log", "write-intent.slots"]);
    const description: unknown = JSON.parse(fs.readFileSync(path.join(folder.path, "device.json"), "utf8"));
    expect(description).toMatchObject({ deviceId: "test-device", extentSizeBytes: mebibyte, lus: [{ id: "lu0", file: "lu0.img", sizeBytes: 16 * mebibyte }, { id: "lu1" }] });
    expect(device.readStore().state.lus).toEqual([
      { index: 0, id: "lu0", device_id: "test-device", size_bytes: 16 * mebibyte, extent_size_bytes: mebibyte, nbd_uri: "", external: false },
      { index: 1, id: "lu1", device_id: "test-device", size_bytes: 16 * mebibyte, extent_size_bytes: mebibyte, nbd_uri: "", external: false },
    ]);
  });

  it("names its LUs with the prefix it is created with, so a second device's ids differ from the first's", async () => {
    const device = await open({ deviceId: "d2", luIdPrefix: "d2-" });
    expect(device.lus.map((lu) => lu.id)).toEqual(["d2-lu0", "d2-lu1"]);
    expect(fs.readdirSync(folder.path).filter((name) => name.endsWith(".img")).sort()).toEqual(["lu0.img", "lu1.img"]);
    expect(device.readStore().state.lus.map((lu) => [lu.index, lu.device_id, lu.id])).toEqual([[0, "d2", "d2-lu0"], [1, "d2", "d2-lu1"]]);
    await closeAll();
    const reopened = await open({ deviceId: "d2" });
    expect(reopened.lus.map((lu) => lu.id)).toEqual(["d2-lu0", "d2-lu1"]);
  });

  it("reopens with data and volumes intact, ignoring create parameters and saying so", async () => {
    const device = await open();
    await device.lu("lu1").write(3 * mebibyte, Buffer.alloc(4096, 0x42), true);
    const lease = await device.arbiter.acquire("controller", "", 1000, 0);
    await device.writeStore(stateWithVolume(device), device.readStore().sequence, lease.epoch);
    await closeAll();
    const reopened = await open({ luCount: 5, deviceId: "other" });
    expect(reopened.created).toBe(false);
    expect(reopened.openLog.join("\n")).toMatch(/create parameters ignored/);
    expect(reopened.id).toBe("test-device");
    expect(reopened.lus).toHaveLength(2);
    const into = Buffer.alloc(4096);
    await reopened.lu("lu1").read(3 * mebibyte, into);
    expect(into.every((byte) => byte === 0x42)).toBe(true);
    expect(reopened.readStore().state.volumes[0]?.extents?.area_index).toEqual([0, 1, 2, 3]);
    expect(reopened.arbiter.highestEpoch).toBe(1);
  });

  it("puts its LUs back in the store when a writer dropped them, after the others' indexes", async () => {
    const device = await open();
    const lease = await device.arbiter.acquire("controller", "", 1000, 0);
    const other = { index: 3, id: "lu0", device_id: "elsewhere", size_bytes: mebibyte, extent_size_bytes: mebibyte };
    await device.writeStore({ generation: 2, lus: [other] }, device.readStore().sequence, lease.epoch);
    await closeAll();
    const reopened = await open();
    expect(reopened.openLog.join("\n")).toMatch(/listed the LUs/);
    expect(reopened.readStore().state.lus.map((lu) => [lu.index, lu.device_id, lu.id])).toEqual([
      [3, "elsewhere", "lu0"], [4, "test-device", "lu0"], [5, "test-device", "lu1"],
    ]);
  });

  it("refuses a folder without device.json, whether empty or holding leftover files", async () => {
    await expect(StorageDevice.open({ dir: folder.path })).rejects.toMatchObject({ code: "NOT_FOUND" });
    fs.writeFileSync(path.join(folder.path, "lu0.img"), "precious");
    await expect(open()).rejects.toMatchObject({ code: "DEVICE_FOLDER_CONFLICT" });
    expect(fs.readFileSync(path.join(folder.path, "lu0.img"), "utf8")).toBe("precious");
  });

  it("validates create parameters", async () => {
    await expect(open({ luCount: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(open({ deviceId: "no spaces" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(open({ luIdPrefix: "d2" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(open({ luIdPrefix: "d2:" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(open({ extentSizeBytes: 3 * mebibyte })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(open({ luSizeBytes: 5 * mebibyte + 1 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(fs.readdirSync(folder.path)).toEqual([]);
  });

  it("refuses a damaged device.json", async () => {
    await open();
    await closeAll();
    fs.writeFileSync(path.join(folder.path, "device.json"), "{\"formatVersion\":1}");
    await expect(StorageDevice.open({ dir: folder.path })).rejects.toMatchObject({ code: "DEVICE_CORRUPT" });
  });

  it("counts areas used by volume extents and mirrors, per LU", async () => {
    const device = await open();
    expect(device.inventory().map((lu) => [lu.id, lu.areasTotal, lu.areasFree])).toEqual([["lu0", 16, 16], ["lu1", 16, 16]]);
    const lease = await device.arbiter.acquire("controller", "", 1000, 0);
    await device.writeStore(stateWithVolume(device), device.readStore().sequence, lease.epoch);
    expect(device.inventory()).toEqual([
      { id: "lu0", index: 0, sizeBytes: 16 * mebibyte, extentSizeBytes: mebibyte, areasTotal: 16, areasFree: 13, ioErrors: expect.objectContaining({ total: 0, lastErrorAtMs: 0 }) as unknown },
      { id: "lu1", index: 1, sizeBytes: 16 * mebibyte, extentSizeBytes: mebibyte, areasTotal: 16, areasFree: 15, ioErrors: expect.objectContaining({ total: 0, lastErrorAtMs: 0 }) as unknown },
    ]);
  });

  it("refuses store writes with a stale or never granted epoch, changing nothing", async () => {
    const device = await open();
    const before = device.readStore();
    await expect(device.writeStore({ generation: 5 }, before.sequence, 0)).rejects.toMatchObject({ code: "LEASE_NOT_HELD" });
    await device.arbiter.acquire("c1", "", 1000, 0);
    await device.arbiter.acquire("c2", "", 1000, 2000);
    await expect(device.writeStore({ generation: 5 }, before.sequence, 1)).rejects.toMatchObject({ code: "STALE_EPOCH", message: "stale epoch 1 < 2" });
    await expect(device.writeStore({ generation: 5 }, before.sequence, 3)).rejects.toMatchObject({ code: "LEASE_NOT_HELD" });
    expect(device.readStore()).toEqual(before);
    expect(await device.writeStore({ ...before.state, generation: 5 }, before.sequence, 2)).toBe(before.sequence + 1);
  });

  it("refuses a store write whose epoch went stale while it waited its turn", async () => {
    const device = await open();
    const lease = await device.arbiter.acquire("c1", "", 1000, 0);
    const { state, sequence } = device.readStore();
    // Both pass the check on the call, then wait for their turn in the write queue.
    const writes = Promise.allSettled([
      device.writeStore({ ...state, generation: 1 }, sequence, lease.epoch),
      device.writeStore({ ...state, generation: 2 }, sequence + 1, lease.epoch),
    ]);
    const granted = device.arbiter.acquire("c2", "", 1000, 5000);
    expect(await writes).toMatchObject([
      { status: "rejected", reason: { code: "STALE_EPOCH" } },
      { status: "rejected", reason: { code: "STALE_EPOCH" } },
    ]);
    expect(await granted).toMatchObject({ epoch: 2 });
    expect(device.readStore().sequence).toBe(sequence);
  });

  it("registers and fences apparatus keys, under the current epoch only", async () => {
    const device = await open();
    expect(() => { device.registerKey("a1", "key-1", 1); }).toThrow(expect.objectContaining({ code: "LEASE_NOT_HELD" }));
    const { epoch } = await device.arbiter.acquire("c1", "", 1000, 0);
    device.registerKey("a1", "key-1", epoch);
    device.registerKey("a2", "key-2", epoch);
    expect(() => { device.registerKey("a3", "key-1", epoch); }).toThrow(/already registered by apparatus a1/);
    expect([device.isAllowed("key-1"), device.isAllowed("key-2"), device.isAllowed("key-3")]).toEqual([true, true, false]);
    device.fence("a1", epoch);
    expect(device.isAllowed("key-1")).toBe(false);
    device.registerKey("a1", "key-1b", epoch);
    expect(device.isAllowed("key-1b")).toBe(true);
    await device.arbiter.acquire("c2", "", 1000, 5000);
    expect(() => { device.fence("a2", epoch); }).toThrow(expect.objectContaining({ code: "STALE_EPOCH" }));
    expect(device.isAllowed("key-2")).toBe(true);
  });

  it("keeps registrations and fences across a restart once saved, and refuses a corrupt registrations file", async () => {
    const device = await open();
    const { epoch } = await device.arbiter.acquire("c1", "", 1000, 0);
    device.registerKey("a1", "key-1", epoch);
    device.registerKey("a2", "key-2", epoch);
    device.fence("a2", epoch);
    await device.saveRegistrations();
    await closeAll();
    const again = await open();
    expect(again.registrationStatus("a1", "key-1")).toBe("granted");
    expect(again.registrationStatus("a2", "key-2")).toBe("fenced");
    expect(again.ioRefusal("a2", "key-2")).toMatch(/fenced/);
    expect(again.ioRefusal("a1", "key-1")).toBeUndefined();
    expect(again.ioRefusal("a1", "key-0")).toMatch(/replaced/);
    // Issue 19 fencing gap: an id no controller registered was let through.
    expect(again.ioRefusal("a9", "key-9")).toMatch(/no registration/);
    await closeAll();
    await fs.promises.writeFile(path.join(folder.path, "registrations.json"), "{\"keys\": 3}");
    await expect(open()).rejects.toMatchObject({ code: "DEVICE_CORRUPT" });
  });

  it("publishes its NBD address in the store's LU list", async () => {
    const device = await open();
    const sequence = device.readStore().sequence;
    await device.publishNbdAddress("127.0.0.1:10809");
    expect(device.readStore().state.lus.map((lu) => lu.nbd_uri)).toEqual(["nbd://127.0.0.1:10809/lu0", "nbd://127.0.0.1:10809/lu1"]);
    await device.publishNbdAddress("127.0.0.1:10809");
    expect(device.readStore().sequence).toBe(sequence + 1);
  });

  it("flushes every LU", async () => {
    const device = await open();
    await device.lu("lu0").write(0, Buffer.alloc(4096, 1), false);
    await device.flushAll();
    expect(() => device.lu("nope")).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
  });
});
