/**
 * Devices that published themselves in etcd's directory (issue 18: several
 * devices on one prefix), brought into the table. An empty prefix is seeded
 * from the first device's own store, so only that device's LUs are in the
 * table; a device that joins later, or one restarted on other ports, is
 * known only by its record (etcd-directory.ts: its addresses and its LUs).
 *
 * `planPublishedDevices` is pure: given the table and the records, it says
 * what the LU list should be. Each record's LUs the table lacks are
 * appended with the next free index (LU indexes are the cluster's, and an
 * index once used is never reused, as `device add-external` does), and
 * each of the device's LUs keeps its NBD URI at the address the device
 * published last (nbd://ADDRESS/LU, what the device itself records in its
 * own store), so a device restarted on other ports is reached again. An LU
 * id the table gives another device is left alone and said, never taken
 * over: LU ids name extents' homes, and renaming one would move data.
 *
 * The controller runs it at takeover and at each look-after and, when it
 * changes anything, writes the whole table at the next generation and
 * pushes it to every apparatus (as `device add-external` does), so every
 * apparatus opens the new LUs at their published addresses.
 */
import type { LogicalUnit__Output, StoreState, StoreState__Output } from "@switchyard/proto";
import type { DeviceRecord } from "@switchyard/coordination";
import type { DevicePort } from "./device-port.js";

export interface PublishedDevicesPlan {
  /** The state to write (next generation), or undefined when the table already says what the records say. */
  readonly state: StoreState | undefined;
  /** What was left alone and why, one line each, for the operator. */
  readonly warnings: readonly string[];
}

/** The LU's URI as its device records it (storage-device.ts publishNbdAddress). */
export function publishedNbdUri(nbdAddress: string, luId: string): string {
  return `nbd://${nbdAddress}/${luId}`;
}

export function planPublishedDevices(state: StoreState__Output, devices: readonly DeviceRecord[]): PublishedDevicesPlan {
  const warnings: string[] = [];
  const externalIds = new Set(state.external_devices.map((device) => device.id));
  const lus = state.lus.map((lu) => ({ ...lu }));
  let nextIndex = lus.reduce((highest, lu) => Math.max(highest, lu.index + 1), 0);
  let changed = false;
  for (const device of devices) {
    if (externalIds.has(device.id)) {
      warnings.push(`device ${device.id} published itself, but an external device has that name: its LUs are left out`);
      continue;
    }
    for (const published of device.lus) {
      const existing = lus.find((lu) => lu.id === published.id);
      if (existing !== undefined && existing.device_id !== device.id) {
        warnings.push(`device ${device.id} publishes LU ${published.id}, which the table gives device ${existing.device_id}: left out (give the device another --id)`);
        continue;
      }
      if (existing === undefined) {
        lus.push(newLu(nextIndex, device, published));
        nextIndex += 1;
        changed = true;
      }
    }
    changed = mendUris(lus, device) || changed;
  }
  if (!changed) return { state: undefined, warnings };
  return { state: { ...state, generation: state.generation + 1, lus }, warnings };
}

function newLu(index: number, device: DeviceRecord, published: DeviceRecord["lus"][number]): LogicalUnit__Output {
  return {
    index,
    id: published.id,
    device_id: device.id,
    size_bytes: published.sizeBytes,
    extent_size_bytes: published.extentSizeBytes,
    nbd_uri: publishedNbdUri(device.nbd, published.id),
    external: false,
  };
}

/** Points each of the device's LUs at its published NBD address; true when one moved. */
function mendUris(lus: LogicalUnit__Output[], device: DeviceRecord): boolean {
  let changed = false;
  for (const lu of lus) {
    if (lu.device_id !== device.id || lu.external) continue;
    const uri = publishedNbdUri(device.nbd, lu.id);
    if (lu.nbd_uri === uri) continue;
    lu.nbd_uri = uri;
    changed = true;
  }
  return changed;
}

export interface PublishedDevicesPorts {
  /** The directory's device records (etcd-directory.ts). */
  readonly devices: () => Promise<DeviceRecord[]>;
  readonly read: (options?: { omitExtents?: boolean; omitJournal?: boolean }) => Promise<{ state: StoreState__Output; sequence: number }>;
  /** The whole-table write and the push to every apparatus. */
  readonly writeAndPush: (state: StoreState, sequence: number) => Promise<void>;
  readonly warn: (message: string) => void;
}

/** Runs the plan against the world: a cheap read to plan, the whole table only when something changes. */
export class PublishedDevices {
  /** Warnings said once: the plan runs every look-after, and a conflict stays until an operator acts. */
  private readonly warned = new Set<string>();

  constructor(private readonly ports: PublishedDevicesPorts) {}

  /** Over a device port that lists published devices (on etcd); undefined over one that does not (embedded). */
  static over(device: Pick<DevicePort, "publishedDevices">, ports: Omit<PublishedDevicesPorts, "devices">): PublishedDevices | undefined {
    const devices = device.publishedDevices?.bind(device);
    return devices === undefined ? undefined : new PublishedDevices({ ...ports, devices });
  }

  /** Each published device's gRPC address, by id (cluster status). */
  async grpcAddresses(): Promise<Map<string, string>> {
    return new Map((await this.ports.devices()).map((record) => [record.id, record.grpc]));
  }

  /** Never rejects: a directory or store that does not answer now is tried again at the next look-after, and said. */
  async adopt(): Promise<void> {
    try {
      await this.adoptOnce();
    } catch (error) {
      this.ports.warn(`the published devices could not be brought into the table now: ${String(error)}`);
    }
  }

  private async adoptOnce(): Promise<void> {
    const devices = await this.ports.devices();
    // Without the extent maps and the journal: this runs every look-after, and usually changes nothing.
    const cheap = planPublishedDevices((await this.ports.read({ omitExtents: true, omitJournal: true })).state, devices);
    for (const warning of cheap.warnings) {
      if (this.warned.has(warning)) continue;
      this.warned.add(warning);
      this.ports.warn(warning);
    }
    if (cheap.state === undefined) return;
    // A whole write needs the whole state: planned again from it, so nothing read in between is lost.
    const { state, sequence } = await this.ports.read();
    const plan = planPublishedDevices(state, devices);
    if (plan.state !== undefined) await this.ports.writeAndPush(plan.state, sequence);
  }
}
