/**
 * Puts a controller on the network: its own gRPC server with the Controller
 * service, in whichever thread calls this. The controller reaches devices and
 * apparatuses only through their gRPC services, so it may run on a worker
 * thread of its own (claim 10) or share a thread with apparatuses (claim 11)
 * without anything else changing.
 */
import * as grpc from "@grpc/grpc-js";
import { bindGrpc, controlChannelOptions, grpcShutdownGraceMs, loadGrpc, stopGrpc } from "@switchyard/proto";
import { ClusterController, type ClusterControllerOptions } from "./cluster-controller.js";
import { controllerHandlers } from "./controller-service.js";
import { ControllerError } from "./errors.js";
import { controllerLogger } from "./change-log.js";

/** What a controller needs to start anywhere: plain data, so it can be handed to a worker thread. */
export interface ServeControllerOptions extends Omit<ClusterControllerOptions, "address" | "now" | "onLeader" | "logger"> {
  /** Address the Controller service listens on. */
  readonly host: string;
  /** 0 picks a free port. */
  readonly grpcPort: number;
}

export interface ServedController {
  /** The Controller service's gRPC address. */
  readonly address: string;
  close(): Promise<void>;
}

/** `onLeader` hears the controller's address whenever the arbiter names another holder (this one's own when it wins). */
export async function serveController(options: ServeControllerOptions, onLeader?: (address: string) => void): Promise<ServedController> {
  const server = new grpc.Server(controlChannelOptions);
  const slot: { controller?: ClusterController } = {};
  server.addService(loadGrpc().switchyard.v1.Controller.service, controllerHandlers(() => {
    // The service listens before the controller has its lease: until then it answers UNAVAILABLE.
    if (slot.controller === undefined) throw new ControllerError("UNAVAILABLE", "the controller is starting; try again in a moment");
    return slot.controller;
  }));
  const port = await bindGrpc(server, options.host, options.grpcPort);
  const address = `${options.host}:${port}`;
  // The logger is made here, in the thread the controller runs on: a logger cannot cross to a worker.
  const logger = controllerLogger(options.id);
  const controller = new ClusterController({ ...options, address, logger, ...(onLeader === undefined ? {} : { onLeader }) });
  // Console calls may arrive as soon as it campaigns; while it follows, they say who leads.
  slot.controller = controller;
  try {
    await controller.start();
  } catch (error: unknown) {
    controller.close();
    server.forceShutdown();
    throw error;
  }
  return {
    address,
    async close() {
      // Never rejects: a device that does not answer costs the records, not the close.
      await controller.flushJournal();
      controller.close();
      await stopGrpc(server, grpcShutdownGraceMs);
    },
  };
}
