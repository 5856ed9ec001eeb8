/**
 * A virtualization apparatus: it serves host I/O to virtual volumes through
 * its configuration table, and takes table changes from the controller.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { ApparatusState, ConfigurationTable__Output } from "@switchyard/proto";
import type { NbdExport, NbdExportListing, NbdExportProvider } from "@switchyard/device/nbd";
import type { BackendSet } from "./backend.js";
import { ConfigurationFaces } from "./configuration-faces.js";
import { ApparatusError } from "./errors.js";
import { IoPath } from "./io-path.js";
import { VolumeExport } from "./volume-export.js";

/** How long a table load waits for I/O on removed volumes to finish before it reports failure. */
export const drainTimeoutMs = 5_000;
/** How often a drain looks again at the in-flight count: short, drains last microseconds to milliseconds. */
const drainPollMs = 1;

export interface ApparatusOptions {
  readonly id: string;
  readonly backends: BackendSet;
  /** Where this apparatus is reached, for GetState. */
  readonly nbdAddress?: string;
  readonly grpcAddress?: string;
}

export class VirtualizationApparatus {
  readonly id: string;
  readonly faces = new ConfigurationFaces();
  readonly io: IoPath;
  nbdAddress: string;
  grpcAddress: string;
  private readonly backends: BackendSet;
  private epochSeen = 0;

  constructor(options: ApparatusOptions) {
    assert.ok(options.id.length > 0);
    this.id = options.id;
    this.backends = options.backends;
    this.io = new IoPath(this.faces, options.backends);
    this.nbdAddress = options.nbdAddress ?? "";
    this.grpcAddress = options.grpcAddress ?? "";
  }

  get generation(): number {
    return this.faces.active.generation;
  }

  /** The NBD exports: one per volume of the active face. */
  exports(): NbdExportProvider {
    return {
      list: (): NbdExportListing[] =>
        Array.from(this.faces.active.volumes.values(), (map) => ({
          name: map.name,
          description: `Switchyard volume ${map.name} via apparatus ${this.id}`,
        })),
      open: (name: string): NbdExport | undefined => {
        const map = this.faces.active.volumes.get(name);
        return map === undefined ? undefined : new VolumeExport(this.io, name, map.sizeBytes);
      },
    };
  }

  /** Refuses a message from a controller older than one already heard (DESIGN.md: fencing token). */
  checkEpoch(epoch: number): void {
    if (epoch < this.epochSeen) {
      throw new ApparatusError("STALE_EPOCH", `stale epoch ${epoch}: apparatus ${this.id} has seen epoch ${this.epochSeen}`);
    }
    this.epochSeen = epoch;
  }

  /**
   * Loads a whole table (start, rejoin, volume create or delete). I/O on a
   * volume the new table no longer has is refused from the flip on; the load
   * returns once the I/O already running on it has finished, so its areas can
   * be given to another volume.
   */
  async loadTable(epoch: number, table: ConfigurationTable__Output): Promise<void> {
    this.checkEpoch(epoch);
    const before = new Set(this.faces.active.volumes.keys());
    try {
      this.faces.load(table);
    } catch (error) {
      throw new ApparatusError("INVALID_TABLE", `table refused: ${String(error)}`, { cause: error });
    }
    const removed = [...before].filter((name) => !this.faces.active.volumes.has(name));
    await this.drainVolumes(removed);
  }

  private async drainVolumes(volumes: readonly string[]): Promise<void> {
    const deadline = Date.now() + drainTimeoutMs;
    for (const volume of volumes) {
      while (this.io.inFlight(volume) > 0) {
        if (Date.now() > deadline) {
          throw new ApparatusError("DRAIN_TIMEOUT", `I/O on removed volume ${volume} did not finish within ${drainTimeoutMs} ms`);
        }
        await sleep(drainPollMs);
      }
    }
  }

  state(): ApparatusState {
    let inFlight = 0;
    for (const name of this.faces.active.volumes.keys()) inFlight += this.io.inFlight(name);
    return {
      apparatus_id: this.id,
      generation: this.generation,
      active_face: this.faces.activeFaceIndex,
      holds: [],
      pending_change_id: "",
      pending_phase: "",
      epoch_seen: this.epochSeen,
      status: this.io.fenced ? "APPARATUS_STATUS_FENCED" : "APPARATUS_STATUS_SERVING",
      pid: process.pid,
      nbd_address: this.nbdAddress,
      grpc_address: this.grpcAddress,
      requests_in_flight: inFlight,
    };
  }

  async close(): Promise<void> {
    await this.backends.close();
  }
}
