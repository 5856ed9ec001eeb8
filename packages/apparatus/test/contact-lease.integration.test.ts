// Goal: a registered apparatus stops serving by itself once the controller
// has fenced it (the device refuses its renewals), or once it cannot renew
// for a lease (the device is gone), and serves again when registered anew
// (claim 3). Method: a real device and its gRPC service on loopback, an
// apparatus over in-memory LUs, host I/O through its I/O path.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { deviceServiceHandlers } from "@switchyard/device";
import { openTestDevice, temporaryFolder } from "@switchyard/device/testing";
import { loadGrpc } from "@switchyard/proto";
import { bindGrpc, grpcShutdownGraceMs, stopGrpc } from "@switchyard/proto";
import { VirtualizationApparatus } from "../src/index.js";
import { MemoryLu, memoryBackends, oneVolumeTable } from "../src/testing.js";

const extentSizeBytes = 1 << 20;
const leaseMs = 400;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  const folder = await temporaryFolder();
  const device = await openTestDevice(folder.path);
  const server = new grpc.Server();
  const addresses = { nbdAddress: "", grpcAddress: "", now: () => performance.now() };
  server.addService(loadGrpc().switchyard.v1.Device.service, deviceServiceHandlers(device, addresses));
  const port = await bindGrpc(server, "127.0.0.1", 0);
  const deviceAddress = `127.0.0.1:${port}`;
  const epoch = (await device.arbiter.acquire("controller", "", 60_000, performance.now())).epoch;
  const apparatus = new VirtualizationApparatus({ id: "a", backends: memoryBackends([new MemoryLu(8 * extentSizeBytes)]) });
  await apparatus.loadTable(epoch, oneVolumeTable(1, 1, 8 * extentSizeBytes, extentSizeBytes, "v", [0], [0]));
  let serverStopped = false;
  const stopServer = async (): Promise<void> => {
    if (serverStopped) return;
    serverStopped = true;
    await stopGrpc(server, grpcShutdownGraceMs);
  };
  cleanups.push(async () => {
    await apparatus.close();
    await stopServer();
    await device.close();
    await folder.remove();
  });
  const register = (key: string): void => {
    device.registerKey("a", key, epoch);
    apparatus.register({ epoch, registration_key: key, lease_ms: leaseMs, device_address: deviceAddress });
  };
  return { device, apparatus, epoch, register, stopServer };
}

function sleep(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}

describe("contact lease", () => {
  it("keeps serving while renewals are granted, and stops once fenced", async () => {
    const { device, apparatus, epoch, register } = await setup();
    register("k1");
    await sleep(leaseMs * 2);
    await apparatus.io.write("v", 0, Buffer.alloc(512, 1), false);
    device.fence("a", epoch);
    await sleep(leaseMs / 2);
    await expect(apparatus.io.read("v", 0, Buffer.alloc(512))).rejects.toMatchObject({ code: "ESHUTDOWN" });
    expect(apparatus.state().status).toBe("APPARATUS_STATUS_FENCED");
    // Registered again (rejoin), it serves again.
    register("k2");
    await apparatus.io.read("v", 0, Buffer.alloc(512));
    expect(apparatus.state().status).toBe("APPARATUS_STATUS_SERVING");
  });

  it("stops serving a lease after the last renewal when the device is gone", async () => {
    const { apparatus, register, stopServer } = await setup();
    register("k1");
    await stopServer();
    await apparatus.io.read("v", 0, Buffer.alloc(512));
    await sleep(leaseMs * 1.5);
    await expect(apparatus.io.read("v", 0, Buffer.alloc(512))).rejects.toMatchObject({ code: "ESHUTDOWN" });
  });

  it("refuses a registration without a key or with a lease out of bounds", async () => {
    const { apparatus, epoch } = await setup();
    expect(() => apparatus.register({ epoch, registration_key: "", lease_ms: leaseMs, device_address: "127.0.0.1:1" })).toThrow(
      expect.objectContaining({ code: "INVALID_REGISTRATION" }) as Error,
    );
    expect(() => apparatus.register({ epoch, registration_key: "k", lease_ms: 5, device_address: "127.0.0.1:1" })).toThrow(/lease_ms 5/);
  });
});
