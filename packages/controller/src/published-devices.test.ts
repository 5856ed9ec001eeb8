// Goal: the devices published in etcd's directory come into the table as
// the issue asks (several devices on one prefix): a joining device's LUs
// are appended at fresh indexes, every device's LUs keep the NBD URI of its
// last published address, nothing changes when the table already agrees,
// and a conflict (an LU id another device holds, an external device's
// name) is said and left alone. Then the runner: a cheap read each time, a
// whole write only when something changes, each warning said once.
// Method: store states and records in memory; the runner over fake ports.
import { describe, expect, it } from "vitest";
import type { LogicalUnit__Output, StoreState, StoreState__Output } from "@switchyard/proto";
import type { DeviceRecord } from "@switchyard/coordination";
import { PublishedDevices, planPublishedDevices } from "./published-devices.js";

const mebibyte = 1024 * 1024;

function lu(index: number, id: string, deviceId: string, nbdUri: string, external = false): LogicalUnit__Output {
  return { index, id, device_id: deviceId, size_bytes: 8 * mebibyte, extent_size_bytes: mebibyte, nbd_uri: nbdUri, external };
}

/** The table as the first device seeded it: dev0's lu0 and lu1 at 127.0.0.1:1, and an external device at index 2. */
function seeded(): StoreState__Output {
  const lus = [lu(0, "lu0", "dev0", "nbd://127.0.0.1:1/lu0"), lu(1, "lu1", "dev0", "nbd://127.0.0.1:1/lu1"), lu(2, "ext1:disk", "ext1", "nbd://10.0.0.9:10809/disk", true)];
  return {
    generation: 5, lus, volumes: [], journal: [], copy_progress: [],
    external_devices: [{ id: "ext1", nbd_uri: "nbd://10.0.0.9:10809/disk" }], apparatuses: [], fenced_by_operator: [],
  };
}

function device(id: string, nbd: string, luIds: readonly string[]): DeviceRecord {
  return { id, grpc: `${nbd.split(":")[0] ?? ""}:50051`, nbd, lus: luIds.map((luId) => ({ id: luId, sizeBytes: 8 * mebibyte, extentSizeBytes: mebibyte })) };
}

