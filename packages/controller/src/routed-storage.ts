/**
 * The storage calls of a controller on etcd with several devices on one
 * prefix (issue 18): each goes to the device that holds the LU it names,
 * found by the LU's `device_id` in the table and the device's address in
 * etcd's directory (etcd-directory.ts), one DevicePort per device. With one
 * device this is that device's port, as before.
 *
 * - Scrubbing names its LU; a mirror names its source LU (a mirror is kept
 *   by the device holding both areas: DESIGN "Online migration").
 * - ListMirrors is a long poll on one device's progress counter. Across
 *   devices the answer is the mirrors of every device asked, and the
 *   progress is the sum of their counters: it rises when any of them does.
 *   Each device is passed back its own last counter when the caller passes
 *   back the sum this port last answered (any other value asks afresh). A
 *   waiting poll asks only the devices this port started a mirror on, or
 *   last saw one on, so a device with no copy does not hold the answer for
 *   the whole wait; a poll that does not wait (the mirror check before a
 *   commit), or one while no such device is known (a new controller
 *   resuming copies, whose first device may be the one that died), asks
 *   every device. A poll fails only when every device asked fails.
 * - Registrations and fences go to every device, and the first device that
 *   takes one answers: the coordination holds them (the truth, which every
 *   device follows through its watch, device followed-registrations.ts), so
 *   these calls only let a device know at once; a device that is down must
 *   not stop an apparatus from serving through the others.
 * - The inventory (disk faults) is every device's LUs that answer.
 * - A probe of an external server goes to the first device (any can).
 *
 * A device that does not answer fails only the calls routed to it: that is
 * what makes losing a device stop only the volumes with extents on it.
 */
import assert from "node:assert/strict";
import type { DeviceRecord } from "@switchyard/coordination";
import type { ListMirrorsRequest, ListMirrorsResponse__Output, LogicalUnit__Output } from "@switchyard/proto";
import type { StoragePort } from "./device-port.js";

/**
 * A routed call for a device or LU not yet known reads the directory (or
 * the table) again, at most this often: a device that never published
 * (or an LU id that is not in the table) would otherwise cost a read per
 * call. A device joining is seen within it.
 */
export const routesRefreshMs = 1_000;

export interface RoutedStorageOptions {
  /** The device this controller was started with: the first asked, and the one used while no route is known. */
  readonly first: { readonly address: string; readonly port: StoragePort };
  /** The directory's device records. */
  readonly devices: () => Promise<readonly DeviceRecord[]>;
  /** The table's LU list: which device holds each LU. */
  readonly lus: () => Promise<readonly LogicalUnit__Output[]>;
  /** A port to the device at a gRPC address. */
  readonly portAt: (address: string) => StoragePort;
  readonly now: () => number;
}

/** The routed port, and what its owner tells it: the LUs of each table it reads. */
export interface RoutedStorage extends StoragePort {
  /** The table's LU list as just read (coordination-device-port.ts readStore), so routing seldom reads it itself. */
  observeLus(lus: readonly LogicalUnit__Output[]): void;
}

export function routedStorage(options: RoutedStorageOptions): RoutedStorage {
  const routes = new StorageRoutes(options);
  return {
    observeLus: (lus) => { routes.observeLus(lus); },
    scrubAreas: async (request) => (await routes.forLu(request.lu_id ?? "")).scrubAreas(request),
    startMirror: async (request) => {
      const address = await routes.addressOfLu(request.mirror?.source_lu_id ?? "");
      routes.mirroring.add(address);
      return routes.portAt(address).startMirror(request);
    },
    listMirrors: (request) => routes.listMirrors(request),
    getInventory: async (request) => {
      const answers = await routes.everyAnswering((port) => port.getInventory(request));
      const [first] = answers;
      assert.ok(first !== undefined);
      return { ...first, lus: answers.flatMap((answer) => answer.lus) };
    },
    registerKey: async (request) => routes.firstTaking((port) => port.registerKey(request)),
    fence: async (request) => routes.firstTaking((port) => port.fence(request)),
    probeNbdExport: (request) => options.first.port.probeNbdExport(request),
    close: () => { routes.close(); },
  };
}

class StorageRoutes {
  /** Devices this port started a mirror on, or last saw one on: where a waiting poll asks. */
  readonly mirroring = new Set<string>();
  private readonly ports = new Map<string, StoragePort>();
  private addressById = new Map<string, string>();
  private deviceByLu = new Map<string, string>();
  private devicesReadAtMs = -Infinity;
  private lusReadAtMs = -Infinity;
  /** Each device's last ListMirrors counter, and the sum last answered. */
  private readonly progressSeen = new Map<string, number>();
  private progressAnswered = 0;

