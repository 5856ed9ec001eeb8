/**
 * What the parts `switchyard` starts are built with beyond their options:
 * empty, the production parts. A build for tests (testing/cli.ts) composes
 * other parts in here; no production flag reaches them.
 */
import type { ApparatusBehaviour, BackendSet } from "@switchyard/apparatus";
import type { ChangePortsModule } from "@switchyard/controller";
import type { NbdRequestCheck } from "@switchyard/nbd";
import type { DeviceFiles } from "@switchyard/device";

export interface Composition {
  /** How every apparatus decides at each protocol step; the protocol as DESIGN.md states it if absent. */
  readonly apparatusBehaviour?: ApparatusBehaviour;
  /** A decorator of how `apparatus serve` reaches its LUs (its backend set); the backends as they are if absent. */
  readonly apparatusBackends?: (backends: BackendSet) => BackendSet;
  /** How the NBD server of `apparatus serve` checks each host request; the spec's rules (requestErrno) if absent. */
  readonly apparatusNbdRequestCheck?: NbdRequestCheck;
  /** A decorator of the ports the controller runs each change over, loaded in the controller's own thread. */
  readonly changePortsModule?: ChangePortsModule;
  /** The file-I/O port the device of `up` keeps its files through; node:fs if absent. */
  readonly deviceFiles?: DeviceFiles;
}