describe("planning the published devices into the table", () => {
  it("appends a joining device's LUs at the next indexes with its published URIs, a generation up", () => {
    const plan = planPublishedDevices(seeded(), [device("dev0", "127.0.0.1:1", ["lu0", "lu1"]), device("d2", "127.0.0.1:7", ["d2-lu0", "d2-lu1"])]);
    expect(plan.warnings).toEqual([]);
    expect(plan.state?.generation).toBe(6);
    expect(plan.state?.lus?.map((entry) => [entry.index, entry.id, entry.device_id, entry.nbd_uri, entry.external])).toEqual([
      [0, "lu0", "dev0", "nbd://127.0.0.1:1/lu0", false],
      [1, "lu1", "dev0", "nbd://127.0.0.1:1/lu1", false],
      [2, "ext1:disk", "ext1", "nbd://10.0.0.9:10809/disk", true],
      [3, "d2-lu0", "d2", "nbd://127.0.0.1:7/d2-lu0", false],
      [4, "d2-lu1", "d2", "nbd://127.0.0.1:7/d2-lu1", false],
    ]);
    expect(plan.state?.lus?.[3]).toMatchObject({ size_bytes: 8 * mebibyte, extent_size_bytes: mebibyte });
  });

  it("changes nothing when the table already says what the records say, nor for a record that lists no LUs", () => {
    const first = planPublishedDevices(seeded(), [device("dev0", "127.0.0.1:1", ["lu0", "lu1"]), device("d2", "127.0.0.1:7", ["d2-lu0"])]);
    const written = first.state as StoreState__Output;
    expect(planPublishedDevices(written, [device("dev0", "127.0.0.1:1", []), device("d2", "127.0.0.1:7", ["d2-lu0"])])).toEqual({ state: undefined, warnings: [] });
    expect(planPublishedDevices(seeded(), [])).toEqual({ state: undefined, warnings: [] });
  });

  it("moves a restarted device's URIs to the address it published last, LUs listed or not, and never an external device's", () => {
    const plan = planPublishedDevices(seeded(), [device("dev0", "192.0.2.5:10811", [])]);
    expect(plan.state?.lus?.map((entry) => entry.nbd_uri)).toEqual([
      "nbd://192.0.2.5:10811/lu0", "nbd://192.0.2.5:10811/lu1", "nbd://10.0.0.9:10809/disk",
    ]);
    expect(plan.state?.lus?.map((entry) => entry.index)).toEqual([0, 1, 2]);
  });

  it("leaves out an LU id another device holds and a device named as an external one, and says so", () => {
    const plan = planPublishedDevices(seeded(), [device("d2", "127.0.0.1:7", ["lu0", "d2-lu1"]), device("ext1", "127.0.0.1:8", ["x-lu0"])]);
    expect(plan.warnings).toEqual([
      "device d2 publishes LU lu0, which the table gives device dev0: left out (give the device another --id)",
      "device ext1 published itself, but an external device has that name: its LUs are left out",
    ]);
    expect(plan.state?.lus?.map((entry) => [entry.index, entry.id, entry.device_id])).toEqual([
      [0, "lu0", "dev0"], [1, "lu1", "dev0"], [2, "ext1:disk", "ext1"], [3, "d2-lu1", "d2"],
    ]);
    expect(plan.state?.lus?.[0]?.nbd_uri).toBe("nbd://127.0.0.1:1/lu0");
  });

  it("never reuses an index, even one a removed LU left free below the highest", () => {
    const gap = { ...seeded(), lus: seeded().lus.filter((entry) => entry.index !== 1) };
    const plan = planPublishedDevices(gap, [device("d2", "127.0.0.1:7", ["d2-lu0"])]);
    expect(plan.state?.lus?.map((entry) => entry.index)).toEqual([0, 2, 3]);
  });
});

describe("bringing the published devices into the table", () => {
  function ports(records: DeviceRecord[]): { runner: PublishedDevices; reads: string[]; writes: { state: StoreState; sequence: number }[]; warnings: string[] } {
    const reads: string[] = [];
    const writes: { state: StoreState; sequence: number }[] = [];
    const warnings: string[] = [];
    const runner = new PublishedDevices({
      devices: () => Promise.resolve(records),
      read: (options) => {
        reads.push(options?.omitExtents === true ? "cheap" : "whole");
        return Promise.resolve({ state: writes.at(-1)?.state as StoreState__Output | undefined ?? seeded(), sequence: 40 + writes.length });
      },
      writeAndPush: (state, sequence) => {
        writes.push({ state, sequence });
        return Promise.resolve();
      },
      warn: (message) => warnings.push(message),
    });
    return { runner, reads, writes, warnings };
  }

  it("reads cheaply each time and writes the whole table once, at the sequence it read", async () => {
    const world = ports([device("d2", "127.0.0.1:7", ["d2-lu0"])]);
    await world.runner.adopt();
    await world.runner.adopt();
    expect(world.reads).toEqual(["cheap", "whole", "cheap"]);
    expect(world.writes.map((write) => [write.sequence, write.state.generation])).toEqual([[40, 6]]);
  });

  it("says a conflict once, however many look-afters see it, and a failed listing as a warning, not a rejection", async () => {
    const world = ports([device("d2", "127.0.0.1:7", ["lu1"])]);
    await world.runner.adopt();
    await world.runner.adopt();
    expect(world.warnings).toHaveLength(1);
    const failing = new PublishedDevices({
      devices: () => Promise.reject(new Error("etcd is not answering")),
      read: () => Promise.reject(new Error("not reached")),
      writeAndPush: () => Promise.reject(new Error("not reached")),
      warn: (message) => world.warnings.push(message),
    });
    await failing.adopt();
    expect(world.warnings[1]).toMatch(/could not be brought into the table now: Error: etcd is not answering/);
  });
});
