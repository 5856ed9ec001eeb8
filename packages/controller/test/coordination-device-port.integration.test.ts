// Goal: the controller's lease driver and table keeper run unchanged over a
// DevicePort whose coordination calls go to etcd (coordination-device-port.ts):
// one of two controllers leads at an epoch that is its etcd token, a
// successor leads at a higher one after the first stops renewing, the
// deposed one's commit is refused as the device refuses it
// (FAILED_PRECONDITION, code NOT_HOLDER in the trailers), and a commit that
// switches an extent onto its mirror's destination is refused until the
// storage device reports that mirror synced.
// Method: a real three-member etcd (scripts/etcd-cluster.sh through
// startEtcdCluster), each case under its own key prefix, the system
// scheduler. The storage device is a stand-in answering only ListMirrors:
// the mirror check is the one storage call these cases make, and the
// controller package may not start a real device (the DAG: proto ← controller).
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { etcdCoordination, type Coordination } from "@switchyard/coordination";
import { etcdClusterStartTimeoutMs, etcdClusterStopTimeoutMs, startEtcdCluster, type EtcdTestCluster } from "@switchyard/coordination/testing";
import { errorCodeOf, isRpcError, type Mirror__Output, type StoreDelta } from "@switchyard/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coordinationDevicePort } from "../src/coordination-device-port.js";
import type { DevicePort } from "../src/device-port.js";
import { LeaseDriver } from "../src/lease-driver.js";
import { systemScheduler } from "../src/scheduler.js";
import { TableKeeper } from "../src/table-keeper.js";

/** etcd's shortest term (coordination's etcdLeaseMinMs): handovers stay quick. */
const leaseMs = 2_000;
/** A lease, etcd's expiry check and a loaded machine's slack. */
const handoverWaitMs = leaseMs + 6_000;
const caseTimeoutMs = 30_000;
const mebibyte = 1 << 20;

let cluster: EtcdTestCluster;
const opened: Coordination[] = [];
const drivers: LeaseDriver[] = [];

beforeAll(async () => {
  cluster = await startEtcdCluster();
}, etcdClusterStartTimeoutMs);

afterAll(async () => {
  for (const driver of drivers) driver.close();
  await Promise.all(opened.map((coordination) => coordination.close()));
  await cluster.stop();
}, etcdClusterStopTimeoutMs);

/** What the stand-in storage device was told of registrations, in order. */
const storageRegistrations: string[] = [];

/** A storage device that answers ListMirrors with `mirrors`, notes registrations and fences, and nothing else. */
function storageWith(mirrors: () => Mirror__Output[]): DevicePort {
  const unanswered = (): Promise<never> => Promise.reject(new Error("not a storage call these cases make"));
  return {
    getInventory: unanswered, acquireLease: unanswered, renewLease: unanswered, readStore: unanswered, writeStore: unanswered, commitDelta: unanswered,
    registerKey: (request) => {
      storageRegistrations.push(`register ${request.apparatus_id ?? ""} ${request.registration_key ?? ""}`);
      return Promise.resolve({});
    },
    fence: (request) => {
      storageRegistrations.push(`fence ${request.apparatus_id ?? ""}`);
      return Promise.resolve({});
    },
    scrubAreas: unanswered, probeNbdExport: unanswered, startMirror: unanswered,
    listMirrors: () => Promise.resolve({ mirrors: mirrors(), progress: 0 }),
    close: () => undefined,
  };
}

function portOn(prefix: string, mirrors: () => Mirror__Output[] = () => []): DevicePort {
  const coordination = etcdCoordination({ endpoints: cluster.endpoints, keyPrefix: prefix, now: () => systemScheduler.now() });
  opened.push(coordination);
  return coordinationDevicePort({ coordination, storage: storageWith(mirrors) });
}

function driverOn(id: string, device: DevicePort): LeaseDriver {
  const driver = new LeaseDriver({
    id, address: `127.0.0.1:${id}`, leaseMs, device, scheduler: systemScheduler, warn: () => undefined,
    duties: { lead: () => Promise.resolve(), lookAfter: () => Promise.resolve(), stepDown: () => undefined, leader: () => undefined },
  });
  drivers.push(driver);
  return driver;
}

