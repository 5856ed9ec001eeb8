/**
 * Where one process's gRPC servers run (issue 20 item 3): with
 * `--processors 2` (the default) on a control thread (ControlThread), apart
 * from the thread that answers hosts; with `--processors 1` on that thread
 * too, as everything else. Either way an apparatus's server carries the
 * Controller forwarding, so every apparatus answers console calls.
 */
import { ControlThread, controllerForwarder, type ControllerForwarder, type ControllerThreadMode } from "@switchyard/controller";
import { serveControlHere } from "@switchyard/apparatus";
import { nodeCredentials, type ControlServing } from "@switchyard/security";

export interface ProcessControl {
  /** For a server that also forwards console calls to the controller, calling it with the certificate in `tlsFolder`. */
  forwarding(tlsFolder: string | undefined): ControlServing;
  /** For a server with its own services only (a device's). */
  readonly plain: ControlServing;
  /** Where the forwarding sends console calls: the controller's address, undefined until one listens. */
  forwardTo(address: string | undefined): void;
  /** After every server it started is closed. */
  close(): Promise<void>;
}

export function processControl(mode: ControllerThreadMode): ProcessControl {
  return mode === "worker" ? threadControl(ControlThread.start()) : hereControl();
}

function threadControl(thread: ControlThread): ProcessControl {
  return {
    forwarding: (tlsFolder) => thread.serving({ tlsFolder }),
    plain: thread.serving(),
    forwardTo: (address) => {
      thread.forwardTo(address);
    },
    close: () => thread.close(),
  };
}

function hereControl(): ProcessControl {
  const slot: { address?: string } = {};
  const forwarders: ControllerForwarder[] = [];
  return {
    forwarding: (tlsFolder) => (spec) => {
      const forwarder = controllerForwarder(() => slot.address, nodeCredentials(tlsFolder));
      forwarders.push(forwarder);
      return serveControlHere({ ...spec, services: [...spec.services, { service: forwarder.service, handlers: forwarder.handlers }] });
    },
    plain: serveControlHere,
    forwardTo: (address) => {
      if (address === undefined) delete slot.address;
      else slot.address = address;
    },
    close: () => {
      for (const forwarder of forwarders) forwarder.close();
      return Promise.resolve();
    },
  };
}
