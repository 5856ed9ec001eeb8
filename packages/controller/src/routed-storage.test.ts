// Goal: with several devices on one etcd prefix, each storage call reaches
// the device that holds its LU, and a device that is down fails only the
// calls routed to it (issue 18): scrubs and mirrors by their LU's device,
// a waiting mirror poll only where mirrors run with each device's own
// progress counter passed back, registrations and fences taken by the
// first device that answers, the inventory from every device that answers.
// Method: fake device ports in memory that record their calls; one of them
// can be made to fail every call, as a SIGKILLed device's port does.
import { describe, expect, it } from "vitest";
import type { DeviceRecord } from "@switchyard/coordination";
import type { ListMirrorsResponse__Output, LogicalUnit__Output, Mirror__Output } from "@switchyard/proto";
import type { StoragePort } from "./device-port.js";
import { routedStorage, routesRefreshMs } from "./routed-storage.js";

interface FakeDevice {
  readonly port: StoragePort;
  readonly calls: string[];
  down: boolean;
  mirrors: Mirror__Output[];
  progress: number;
}

function fakeDevice(name: string): FakeDevice {
  const fake: Omit<FakeDevice, "port"> = { calls: [], down: false, mirrors: [], progress: 0 };
  const answer = <T>(call: string, value: () => T): Promise<T> => {
    fake.calls.push(call);
    return fake.down ? Promise.reject(new Error(`${name} is down`)) : Promise.resolve(value());
  };
  return Object.assign(fake, {
    port: {
      getInventory: () => answer("inventory", () => ({ device_id: name, grpc_address: "", nbd_address: "", lus: [{ id: `${name}-lu`, size_bytes: 1, extent_size_bytes: 1, areas_total: 1, areas_free: 1, export_name: "", io_errors_total: 0, last_io_error: "", last_io_error_at_ms: 0 }] })),
      registerKey: () => answer("registerKey", () => ({})),
      fence: () => answer("fence", () => ({})),
      scrubAreas: (request) => answer(`scrub ${request.lu_id ?? ""}`, () => ({ zeroed_bytes: 0 })),
      probeNbdExport: () => answer("probe", () => ({ size_bytes: 1, read_only: false, export_name: "" })),
      startMirror: (request) => answer(`startMirror ${request.mirror?.source_lu_id ?? ""}`, () => mirror(request.mirror?.source_lu_id ?? "")),
      listMirrors: (request) => answer(`listMirrors after ${String(request.after_progress ?? 0)}`, (): ListMirrorsResponse__Output => ({ mirrors: fake.mirrors, progress: fake.progress })),
      close: () => undefined,
    } satisfies StoragePort,
  });
}

function mirror(sourceLuId: string): Mirror__Output {
  return {
    volume: "v", extent_index: 0, source_lu_id: sourceLuId, source_area_index: 0, destination_lu_id: sourceLuId, destination_area_index: 1,
    watermark_bytes: 0, group: "", rate_bytes_per_second: 0, synced: false, failure: "", hole_bytes_skipped: 0, chunks_copied_again: 0,
  };
}

function lu(index: number, id: string, deviceId: string): LogicalUnit__Output {
  return { index, id, device_id: deviceId, size_bytes: 1, extent_size_bytes: 1, nbd_uri: "", external: false };
}

/** dev0 (the first, at d0:1) with lu0 and lu1, d2 (at d2:1) with d2-lu0 and d2-lu1. */
function cluster(): { dev0: FakeDevice; d2: FakeDevice; storage: ReturnType<typeof routedStorage>; clock: { ms: number }; tableReads: { count: number } } {
  const dev0 = fakeDevice("dev0");
  const d2 = fakeDevice("d2");
  const clock = { ms: 0 };
  const tableReads = { count: 0 };
  const records: DeviceRecord[] = [{ id: "d2", grpc: "d2:1", nbd: "d2:2", lus: [] }, { id: "dev0", grpc: "d0:1", nbd: "d0:2", lus: [] }];
  const storage = routedStorage({
    first: { address: "d0:1", port: dev0.port },
    devices: () => Promise.resolve(records),
    lus: () => {
      tableReads.count += 1;
      return Promise.resolve([lu(0, "lu0", "dev0"), lu(1, "lu1", "dev0"), lu(2, "d2-lu0", "d2"), lu(3, "d2-lu1", "d2")]);
    },
    portAt: (address) => {
      expect(address).toBe("d2:1");
      return d2.port;
    },
    now: () => clock.ms,
  });
  return { dev0, d2, storage, clock, tableReads };
}

