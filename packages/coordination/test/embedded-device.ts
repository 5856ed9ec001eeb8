/**
 * A real embedded coordinator for the shared suite: a storage device in a
 * temporary folder behind the real Device gRPC service on 127.0.0.1:0, as
 * device/src/device-service.test.ts starts one, and clients onto it over
 * loopback gRPC. Everything is torn down by `close`.
 */
import * as grpc from "@grpc/grpc-js";
import { callUnary, controlChannelOptions, deadlineAfter, loadGrpc, type DeviceClient } from "@switchyard/proto";
import { deviceServiceHandlers } from "@switchyard/device";
import { openTestDevice, temporaryFolder } from "@switchyard/device/testing";
import { embeddedCoordination, type Coordination, type DeviceCoordinationPort } from "../src/index.js";
import type { CoordinationUnderTest } from "../src/testing/index.js";

/** As the controller's callTimeoutMs (controller/src/device-port.ts). */
const callTimeoutMs = 2_000;

export async function freshEmbeddedCoordinator(): Promise<CoordinationUnderTest> {
  const folder = await temporaryFolder("switchyard-coordination-");
  const device = await openTestDevice(folder.path, { storeSlotSizeBytes: 64 * 1024 });
  const server = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error === null) resolve(boundPort);
      else reject(error);
    });
  });
  const address = `127.0.0.1:${port}`;
  // The arbiter's clock: monotonic, as the device's own serve command uses.
  server.addService(loadGrpc().switchyard.v1.Device.service,
    deviceServiceHandlers(device, { grpcAddress: address, nbdAddress: "127.0.0.1:10809", now: () => performance.now() }));
  const clients: Coordination[] = [];
  return {
    connect: () => {
      const client = embeddedCoordination({ port: grpcPort(address), deviceAddress: address, now: () => performance.now() });
      clients.push(client);
      return client;
    },
    close: async () => {
      await Promise.all(clients.map((client) => client.close()));
      server.forceShutdown();
      await device.close();
      await folder.remove();
    },
  };
}

function grpcPort(address: string): DeviceCoordinationPort {
  const client: DeviceClient = new (loadGrpc().switchyard.v1.Device)(address, grpc.credentials.createInsecure(), controlChannelOptions);
  const within = (): grpc.CallOptions => ({ deadline: deadlineAfter(callTimeoutMs) });
  return {
    acquireLease: (request) => callUnary((done) => client.AcquireLease(request, within(), done)),
    renewLease: (request) => callUnary((done) => client.RenewLease(request, within(), done)),
    readStore: (request) => callUnary((done) => client.ReadStore(request, within(), done)),
    writeStore: (request) => callUnary((done) => client.WriteStore(request, within(), done)),
    commitDelta: (request) => callUnary((done) => client.CommitDelta(request, within(), done)),
    registerKey: (request) => callUnary((done) => client.RegisterKey(request, within(), done)),
    fence: (request) => callUnary((done) => client.Fence(request, within(), done)),
    renewRegistration: (request) => callUnary((done) => client.RenewRegistration(request, within(), done)),
    getLeaseHolder: (request) => callUnary((done) => client.GetLeaseHolder(request, within(), done)),
    close: () => {
      client.close();
    },
  };
}
