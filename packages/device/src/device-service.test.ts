// Goal: the Device service answers over real gRPC with the device's numbers,
// maps every typed error to the agreed status code with a message saying
// what was wrong, and leaves the store untouched when it refuses a write.
// Method: a grpc-js server on 127.0.0.1:0 over a device in a temporary
// folder, a real client from the proto package, a clock the test sets;
// server, client and folder are torn down after each test.
import * as grpc from "@grpc/grpc-js";
import {
  errorCodeOf,
  loadGrpc,
  type DeviceClient,
  type FenceResponse__Output,
  type Inventory__Output,
  type Lease__Output,
  type ListMirrorsResponse__Output,
  type Mirror__Output,
  type StopMirrorResponse__Output,
  type RegisterKeyResponse__Output,
  type StoreSnapshot__Output,
  type WriteStoreResponse__Output,
} from "@switchyard/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deviceServiceHandlers, grpcStatusOf } from "./device-service.js";
import { DeviceError, type DeviceErrorCode } from "./errors.js";
import type { StorageDevice } from "./storage-device.js";
import { openTestDevice, temporaryFolder, type TemporaryFolder } from "./testing.js";

const mebibyte = 1 << 20;
let folder: TemporaryFolder;
let device: StorageDevice;
let server: grpc.Server;
let client: DeviceClient;
let nowMs = 1_000_000;

beforeEach(async () => {
  folder = await temporaryFolder();
  device = await openTestDevice(folder.path, { storeSlotSizeBytes: 64 * 1024 });
  server = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error === null) resolve(boundPort);
      else reject(error);
    });
  });
  const grpcAddress = `127.0.0.1:${port}`;
  const { switchyard } = loadGrpc();
  // Services can be added after binding, once the bound port is known.
  server.addService(switchyard.v1.Device.service, deviceServiceHandlers(device, { grpcAddress, nbdAddress: "127.0.0.1:10809", now: () => nowMs }));
  client = new switchyard.v1.Device(grpcAddress, grpc.credentials.createInsecure());
});

afterEach(async () => {
  client.close();
  server.forceShutdown();
  await device.close();
  await folder.remove();
});

/** A unary call as a promise. */
function call<Response>(invoke: (callback: grpc.requestCallback<Response>) => void): Promise<Response> {
  return new Promise((resolve, reject) => {
    invoke((error, response) => {
      if (error !== null) reject(error);
      else if (response === undefined) reject(new Error("no response"));
      else resolve(response);
    });
  });
}