  constructor(private readonly options: RoutedStorageOptions) {
    this.ports.set(options.first.address, options.first.port);
  }

  observeLus(lus: readonly LogicalUnit__Output[]): void {
    this.deviceByLu = new Map(lus.filter((lu) => !lu.external).map((lu) => [lu.id, lu.device_id]));
  }

  portAt(address: string): StoragePort {
    let port = this.ports.get(address);
    if (port === undefined) {
      port = this.options.portAt(address);
      this.ports.set(address, port);
    }
    return port;
  }

  async forLu(luId: string): Promise<StoragePort> {
    return this.portAt(await this.addressOfLu(luId));
  }

  /** The gRPC address of the device holding `luId`; the first device's while that is not known. */
  async addressOfLu(luId: string): Promise<string> {
    if (!this.deviceByLu.has(luId) && this.due("lus")) this.observeLus(await this.options.lus());
    const deviceId = this.deviceByLu.get(luId);
    if (deviceId === undefined) return this.options.first.address;
    if (!this.addressById.has(deviceId) && this.due("devices")) await this.readDevices();
    return this.addressById.get(deviceId) ?? this.options.first.address;
  }

  /** Every device known: the first, and each one the directory lists. */
  async addresses(): Promise<string[]> {
    if (this.due("devices")) await this.readDevices().catch(() => undefined); // the ports already known still serve
    return [...new Set([this.options.first.address, ...this.addressById.values()])];
  }

  async listMirrors(request: ListMirrorsRequest): Promise<ListMirrorsResponse__Output> {
    const waiting = (request.wait_ms ?? 0) > 0;
    const asked = waiting && this.mirroring.size > 0 ? [...this.mirroring] : await this.addresses();
    const resumed = request.after_progress === this.progressAnswered;
    const settled = await Promise.allSettled(asked.map((address) =>
      this.portAt(address).listMirrors({ ...request, after_progress: resumed ? (this.progressSeen.get(address) ?? 0) : 0 })));
    const mirrors: ListMirrorsResponse__Output["mirrors"] = [];
    settled.forEach((result, index) => {
      const address = asked[index] ?? "";
      if (result.status === "rejected") return;
      this.progressSeen.set(address, result.value.progress);
      mirrors.push(...result.value.mirrors);
      if (result.value.mirrors.length > 0) this.mirroring.add(address);
      else this.mirroring.delete(address);
    });
    const failure = settled.find((result) => result.status === "rejected");
    if (failure !== undefined && settled.every((result) => result.status === "rejected")) throw failure.reason;
    this.progressAnswered = [...this.progressSeen.values()].reduce((sum, progress) => sum + progress, 0);
    return { mirrors, progress: this.progressAnswered };
  }

  /** The answers of every device that answers; the first failure when none does. */
  async everyAnswering<Answer>(call: (port: StoragePort) => Promise<Answer>): Promise<Answer[]> {
    const settled = await Promise.allSettled((await this.addresses()).map((address) => call(this.portAt(address))));
    const answers = settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const failure = settled.find((result) => result.status === "rejected");
    if (answers.length === 0 && failure !== undefined) throw failure.reason;
    return answers;
  }

  /** The first device's answer that takes the call; the first failure when none does. The others go on by themselves. */
  async firstTaking<Answer>(call: (port: StoragePort) => Promise<Answer>): Promise<Answer> {
    const calls = (await this.addresses()).map((address) => call(this.portAt(address)));
    try {
      return await Promise.any(calls);
    } catch (error) {
      assert.ok(error instanceof AggregateError);
      throw error.errors[0];
    }
  }

  close(): void {
    for (const port of this.ports.values()) port.close();
  }

  private async readDevices(): Promise<void> {
    this.devicesReadAtMs = this.options.now();
    this.addressById = new Map((await this.options.devices()).map((record) => [record.id, record.grpc]));
  }

  /** Whether a read of `what` may be made now (routesRefreshMs). */
  private due(what: "lus" | "devices"): boolean {
    const now = this.options.now();
    if (what === "lus") {
      if (now - this.lusReadAtMs < routesRefreshMs) return false;
      this.lusReadAtMs = now;
      return true;
    }
    return now - this.devicesReadAtMs >= routesRefreshMs;
  }
}