async function until<T>(what: string, read: () => T | undefined, waitMs: number): Promise<T> {
  const deadlineMs = performance.now() + waitMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (performance.now() > deadlineMs) throw new Error(`${what} within ${waitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function refusal(promise: Promise<unknown>): Promise<{ code: number; coordinationCode: string | undefined }> {
  const error: unknown = await promise.then(() => undefined, (caught: unknown) => caught);
  if (!isRpcError(error)) throw new Error(`expected a gRPC-shaped refusal, got ${String(error)}`);
  return { code: error.code, coordinationCode: errorCodeOf(error) };
}

/** A volume of two extents on LU 0, extent 1 in mirror state towards LU 1 area 9. */
function mirroredVolumeDelta(): StoreDelta {
  return {
    diff: {
      base_generation: 0, generation: 1,
      lus_added: [0, 1].map((index) => ({ index, id: `lu${index}`, device_id: "d", size_bytes: 16 * mebibyte, extent_size_bytes: mebibyte })),
      shapes: [{ name: "v", size_bytes: 2 * mebibyte, extent_size_bytes: mebibyte, extent_count: 2 }],
      rows: [{ volume: "v", extent_index: 1, lu_index: 0, area_index: 1, mirror_lu_index_plus_one: 2, mirror_area_index: 9 }],
    },
  };
}

const mirror = (synced: boolean): Mirror__Output => ({
  volume: "v", extent_index: 1, source_lu_id: "lu0", source_area_index: 1, destination_lu_id: "lu1", destination_area_index: 9,
  watermark_bytes: synced ? mebibyte : mebibyte / 2, group: "", rate_bytes_per_second: 0, synced, failure: "", hole_bytes_skipped: 0, chunks_copied_again: 0,
});

describe("the controller over etcd coordination", () => {
  it("leads at its etcd token; a successor leads higher; the deposed one's commit is refused as NOT_HOLDER", { timeout: caseTimeoutMs }, async () => {
    const prefix = `controller-${randomUUID()}/`;
    const firstPort = portOn(prefix);
    const first = driverOn("first", firstPort);
    await first.start();
    const firstEpoch = await until("the first controller leads", () => first.epochNow(), handoverWaitMs);
    const keeper = new TableKeeper(firstPort, () => firstEpoch);
    await keeper.commit({ journal_entry: { change_id: "change-1", kind: "create", state: "CHANGE_STATE_RUNNING" } });
    const second = driverOn("second", portOn(prefix));
    await second.start();
    expect(second.epochNow()).toBeUndefined();
    first.close();
    const secondEpoch = await until("the second controller leads", () => second.epochNow(), handoverWaitMs);
    expect(secondEpoch).toBeGreaterThan(firstEpoch);
    const refused = await refusal(keeper.commit({ journal_entry: { change_id: "change-late", kind: "create", state: "CHANGE_STATE_RUNNING" } }));
    expect(refused).toEqual({ code: grpc.status.FAILED_PRECONDITION, coordinationCode: "NOT_HOLDER" });
    const read = await keeper.read({ omitExtents: true });
    expect(read.state.journal.map((entry) => entry.change_id)).toEqual(["change-1"]);
  });

  it("refuses a switch onto a mirror destination until the storage device reports it synced", { timeout: caseTimeoutMs }, async () => {
    let synced = false;
    const port = portOn(`controller-${randomUUID()}/`, () => [mirror(synced)]);
    const driver = driverOn("holder", port);
    await driver.start();
    const epoch = await until("the controller leads", () => driver.epochNow(), handoverWaitMs);
    const keeper = new TableKeeper(port, () => epoch);
    await keeper.commit(mirroredVolumeDelta());
    const switchDelta: StoreDelta = { diff: { base_generation: 1, generation: 2, rows: [{ volume: "v", extent_index: 1, lu_index: 1, area_index: 9 }] } };
    expect(await refusal(keeper.commit(switchDelta))).toEqual({ code: grpc.status.FAILED_PRECONDITION, coordinationCode: "MIRROR_NOT_IN_SYNC" });
    expect((await keeper.read()).state.generation).toBe(1);
    synced = true;
    await keeper.commit(switchDelta);
    const { state } = await keeper.read();
    expect(state.generation).toBe(2);
    expect(state.volumes[0]?.extents).toMatchObject({ lu_index: [0, 1], area_index: [0, 9], mirror_lu_index_plus_one: [0, 0] });
  });

  it("registers and fences on etcd first, then on the storage device; a deposed token reaches neither", { timeout: caseTimeoutMs }, async () => {
    const prefix = `controller-${randomUUID()}/`;
    const coordination = etcdCoordination({ endpoints: cluster.endpoints, keyPrefix: prefix, now: () => systemScheduler.now() });
    opened.push(coordination);
    const port = coordinationDevicePort({ coordination, storage: storageWith(() => []) });
    const driver = driverOn("registrar", port);
    await driver.start();
    const epoch = await until("the controller leads", () => driver.epochNow(), handoverWaitMs);
    storageRegistrations.length = 0;
    await port.registerKey({ epoch, apparatus_id: "a1", registration_key: "k1" });
    expect(await coordination.registrationStatus("a1", "k1")).toBe("granted");
    await port.fence({ epoch, apparatus_id: "a1" });
    expect(await coordination.registrationStatus("a1", "k1")).toBe("fenced");
    expect(await refusal(port.registerKey({ epoch: epoch - 1, apparatus_id: "a2", registration_key: "k2" })))
      .toEqual({ code: grpc.status.FAILED_PRECONDITION, coordinationCode: "NOT_HOLDER" });
    expect(storageRegistrations).toEqual(["register a1 k1", "fence a1"]);
  });
});