describe("deviceServiceHandlers", () => {
  it("reports the inventory: LUs, areas total and free, export names", async () => {
    const inventory = await call<Inventory__Output>((callback) => client.GetInventory({}, callback));
    expect(inventory).toEqual({
      device_id: "test-device",
      grpc_address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) as unknown,
      nbd_address: "127.0.0.1:10809",
      lus: [
        { id: "lu0", size_bytes: 16 * mebibyte, extent_size_bytes: mebibyte, areas_total: 16, areas_free: 16, export_name: "lu0", io_errors_total: 0, last_io_error: "", last_io_error_at_ms: 0 },
        { id: "lu1", size_bytes: 16 * mebibyte, extent_size_bytes: mebibyte, areas_total: 16, areas_free: 16, export_name: "lu1", io_errors_total: 0, last_io_error: "", last_io_error_at_ms: 0 },
      ],
    });
    const lease = await call<Lease__Output>((callback) => client.AcquireLease({ candidate_id: "c1", lease_ms: 1000 }, callback));
    const { state, sequence } = await call<StoreSnapshot__Output>((callback) => client.ReadStore({}, callback));
    const volume = { name: "v", size_bytes: 2 * mebibyte, extent_size_bytes: mebibyte, extents: { lu_index: [1, 1], area_index: [4, 5] } };
    await call<WriteStoreResponse__Output>((callback) => client.WriteStore({ epoch: lease.epoch, expected_sequence: sequence, state: { ...state, volumes: [volume] } }, callback));
    const after = await call<Inventory__Output>((callback) => client.GetInventory({}, callback));
    expect(after.lus.map((lu) => lu.areas_free)).toEqual([16, 14]);
  });

  it("mirrors an extent: refuses a stale epoch or an unmapped source, copies it, and the commit switching the extent ends the mirror", async () => {
    const lease = await call<Lease__Output>((callback) => client.AcquireLease({ candidate_id: "c1", lease_ms: 1000 }, callback));
    const { state, sequence } = await call<StoreSnapshot__Output>((callback) => client.ReadStore({}, callback));
    // Extent 1 in mirror state from lu0 area 5 to lu1 area 9, as a migration's first change leaves it.
    const extents = { lu_index: [0, 0], area_index: [4, 5], mirror_lu_index_plus_one: [0, 2], mirror_area_index: [0, 9], mirror_watermark_bytes: [0, 0] };
    const volume = { name: "v", size_bytes: 2 * mebibyte, extent_size_bytes: mebibyte, extents };
    await call<WriteStoreResponse__Output>((callback) => client.WriteStore({ epoch: lease.epoch, expected_sequence: sequence, state: { ...state, generation: 1, volumes: [volume] } }, callback));
    const data = Buffer.alloc(mebibyte, 0x5a);
    await device.lu("lu0").write(5 * mebibyte, data, false);
    const mirror = { volume: "v", extent_index: 1, source_lu_id: "lu0", source_area_index: 5, destination_lu_id: "lu1", destination_area_index: 9, group: "m" };
    await expect(call<Mirror__Output>((callback) => client.StartMirror({ epoch: lease.epoch - 1, mirror }, callback)))
      .rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    await expect(call<Mirror__Output>((callback) => client.StartMirror({ epoch: lease.epoch, mirror: { ...mirror, source_area_index: 6 } }, callback)))
      .rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/does not have extent 1 of v in mirror state from lu0 area 6/) as unknown });
    await call<Mirror__Output>((callback) => client.StartMirror({ epoch: lease.epoch, mirror }, callback));
    await expect(call<ListMirrorsResponse__Output>((callback) => client.ListMirrors({ wait_ms: 5001 }, callback)))
      .rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/wait of 5001 ms/) as unknown });
    // A long poll: each answer comes when the progress count passes the last one seen.
    let asks = 0;
    for (let listed = await call<ListMirrorsResponse__Output>((callback) => client.ListMirrors({}, callback)); listed.mirrors[0]?.synced !== true; asks += 1) {
      const seen = listed.progress;
      listed = await call<ListMirrorsResponse__Output>((callback) => client.ListMirrors({ after_progress: seen, wait_ms: 5000 }, callback));
      expect(listed.progress).toBeGreaterThan(seen);
    }
    expect(asks).toBeLessThan(5);
    const copied = Buffer.alloc(mebibyte);
    await device.lu("lu1").read(9 * mebibyte, copied);
    expect(copied.equals(data)).toBe(true);
    // While the table has it, only a commit ends it: apparatuses may send the extent's I/O to either area until then.
    await expect(call<StopMirrorResponse__Output>((callback) => client.StopMirror({ epoch: lease.epoch, volume: "v", extent_index: 1 }, callback)))
      .rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/in mirror state in the committed table/) as unknown });
    expect((await call<ListMirrorsResponse__Output>((callback) => client.ListMirrors({}, callback))).mirrors).toHaveLength(1);
    // The switch: extent 1 on lu1 area 9, no longer mirrored.
    const delta = { diff: { base_generation: 1, generation: 2, rows: [{ volume: "v", extent_index: 1, lu_index: 1, area_index: 9, mirror_lu_index_plus_one: 0 }] } };
    await call<WriteStoreResponse__Output>((callback) => client.CommitDelta({ epoch: lease.epoch, delta }, callback));
    expect((await call<ListMirrorsResponse__Output>((callback) => client.ListMirrors({}, callback))).mirrors).toEqual([]);
    expect(await call<StopMirrorResponse__Output>((callback) => client.StopMirror({ epoch: lease.epoch, volume: "v", extent_index: 1 }, callback))).toEqual({ stopped: false });
  });

  it("commits a delta with the epoch and base generation checked, and reads the store without extents or journal", async () => {
    const lease = await call<Lease__Output>((callback) => client.AcquireLease({ candidate_id: "c1", lease_ms: 1000 }, callback));
    const { state, sequence } = await call<StoreSnapshot__Output>((callback) => client.ReadStore({}, callback));
    const volume = { name: "v", size_bytes: 2 * mebibyte, extent_size_bytes: mebibyte, extents: { lu_index: [1, 1], area_index: [4, 5] } };
    await call<WriteStoreResponse__Output>((callback) => client.WriteStore({ epoch: lease.epoch, expected_sequence: sequence, state: { ...state, generation: 1, volumes: [volume] } }, callback));
    const delta = {
      diff: { base_generation: 1, generation: 2, rows: [{ volume: "v", extent_index: 1, lu_index: 0, area_index: 7 }] },
      journal_entry: { change_id: "move-2", kind: "move", state: "CHANGE_STATE_COMMITTED" as const },
    };
    await expect(call<WriteStoreResponse__Output>((callback) => client.CommitDelta({ epoch: lease.epoch - 1, delta }, callback)))
      .rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    expect(await call<WriteStoreResponse__Output>((callback) => client.CommitDelta({ epoch: lease.epoch, delta }, callback))).toEqual({ sequence: sequence + 2 });
    const stale: unknown = await call<WriteStoreResponse__Output>((callback) => client.CommitDelta({ epoch: lease.epoch, delta }, callback)).catch((error: unknown) => error);
    expect(stale).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: expect.stringMatching(/generation 1 does not apply to stored generation 2/) as unknown });
    // One status, several causes: the stable code in the trailers tells a stale generation from a stale epoch.
    expect(errorCodeOf(stale as grpc.ServiceError)).toBe("STALE_GENERATION");
    const full = await call<StoreSnapshot__Output>((callback) => client.ReadStore({}, callback));
    expect(full.state?.volumes[0]?.extents).toMatchObject({ lu_index: [1, 0], area_index: [4, 7] });
    expect(full.state?.journal.map((entry) => entry.change_id)).toEqual(["move-2"]);
    const slim = await call<StoreSnapshot__Output>((callback) => client.ReadStore({ omit_extents: true, omit_journal: true }, callback));
    expect(slim.state).toMatchObject({ generation: 2, journal: [], volumes: [{ name: "v", extents: null }] });
  });

  it("grants, denies and renews leases on the device's clock", async () => {
    const granted = await call<Lease__Output>((callback) => client.AcquireLease({ candidate_id: "c1", candidate_address: "h1:1", lease_ms: 1000 }, callback));
    expect(granted).toEqual({ holder_id: "c1", holder_address: "h1:1", epoch: 1, expires_at_ms: nowMs + 1000, lease_ms: 1000, granted: true });
    const denied = await call<Lease__Output>((callback) => client.AcquireLease({ candidate_id: "c2", lease_ms: 1000 }, callback));
    expect(denied).toMatchObject({ granted: false, holder_id: "c1", epoch: 1 });
    nowMs += 500;
    expect(await call<Lease__Output>((callback) => client.RenewLease({ holder_id: "c1", epoch: 1, lease_ms: 1000 }, callback)))
      .toMatchObject({ granted: true, expires_at_ms: nowMs + 1000 });
    await expect(call<Lease__Output>((callback) => client.RenewLease({ holder_id: "c2", epoch: 1, lease_ms: 1000 }, callback)))
      .rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: expect.stringMatching(/does not hold the lease/) as unknown });
    await expect(call<Lease__Output>((callback) => client.AcquireLease({ candidate_id: "c2", lease_ms: 5 }, callback)))
      .rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });

  it("refuses a store write with a stale epoch (FAILED_PRECONDITION) and leaves the store unchanged", async () => {
    await call<Lease__Output>((callback) => client.AcquireLease({ candidate_id: "c1", lease_ms: 1000 }, callback));
    nowMs += 2000;
    await call<Lease__Output>((callback) => client.AcquireLease({ candidate_id: "c2", lease_ms: 1000 }, callback));
    const before = await call<StoreSnapshot__Output>((callback) => client.ReadStore({}, callback));
    const write = call<WriteStoreResponse__Output>((callback) => client.WriteStore({ epoch: 1, expected_sequence: before.sequence, state: { generation: 9 } }, callback));
    await expect(write).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: "stale epoch 1 < 2" });
    expect(await call<StoreSnapshot__Output>((callback) => client.ReadStore({}, callback))).toEqual(before);
  });

  it("maps a stale sequence to ABORTED, an oversized state to RESOURCE_EXHAUSTED, a missing state to INVALID_ARGUMENT", async () => {
    const { epoch } = await call<Lease__Output>((callback) => client.AcquireLease({ candidate_id: "c1", lease_ms: 1000 }, callback));
    const { state, sequence } = await call<StoreSnapshot__Output>((callback) => client.ReadStore({}, callback));
    await expect(call<WriteStoreResponse__Output>((callback) => client.WriteStore({ epoch, expected_sequence: sequence + 5, state }, callback)))
      .rejects.toMatchObject({ code: grpc.status.ABORTED, details: expect.stringMatching(/current sequence is/) as unknown });
    const huge = { ...state, volumes: [{ name: "x".repeat(128 * 1024) }] };
    await expect(call<WriteStoreResponse__Output>((callback) => client.WriteStore({ epoch, expected_sequence: sequence, state: huge }, callback)))
      .rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/exceeds the slot payload limit/) as unknown });
    await expect(call<WriteStoreResponse__Output>((callback) => client.WriteStore({ epoch, expected_sequence: sequence }, callback)))
      .rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect((await call<StoreSnapshot__Output>((callback) => client.ReadStore({}, callback))).sequence).toBe(sequence);
  });

  it("registers keys and fences", async () => {
    const { epoch } = await call<Lease__Output>((callback) => client.AcquireLease({ candidate_id: "c1", lease_ms: 1000 }, callback));
    await call<RegisterKeyResponse__Output>((callback) => client.RegisterKey({ epoch, apparatus_id: "a1", registration_key: "k1" }, callback));
    expect(device.isAllowed("k1")).toBe(true);
    await call<FenceResponse__Output>((callback) => client.Fence({ epoch, apparatus_id: "a1" }, callback));
    expect(device.isAllowed("k1")).toBe(false);
    await expect(call<FenceResponse__Output>((callback) => client.Fence({ epoch: epoch + 1, apparatus_id: "a1" }, callback)))
      .rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
  });

  it("refuses epochs and generations past 2^53 - 1 with INVALID_ARGUMENT before the arbiter or the store sees them", async () => {
    const { epoch } = await call<Lease__Output>((callback) => client.AcquireLease({ candidate_id: "c1", lease_ms: 1000 }, callback));
    const before = await call<StoreSnapshot__Output>((callback) => client.ReadStore({}, callback));
    const overflow = "18446744073709551615";
    const refusals = [
      call((callback) => client.RenewLease({ holder_id: "c1", epoch: overflow, lease_ms: 1000 }, callback)),
      call((callback) => client.Fence({ epoch: overflow, apparatus_id: "a1" }, callback)),
      call((callback) => client.WriteStore({ epoch, expected_sequence: before.sequence, state: { generation: overflow } }, callback)),
    ];
    for (const refused of refusals) {
      await expect(refused).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/is out of range: integers in requests go up to 2\^53 - 1/) as unknown });
    }
    expect(device.arbiter.highestEpoch).toBe(epoch);
    expect(await call<StoreSnapshot__Output>((callback) => client.ReadStore({}, callback))).toEqual(before);
  });

  it("maps every device error code to a status, INTERNAL for none", () => {
    const codes: Record<DeviceErrorCode, grpc.status> = {
      INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
      OUT_OF_RANGE: grpc.status.OUT_OF_RANGE,
      NOT_FOUND: grpc.status.NOT_FOUND,
      STALE_EPOCH: grpc.status.FAILED_PRECONDITION,
      LEASE_NOT_HELD: grpc.status.FAILED_PRECONDITION,
      DEVICE_FOLDER_CONFLICT: grpc.status.FAILED_PRECONDITION,
      MIRROR_NOT_IN_SYNC: grpc.status.FAILED_PRECONDITION,
      EXTERNAL_UNREACHABLE: grpc.status.FAILED_PRECONDITION,
      STALE_SEQUENCE: grpc.status.ABORTED,
      STALE_GENERATION: grpc.status.FAILED_PRECONDITION,
      LIMIT_EXCEEDED: grpc.status.RESOURCE_EXHAUSTED,
      NO_SPACE: grpc.status.RESOURCE_EXHAUSTED,
      STORE_CORRUPT: grpc.status.DATA_LOSS,
      DEVICE_CORRUPT: grpc.status.DATA_LOSS,
      IO_FAILED: grpc.status.UNAVAILABLE,
      CLOSED: grpc.status.UNAVAILABLE,
    };
    for (const [code, status] of Object.entries(codes)) {
      expect(grpcStatusOf(new DeviceError(code as DeviceErrorCode, "x"))).toBe(status);
    }
  });
});
