/**
 * The gRPC servers the gRPC fuzz test runs against, started in this process
 * the way the project starts them: a device (temporary folder) with the
 * Device service, an apparatus (in-memory LUs) through serveApparatus, and a
 * controller through serveController; each with health and reflection.
 */
import * as grpc from "@grpc/grpc-js";
import { VirtualizationApparatus, serveApparatus } from "@switchyard/apparatus";
import { MemoryLu, memoryBackends } from "@switchyard/apparatus/testing";
import { serveController } from "@switchyard/controller";
import { deviceServiceHandlers } from "@switchyard/device";
import { openTestDevice, temporaryFolder } from "@switchyard/device/testing";
import { bindGrpc, controlServerOptions, grpcShutdownGraceMs, loadGrpc, stopGrpc } from "@switchyard/proto";
import { fuzzMethods, type GrpcFuzzTarget } from "../src/index.js";

/** Small LUs: the apparatus only needs to exist for its control methods. */
const luSizeBytes = 16 << 20;

export interface GrpcCluster {
  readonly device: GrpcFuzzTarget;
  readonly apparatus: GrpcFuzzTarget;
  readonly controller: GrpcFuzzTarget;
  /** Broken invariants the device reported (answered INTERNAL): each one a bug found. */
  readonly brokenInvariants: unknown[];
  close(): Promise<void>;
}

function targetOf(address: string, serviceNames: readonly string[]): GrpcFuzzTarget {
  return { address, methods: fuzzMethods().filter((method) => serviceNames.includes(method.serviceName)) };
}

export async function startGrpcCluster(): Promise<GrpcCluster> {
  const folder = await temporaryFolder("switchyard-fuzz-");
  const device = await openTestDevice(folder.path, { storeSlotSizeBytes: 64 * 1024 });
  const deviceServer = new grpc.Server(controlServerOptions);
  const devicePort = await bindGrpc(deviceServer, "127.0.0.1", 0);
  const deviceAddress = `127.0.0.1:${devicePort}`;
  const brokenInvariants: unknown[] = [];
  // Added after binding, once the address it reports is known (as the device's own tests do).
  deviceServer.addService(
    loadGrpc().switchyard.v1.Device.service,
    deviceServiceHandlers(device, { grpcAddress: deviceAddress, nbdAddress: "127.0.0.1:1", now: () => performance.now(), onBrokenInvariant: (error) => brokenInvariants.push(error) }),
  );
  const apparatus = new VirtualizationApparatus({ id: "a", backends: memoryBackends([new MemoryLu(luSizeBytes), new MemoryLu(luSizeBytes)]) });
  const servedApparatus = await serveApparatus(apparatus, { host: "127.0.0.1", nbdPort: 0, grpcPort: 0 });
  const controller = await serveController({
    id: "c",
    host: "127.0.0.1",
    grpcPort: 0,
    deviceAddress,
    apparatuses: [{ id: "a", grpc: servedApparatus.grpcAddress, nbd: servedApparatus.nbdAddress }],
  });
  const health = "grpc.health.v1.Health";
  return {
    device: targetOf(deviceAddress, ["switchyard.v1.Device", health]),
    apparatus: targetOf(servedApparatus.grpcAddress, ["switchyard.v1.Apparatus", health]),
    controller: targetOf(controller.address, ["switchyard.v1.Controller", health]),
    brokenInvariants,
    async close() {
      await controller.close();
      await servedApparatus.close();
      await stopGrpc(deviceServer, grpcShutdownGraceMs);
      await device.close();
      await folder.remove();
    },
  };
}