describe("storage calls routed to the device holding the LU", () => {
  it("scrubs and starts mirrors at the LU's device, reading the table only when an LU is not known", async () => {
    const { dev0, d2, storage, tableReads } = cluster();
    await storage.scrubAreas({ epoch: 1, lu_id: "d2-lu1", area_indexes: [3] });
    await storage.startMirror({ epoch: 1, mirror: mirror("d2-lu0") });
    await storage.scrubAreas({ epoch: 1, lu_id: "lu1", area_indexes: [3] });
    expect(d2.calls).toEqual(["scrub d2-lu1", "startMirror d2-lu0"]);
    expect(dev0.calls).toEqual(["scrub lu1"]);
    expect(tableReads.count).toBe(1);
    storage.observeLus([lu(0, "lu0", "dev0")]);
    await storage.scrubAreas({ epoch: 1, lu_id: "d2-lu0", area_indexes: [0] });
    // Not in the table just observed, and the table was read under routesRefreshMs ago: the first device's.
    expect(dev0.calls.at(-1)).toBe("scrub d2-lu0");
  });

  it("polls mirrors only where they run, each device with its own counter, the answer's progress their sum", async () => {
    const { dev0, d2, storage } = cluster();
    d2.mirrors = [mirror("d2-lu0")];
    d2.progress = 7;
    await storage.startMirror({ epoch: 1, mirror: mirror("d2-lu0") });
    const first = await storage.listMirrors({ after_progress: 0, wait_ms: 200 });
    expect(first).toMatchObject({ progress: 7, mirrors: [{ source_lu_id: "d2-lu0" }] });
    await storage.listMirrors({ after_progress: first.progress, wait_ms: 200 });
    expect(d2.calls.filter((call) => call.startsWith("listMirrors"))).toEqual(["listMirrors after 0", "listMirrors after 7"]);
    expect(dev0.calls).toEqual([]);
    // A poll that does not wait (the mirror check) asks every device; a down device is left out.
    dev0.down = true;
    const checked = await storage.listMirrors({});
    expect(checked.mirrors.map((listed) => listed.source_lu_id)).toEqual(["d2-lu0"]);
    expect(dev0.calls).toEqual(["listMirrors after 0"]);
  });

  it("polls every device while no mirror is known, as a new controller resuming copies does, the first device down", async () => {
    const { dev0, d2, storage } = cluster();
    d2.mirrors = [mirror("d2-lu1")];
    dev0.down = true;
    const listed = await storage.listMirrors({ after_progress: 0, wait_ms: 200 });
    expect(listed.mirrors.map((found) => found.source_lu_id)).toEqual(["d2-lu1"]);
    expect([dev0.calls, d2.calls]).toEqual([["listMirrors after 0"], ["listMirrors after 0"]]);
    await storage.listMirrors({ after_progress: listed.progress, wait_ms: 200 });
    expect(dev0.calls).toHaveLength(1);
  });

  it("fails a poll only when every device asked fails", async () => {
    const { d2, storage } = cluster();
    await storage.startMirror({ epoch: 1, mirror: mirror("d2-lu0") });
    d2.down = true;
    await expect(storage.listMirrors({ after_progress: 0, wait_ms: 200 })).rejects.toThrow("d2 is down");
  });

  it("registers and fences while one device is down, and fails only when all are", async () => {
    const { dev0, d2, storage, clock } = cluster();
    dev0.down = true;
    await storage.registerKey({ epoch: 1, apparatus_id: "a1", registration_key: "a1:k" });
    await storage.fence({ epoch: 1, apparatus_id: "a2" });
    expect(d2.calls).toEqual(["registerKey", "fence"]);
    expect(dev0.calls).toEqual(["registerKey", "fence"]);
    d2.down = true;
    clock.ms += routesRefreshMs;
    await expect(storage.fence({ epoch: 1, apparatus_id: "a2" })).rejects.toThrow("dev0 is down");
  });

  it("takes the inventory of every device that answers", async () => {
    const { d2, storage } = cluster();
    expect((await storage.getInventory({})).lus.map((entry) => entry.id)).toEqual(["dev0-lu", "d2-lu"]);
    d2.down = true;
    expect((await storage.getInventory({})).lus.map((entry) => entry.id)).toEqual(["dev0-lu"]);
  });
});
