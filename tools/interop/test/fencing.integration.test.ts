// Goal: an apparatus that does not answer a phase is removed from the control
// range and fenced, and the change goes on without it (claim 3); the commit
// waits until the fenced apparatus can no longer serve (the device refuses
// its renewals, then its lease runs out). So is an apparatus that does not
// load the whole table a volume create or delete sends, instead of being
// left behind on the old generation. Method: in one process, a real
// device with its gRPC service, one real apparatus, one apparatus whose Hold
// (or, later, LoadTable) never answers (a stuck peer), and a controller with
// short timeouts.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageDevice, deviceServiceHandlers } from "@switchyard/device";
import { temporaryFolder, type TemporaryFolder } from "@switchyard/device/testing";
import type { BlockIo } from "@switchyard/nbd";
import { LocalBackendSet, VirtualizationApparatus, serveApparatus, type ServedApparatus } from "@switchyard/apparatus";
import { ClusterController } from "@switchyard/controller";
import { bindGrpc, grpcShutdownGraceMs, loadGrpc, stopGrpc, type ApparatusHandlers } from "@switchyard/proto";

const phaseTimeoutMs = 300;
const apparatusLeaseMs = 400;
const loadTableTimeoutMs = 300;
let folder: TemporaryFolder;
let device: StorageDevice;
let deviceServer: grpc.Server;
let served: ServedApparatus;
let stuckServer: grpc.Server;
let controller: ClusterController;
const stuckCalls: string[] = [];
/** Whether the stuck apparatus still answers LoadTable; once false, it never answers one again. */
let stuckLoadsTables = true;

/**
 * An apparatus that takes tables and registrations, then never answers again
 * from the first Hold on. It serves no Control stream, as another
 * implementation may not: the controller sends it unary calls.
 */
function stuckHandlers(): Pick<ApparatusHandlers, "GetState" | "LoadTable" | "Register" | "Hold" | "Apply" | "Release" | "Abort"> {
  const fail = (method: string): grpc.handleUnaryCall<unknown, never> => (_call, callback) => {
    callback({ code: grpc.status.FAILED_PRECONDITION, details: `${method} on a stuck apparatus` });
  };
  return {
    GetState: (_call, callback) => {
      if (stuckCalls.length === 0) callback(null, { apparatus_id: "stuck", status: "APPARATUS_STATUS_SERVING" });
    },
    LoadTable: (_call, callback) => {
      if (stuckLoadsTables) callback(null, { apparatus_id: "stuck" });
      else stuckCalls.push("LoadTable");
    },
    Register: (_call, callback) => {
      callback(null, { apparatus_id: "stuck" });
    },
    Hold: () => {
      stuckCalls.push("Hold");
    },
    Apply: fail("Apply"),
    Release: fail("Release"),
    Abort: fail("Abort"),
  };
}

beforeAll(async () => {
  folder = await temporaryFolder();
  device = await StorageDevice.open({ dir: folder.path, create: { deviceId: "dev0", luCount: 2, luSizeBytes: 64 << 20, extentSizeBytes: 4 << 20, storeSlotSizeBytes: 4 << 20 } });
  deviceServer = new grpc.Server();
  deviceServer.addService(loadGrpc().switchyard.v1.Device.service, deviceServiceHandlers(device, { nbdAddress: "", grpcAddress: "", now: () => performance.now() }));
  const devicePort = await bindGrpc(deviceServer, "127.0.0.1", 0);
  const backends = new LocalBackendSet(new Map<string, BlockIo>(device.lus.map((lu) => [lu.id, lu])));
  served = await serveApparatus(new VirtualizationApparatus({ id: "a0", backends }), { host: "127.0.0.1", nbdPort: 0, grpcPort: 0 });
  stuckServer = new grpc.Server();
  stuckServer.addService(loadGrpc().switchyard.v1.Apparatus.service, stuckHandlers());
  const stuckPort = await bindGrpc(stuckServer, "127.0.0.1", 0);
  controller = new ClusterController({
    id: "c",
    address: "",
    deviceAddress: `127.0.0.1:${devicePort}`,
    apparatuses: [
      { id: "a0", grpc: served.grpcAddress, nbd: served.nbdAddress },
      { id: "stuck", grpc: `127.0.0.1:${stuckPort}`, nbd: "" },
    ],
    phaseTimeoutMs,
    apparatusLeaseMs,
    loadTableTimeoutMs,
  });
  await controller.start();
  await controller.createVolume("v", 8 << 20, "lu0");
});

afterAll(async () => {
  controller.close();
  await served.close();
  stuckServer.forceShutdown();
  await stopGrpc(deviceServer, grpcShutdownGraceMs);
  await device.close();
  await folder.remove();
});

describe("a stuck apparatus", () => {
  it("is fenced, and the move commits on the others only after its lease has run out", async () => {
    await served.apparatus.io.write("v", 0, Buffer.alloc(4096, 0x3c), true);
    const startedMs = performance.now();
    const change = await controller.submitMove("v", 0, "lu1");
    const elapsedMs = performance.now() - startedMs;
    expect(change).toMatchObject({ state: "CHANGE_STATE_COMMITTED", fenced: ["stuck"] });
    expect(stuckCalls).toEqual(["Hold"]);
    expect(elapsedMs).toBeGreaterThanOrEqual(phaseTimeoutMs + apparatusLeaseMs);
    expect(device.registrationStatus("stuck", "any")).toBe("fenced");
    // The change went on: a0 serves extent 0 from lu1, with the data copied.
    const back = Buffer.alloc(4096);
    await served.apparatus.io.read("v", 0, back);
    expect(back.every((byte) => byte === 0x3c)).toBe(true);
    expect(served.apparatus.faces.active.volumes.get("v")?.luIndex[0]).toBe(1);
    const status = await controller.clusterStatus();
    expect(status.apparatuses?.find((apparatus) => apparatus.id === "stuck")?.state).toBe("APPARATUS_STATUS_FENCED");
    // The next change leaves it out from the start.
    const next = await controller.submitMove("v", 1, "lu1");
    expect(next).toMatchObject({ state: "CHANGE_STATE_COMMITTED", fenced: [] });
    expect(stuckCalls).toEqual(["Hold"]);
  });

  it("is fenced when it does not load the table of a volume create or delete, which go on without it", async () => {
    await controller.rejoinApparatus("stuck");
    expect(device.registrationStatus("stuck", "any")).not.toBe("fenced");
    stuckCalls.length = 0;
    stuckLoadsTables = false;
    const startedMs = performance.now();
    await controller.createVolume("w", 8 << 20, "lu0");
    const elapsedMs = performance.now() - startedMs;
    expect(stuckCalls).toEqual(["LoadTable"]);
    // Fenced, and the create returned only once its lease had run out: it is no longer serving the old table.
    expect(device.registrationStatus("stuck", "any")).toBe("fenced");
    expect(elapsedMs).toBeGreaterThanOrEqual(loadTableTimeoutMs + apparatusLeaseMs);
    const status = await controller.clusterStatus();
    expect(status.apparatuses?.find((apparatus) => apparatus.id === "stuck")?.state).toBe("APPARATUS_STATUS_FENCED");
    expect(served.apparatus.faces.active.volumes.has("w")).toBe(true);
    // Out of the control range: the delete neither waits for it nor sends it the table.
    await controller.deleteVolume("w");
    expect(stuckCalls).toEqual(["LoadTable"]);
    expect(served.apparatus.faces.active.volumes.has("w")).toBe(false);
  });
});
