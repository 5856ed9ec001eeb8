/**
 * Puts a controller on the network: its own gRPC server with the Controller
 * service, in whichever thread calls this. The controller reaches devices and
 * apparatuses only through their gRPC services, so it may run on a worker
 * thread of its own (claim 10) or share a thread with apparatuses (claim 11)
 * without anything else changing.
 */
import assert from "node:assert/strict";
import { addStandardServices, controlServerOptions, grpcShutdownGraceMs, loadGrpc, stopGrpc } from "@switchyard/proto";
import { GuardedServer, nodeCredentials } from "@switchyard/security";
import { ClusterController, type ClusterControllerOptions } from "./cluster-controller.js";
import { authorizedControllerHandlers } from "./controller-authorization.js";
import { controllerHandlers } from "./controller-service.js";
import { ControllerError } from "./errors.js";
import { controllerLogger } from "./change-log.js";
import type { ChangePortsDecorator } from "./change-driver.js";

/**
 * A decorator of the ports each change runs over, named as plain data: a
 * function cannot be handed to a worker thread, so the thread the
 * controller runs on imports the module itself. The module exports
 * `changePortsDecorator(settings)`, which checks its settings and returns
 * the decorator.
 */
export interface ChangePortsModule {
  /** The module's URL (a file: URL, as `import.meta.url` gives). */
  readonly url: string;
  /** What to pass its `changePortsDecorator`: plain data, copied to a worker thread. */
  readonly settings: unknown;
}

/** What a controller needs to start anywhere: plain data, so it can be handed to a worker thread. */
export interface ServeControllerOptions extends Omit<ClusterControllerOptions, "address" | "now" | "onLeader" | "logger" | "decorateChangePorts"> {
  /** Address the Controller service listens on. */
  readonly host: string;
  /** Where others reach it, named in the election (another than `host` when that is 0.0.0.0); `host` if absent. */
  readonly publishHost?: string;
  /** 0 picks a free port. */
  readonly grpcPort: number;
  /** Where the decorator of its changes' ports comes from; none if absent. */
  readonly changePortsModule?: ChangePortsModule;
}

type ChangePortsFactory = (settings: unknown) => ChangePortsDecorator;

function hasChangePortsFactory(value: unknown): value is { readonly changePortsDecorator: ChangePortsFactory } {
  return typeof value === "object" && value !== null && "changePortsDecorator" in value && typeof value.changePortsDecorator === "function";
}

/** Imports the module named and builds its decorator, in the thread that calls this. */
async function loadChangePortsDecorator(source: ChangePortsModule): Promise<ChangePortsDecorator> {
  const loaded: unknown = await import(source.url);
  // A composition that names a module without the factory is a broken build, not an operating error.
  assert.ok(hasChangePortsFactory(loaded), `${source.url} exports no changePortsDecorator function`);
  return loaded.changePortsDecorator(source.settings);
}

export interface ServedController {
  /** The Controller service's gRPC address. */
  readonly address: string;
  close(): Promise<void>;
}

/** `onLeader` hears the controller's address whenever the arbiter names another holder (this one's own when it wins). */
export async function serveController(options: ServeControllerOptions, onLeader?: (address: string) => void): Promise<ServedController> {
  const { changePortsModule, publishHost, ...controllerOptions } = options;
  const decorateChangePorts = changePortsModule === undefined ? undefined : await loadChangePortsDecorator(changePortsModule);
  const server = new GuardedServer(controlServerOptions);
  const slot: { controller?: ClusterController } = {};
  const service = loadGrpc().switchyard.v1.Controller.service;
  const handlers = controllerHandlers(() => {
    // The service listens before the controller has its lease: until then it answers UNAVAILABLE.
    if (slot.controller === undefined) throw new ControllerError("UNAVAILABLE", "the controller is starting; try again in a moment");
    return slot.controller;
  });
  const credentials = nodeCredentials(options.tlsFolder);
  server.addService(service, authorizedControllerHandlers(credentials.secure, service, handlers));
  await addStandardServices(server);
  const port = await server.listen(options.host, options.grpcPort, credentials.serverTls);
  const address = `${publishHost ?? options.host}:${port}`;
  // The logger is made here, in the thread the controller runs on: a logger cannot cross to a worker.
  const logger = controllerLogger(options.id);
  const controller = new ClusterController({
    ...controllerOptions,
    address,
    logger,
    ...(onLeader === undefined ? {} : { onLeader }),
    ...(decorateChangePorts === undefined ? {} : { decorateChangePorts }),
  });
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
