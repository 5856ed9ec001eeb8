/**
 * The configuration change controller, composed: the lease (lease-driver.ts
 * over lease-core.ts, claim 12), the control range (membership.ts over
 * membership-core.ts, claim 3), the committed table (table-keeper.ts),
 * changes (change-executor.ts over change-run.ts) and migrations
 * (migration-runs.ts), all over the same ports: a Scheduler, the device's
 * and the apparatuses' calls, Entropy and Warn. Every store write and every
 * message to an apparatus carries the lease's epoch, so a deposed
 * controller can change nothing. What is left here is who calls whom, and
 * the operations that change the table as a whole (volume create and
 * delete, external devices, operator fences).
 */
import assert from "node:assert/strict";
import { threadId } from "node:worker_threads";
import { nodeCredentials } from "@switchyard/security";
import { type ChangeInfo, type ClusterStatus, type CoordinationStatus, type DeviceStatus, type JournalEntry, type StoreState, type StoreState__Output, type VolumeInfo } from "@switchyard/proto";
import { allocateAreas, type AreaRef } from "./allocation.js";
import { grpcApparatusPort, type ApparatusPortFactory } from "./apparatus-port.js";
import type { ChangePortsDecorator } from "./change-driver.js";
import { ChangeExecutor, infoOf, phaseTimeoutMsDefault } from "./change-executor.js";
import type { ChangeLogger } from "./change-log.js";
import { planResize, type ChangePlan } from "./change-plans.js";
import { grpcDevicePort, type DevicePort } from "./device-port.js";
import { relayLinks, type ProcessLink } from "./process-links.js";
import { etcdControllerLeaseMs, etcdDevicePort, type EtcdSettings } from "./coordination-device-port.js";
import { processWarn, systemEntropy, type Entropy, type Warn } from "./environment.js";
import { ControllerError } from "./errors.js";
import { requireLu } from "./external-devices.js";
import { addExternalDevice, devicesStatus, probeExport, removeExternalDevice, type ExternalRegistration } from "./external-registration.js";
import { LeaseDriver } from "./lease-driver.js";
import { Membership, type ApparatusEndpoint } from "./membership.js";
import type { MigrationRequest } from "./migration.js";
import { MigrationRuns } from "./migration-runs.js";
import { rolledBackEntries } from "./recovery.js";
import { DiskFaultWatch } from "./disk-fault-watch.js";
import { eventRecord, type RecordedEventKind } from "./event-records.js";
import { PublishedDevices } from "./published-devices.js";
import { Rejoins } from "./rejoins.js";
import { tcpHolderProbe } from "./holder-probe.js";
import { systemScheduler, type Scheduler } from "./scheduler.js";
import { TableKeeper } from "./table-keeper.js";
import { checkVolumeName, checkVolumeSize, volumeInfo, volumeTable } from "./volumes.js";

export type { ApparatusEndpoint } from "./membership.js";

/** The controller lease asked of the embedded arbiter (on etcd: etcdControllerLeaseMs); renewed every third of it. */
export const leaseMsDefault = 6_000;
/**
 * A whole table sent to an apparatus (LoadTable): a million-extent table is
 * several megabytes to decode and build into typed arrays, several at once
 * on a loaded machine, which takes seconds rather than callTimeoutMs.
 */
export const loadTableTimeoutMs = 30_000;
/** The lease apparatuses get: they renew it with the device every quarter of it, and stop serving when it runs out. */
export const apparatusLeaseMsDefault = 3_000;
/** Volumes a cluster may hold: each is an NBD export on every apparatus. */
export const volumesMax = 1_024;

export interface ClusterControllerOptions {
  readonly id: string;
  /** This controller's own gRPC address, registered with the lease for consoles to find. */
  readonly address: string;
  readonly deviceAddress: string;
  /**
   * The identity folder (@switchyard/security layout.ts) of the apparatus
   * it runs in: the controller presents that certificate to devices and
   * apparatuses over mutual TLS, and serves its Controller service with it
   * (controller-serve.ts). Plain gRPC everywhere if absent. A path, not
   * credentials, so the options cross to a worker thread.
   */
  readonly tlsFolder?: string;
  readonly apparatuses: readonly ApparatusEndpoint[];
  readonly leaseMs?: number;
  /** An apparatus silent this long in one phase of a change is fenced (default 2 s). */
  readonly phaseTimeoutMs?: number;
  /** The lease apparatuses hold (default 3 s). */
  readonly apparatusLeaseMs?: number;
  /** An apparatus that has not loaded a whole table this long after it was sent is fenced (default loadTableTimeoutMs). */
  readonly loadTableTimeoutMs?: number;
  /** The device's calls (default: its gRPC service at deviceAddress, with `etcd` as below). */
  readonly device?: DevicePort;
  /**
   * Coordination on an existing etcd cluster (issue 18): the lease, the
   * store, registrations and fences go there under this key prefix, and only
   * the storage calls to the device (coordination-device-port.ts). Plain
   * data, so the options cross to a worker thread. The device is the
   * coordination if absent.
   */
  readonly etcd?: EtcdSettings;
  /** Each apparatus's calls, by its gRPC address (default: its gRPC service, or its link). */
  readonly apparatusPort?: ApparatusPortFactory;
  /**
   * The apparatuses and device that serve in this process, reached over
   * these ports rather than gRPC (process-links.ts). MessagePorts, moved to
   * a worker thread with the options.
   */
  readonly links?: readonly ProcessLink[];
  /** The clock and timers of the lease, changes and migrations (default: the system's). */
  readonly scheduler?: Scheduler;
  /** Where change ids and registration keys get their random part (default: the system's). */
  readonly entropy?: Entropy;
  /** Where warnings go (default: process.emitWarning). */
  readonly warn?: Warn;
  /** Told the address of the controller whenever it changes: this one's own, or another's. */
  readonly onLeader?: (address: string) => void;
  /** Wraps the ports each change runs over (change-driver.ts); the ports as they are if absent. */
  readonly decorateChangePorts?: ChangePortsDecorator;
  /** Where changes log their phases (change-log.ts). */
  readonly logger?: ChangeLogger;
}

export class ClusterController {
  readonly id: string;
  private readonly deviceAddress: string;
  private readonly device: DevicePort;
  private readonly lease: LeaseDriver;
  private readonly members: Membership;
  private readonly table: TableKeeper;
  private readonly changes: ChangeExecutor;
  private readonly migrations: MigrationRuns;
  private readonly warn: Warn;
  /** Operations that change the table run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Records of changes a predecessor left, ended by the takeover, that the journal does not have yet. */
  private recordsToWrite: JournalEntry[] = [];
  private readonly entropy: Entropy;
  private readonly rejoins: Rejoins;
  private readonly diskFaults = new DiskFaultWatch();
  private readonly publishedDevices: PublishedDevices | undefined;

  constructor(options: ClusterControllerOptions) {
    const credentials = nodeCredentials(options.tlsFolder).channel;
    const scheduler = options.scheduler ?? systemScheduler;
    const entropy = options.entropy ?? systemEntropy;
    this.entropy = entropy;
    const warn = options.warn ?? processWarn;
    const apparatusLeaseMs = options.apparatusLeaseMs ?? apparatusLeaseMsDefault;
    const onLeader = options.onLeader ?? (() => undefined);
    const links = relayLinks(options.links, options.tlsFolder);
    const deviceGrpc = (address: string): DevicePort => grpcDevicePort(address, credentials, links.get(address));
    const device = options.device ?? (options.etcd === undefined ? deviceGrpc(options.deviceAddress)
      : etcdDevicePort(options.etcd, { address: options.deviceAddress, port: deviceGrpc(options.deviceAddress) }, deviceGrpc, () => scheduler.now()));
    const serialized = <T>(work: () => Promise<T>): Promise<T> => this.serialized(work);
    this.id = options.id;
    this.deviceAddress = options.deviceAddress;
    this.device = device;
    this.warn = warn;
    this.members = new Membership(options.apparatuses, {
      device,
      apparatusPort: options.apparatusPort ?? ((address) => grpcApparatusPort(address, credentials, links.get(address))),
      deviceAddress: options.deviceAddress,
      apparatusLeaseMs,
      loadTableTimeoutMs: options.loadTableTimeoutMs ?? loadTableTimeoutMs,
      scheduler, entropy, warn,
      controllerId: options.id,
    });
    this.table = new TableKeeper(device, () => this.epoch);
    this.lease = new LeaseDriver({
      id: options.id, address: options.address, leaseMs: options.leaseMs ?? (options.etcd === undefined ? leaseMsDefault : etcdControllerLeaseMs), device, scheduler, warn,
      holderProbe: tcpHolderProbe,
      duties: {
        lead: () => this.serialized(() => this.takeOver()),
        lookAfter: () => this.lookAfter(),
        stepDown: (reason) => {
          this.table.forget();
          warn(`controller ${this.id} stops acting: ${reason}`);
        },
        leader: onLeader,
      },
    });
    this.changes = new ChangeExecutor({
      phaseTimeoutMs: options.phaseTimeoutMs ?? phaseTimeoutMsDefault,
      controlRange: () => this.members.controlRange(),
      fence: (apparatusId, epoch) => this.members.fence(apparatusId, epoch),
      apparatusLeaseMs,
      commitDelta: (delta, changeEpoch) => this.table.commit(delta, changeEpoch),
      serialize: serialized,
      storeGeneration: async () => (await this.table.read({ omitExtents: true, omitJournal: true })).state.generation,
      selfId: options.id,
      scheduler, entropy, warn,
      ...(options.decorateChangePorts === undefined ? {} : { decoratePorts: options.decorateChangePorts }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    this.migrations = new MigrationRuns({
      controllerId: options.id, device, table: this.table, serialized, scheduler, entropy, warn,
      runChange: (state, plan) => this.runChange(state, plan),
      epoch: () => this.epoch,
      isLeader: () => this.isLeader,
    });
    this.publishedDevices = PublishedDevices.over(device, {
      read: (readOptions) => this.table.read(readOptions), writeAndPush: (state, sequence) => this.writeAndPush(state, sequence), warn,
    });
    this.rejoins = new Rejoins({
      members: this.members, table: this.table, serialized, warn,
      epoch: () => this.epoch,
      note: (kind, subject, cause) => { this.noteEvent(kind, subject, cause); },
    });
  }

  /**
   * Campaigns for the controller lease (claim 12) and keeps at it: while it
   * holds the lease it acts and renews; otherwise it follows, learning who
   * holds it, and takes over when that one stops renewing. Resolves after
   * the first attempt, holder or not, and after the takeover if it won.
   */
  start(): Promise<void> {
    return this.lease.start();
  }

  /** True while this controller holds an unexpired lease. */
  get isLeader(): boolean {
    return this.lease.epochNow() !== undefined;
  }

  get epoch(): number {
    const epoch = this.lease.epochNow();
    if (epoch === undefined) throw new ControllerError("NOT_CONTROLLER", `${this.id} does not hold the controller lease`);
    return epoch;
  }

  /**
   * Brings every apparatus to the committed table under this controller's
   * epoch (membership.ts), resumes the migrations the journal shows running,
   * and records the changes a predecessor left as rolled back.
   */
  private async takeOver(): Promise<void> {
    // The journal too: it tells a change that committed from one left behind.
    const { state } = await this.table.read();
    const epoch = this.epoch;
    const pending = await this.members.takeOver(state, epoch);
    this.diskFaults.seed(state.journal);
    this.migrations.resume(state);
    this.recordsToWrite = rolledBackEntries(state, pending, { controllerId: this.id, epoch, nowMs: this.now() });
    // The whole table just served again whatever a hold shut while no controller acted: each is an event.
    for (const { apparatusId } of pending) this.rejoins.noteHoldsExpired(apparatusId);
    await this.writeRecords();
    await this.publishedDevices?.adopt();
  }

  /** After each renewal: owed work first (a failed key refresh must not keep a migration stopped), then the apparatuses. */
  private async lookAfter(): Promise<void> {
    if (this.members.owesFences) await this.serialized(() => this.members.recordOwedFences(this.epoch));
    await this.migrations.resumeStopped();
    for (const fault of await this.diskFaults.check(this.device, this.now())) {
      this.recordsToWrite.push(eventRecord("disk-fault", fault.subject, fault.cause, { epoch: this.epoch, nowMs: fault.atMs, suffix: this.entropy.hex(2) }));
    }
    if (this.recordsToWrite.length > 0) await this.serialized(() => this.writeRecords());
    if (this.publishedDevices !== undefined) await this.serialized(() => this.publishedDevices?.adopt() ?? Promise.resolve());
    await this.members.refreshKeys(this.epoch);
    // Every few seconds: without the extent maps, which would cost a million-extent table each time.
    const { state } = await this.table.read({ omitExtents: true, omitJournal: true });
    for (const apparatusId of await this.members.probeFenced(state)) {
      await this.rejoins.rejoin(apparatusId).catch((error: unknown) => {
        this.warn(`apparatus ${apparatusId} could not rejoin: ${String(error)}`);
      });
    }
    for (const apparatusId of await this.members.outOfStep()) await this.rejoins.restore(apparatusId);
  }

  /** Records an event in the journal with the next look-after's writes (event-records.ts). */
  private noteEvent(kind: RecordedEventKind, subject: string, cause: string): void {
    this.recordsToWrite.push(eventRecord(kind, subject, cause, { epoch: this.epoch, nowMs: this.now(), suffix: this.entropy.hex(2) }));
  }

  /** Writes the journal records a takeover owes and the events noted since, oldest first; one left unwritten waits for the next look-after. */
  private async writeRecords(): Promise<void> {
    while (this.recordsToWrite[0] !== undefined) {
      await this.table.commit({ journal_entry: this.recordsToWrite[0] });
      this.recordsToWrite.shift();
    }
  }

  private now(): number {
    return this.lease.now();
  }

  private serialized<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.queue.then(operation, operation);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Runs a change planned from `state` (the table keeper's) once the device has every fence owed, and keeps the table in step. */
  private async runChange(state: StoreState__Output, plan: ChangePlan): Promise<ChangeInfo> {
    const epoch = this.epoch;
    await this.members.recordOwedFences(epoch);
    this.table.changing();
    const info = await this.changes.run(plan, epoch);
    if (info.state === "CHANGE_STATE_COMMITTED") this.table.changed(state, plan, epoch);
    return info;
  }

  /** A whole-table write (volume create or delete, external devices), then the new table to every apparatus. */
  private async writeAndPush(state: StoreState, sequence: number): Promise<void> {
    await this.table.write(state, sequence);
    const committed = await this.table.read({ omitJournal: true });
    await this.members.push(committed.state, this.epoch);
  }

  /** `migrate`: starts moving a volume's extents to another LU; answers at once with its id and progress table. */
  submitMigrate(request: MigrationRequest): Promise<ChangeInfo> {
    return this.migrations.submitMigrate(request);
  }

  /** `volume move`: a migration of one extent (migration-runs.ts); answers when it has ended. */
  submitMove(volume: string, extentIndex: number, toLu: string): Promise<ChangeInfo> {
    return this.migrations.submitMove(volume, extentIndex, toLu);
  }

  /** `migrate cancel`: extents already switched stay on the target; the others go back to their sources alone. */
  async cancelChange(id: string): Promise<ChangeInfo> {
    const cancelled = await this.migrations.cancel(id);
    if (cancelled !== undefined) return cancelled;
    const change = await this.getChange(id);
    const state = String(change.state ?? "").replace("CHANGE_STATE_", "").toLowerCase();
    throw new ControllerError("FAILED_PRECONDITION", `change ${id} is not a running migration (a ${change.kind ?? ""}, ${state}); only those can be cancelled`);
  }

  /**
   * Zeroes the areas before they join a volume: until the store commits, they
   * are free, so a crash here leaves nothing to undo.
   */
  private async scrubAreas(state: StoreState__Output, areas: readonly AreaRef[]): Promise<void> {
    const byLu = new Map<number, number[]>();
    // Push in place: copying the list per area is quadratic, minutes for a million-extent volume.
    for (const area of areas) {
      const list = byLu.get(area.luIndex) ?? [];
      if (list.length === 0) byLu.set(area.luIndex, list);
      list.push(area.areaIndex);
    }
    for (const [luIndex, areaIndexes] of byLu) {
      const lu = state.lus.find((candidate) => candidate.index === luIndex);
      assert.ok(lu !== undefined);
      await this.device.scrubAreas({ epoch: this.epoch, lu_id: lu.id, area_indexes: areaIndexes });
    }
  }

  createVolume(name: string, sizeBytes: number, luId: string): Promise<VolumeInfo> {
    return this.serialized(async () => {
      checkVolumeName(name);
      const { state, sequence } = await this.table.read();
      if (state.volumes.some((volume) => volume.name === name)) {
        throw new ControllerError("ALREADY_EXISTS", `volume ${name} already exists`);
      }
      if (state.volumes.length >= volumesMax) {
        throw new ControllerError("LIMIT", `the cluster already has ${volumesMax} volumes, the most it may hold`);
      }
      const onlyLu = luId === "" ? undefined : requireLu(state, luId);
      if (onlyLu?.external === true) {
        // New areas are zeroed by their device (ScrubAreas); an external server has none to ask.
        throw new ControllerError("FAILED_PRECONDITION", `${onlyLu.id} is on external device ${onlyLu.device_id}: create the volume on a device LU, then 'switchyard migrate ${name} --to ${onlyLu.id}'`);
      }
      const extentSizeBytes = (onlyLu ?? state.lus[0])?.extent_size_bytes ?? 0;
      if (extentSizeBytes === 0) throw new ControllerError("UNAVAILABLE", "the device has no LUs yet");
      const extentCount = checkVolumeSize(sizeBytes, extentSizeBytes);
      const areas = allocateAreas(state, extentCount, onlyLu);
      await this.scrubAreas(state, areas);
      const table = volumeTable(name, sizeBytes, extentSizeBytes, areas);
      await this.writeAndPush({ ...state, generation: state.generation + 1, volumes: [...state.volumes, table] }, sequence);
      return volumeInfo(table, state.lus);
    });
  }

  deleteVolume(name: string): Promise<void> {
    return this.serialized(async () => {
      const { state, sequence } = await this.table.read();
      if (!state.volumes.some((volume) => volume.name === name)) {
        throw new ControllerError("NOT_FOUND", `no volume ${name}`);
      }
      const volumes = state.volumes.filter((volume) => volume.name !== name);
      await this.writeAndPush({ ...state, generation: state.generation + 1, volumes }, sequence);
    });
  }

  /** `volume resize`: grow onto new areas or shrink and free the tail, under a hold of the tail. */
  submitResize(volume: string, sizeBytes: number): Promise<ChangeInfo> {
    return this.serialized(async () => {
      const state = await this.table.committed();
      const plan = planResize(state, volume, sizeBytes);
      await this.scrubAreas(state, plan.newAreas);
      return this.runChange(state, plan);
    });
  }

  async listChanges(): Promise<ChangeInfo[]> {
    // The journal only: `change watch`, the web console and /metrics ask often, and extent maps may be a million rows.
    const { state } = await this.table.read({ omitExtents: true });
    const inMemory = this.changesInMemory();
    const finished = state.journal.map(infoOf).filter((info) => !inMemory.some((change) => change.id === info.id));
    return [...finished, ...inMemory];
  }

  async getChange(id: string): Promise<ChangeInfo> {
    // A running change is answered from memory: watchers ask every few tens of ms, and reading
    // the journal each time cost the device and this controller CPU the copy was using. So is
    // one that ended lately: the store may not have its final record yet.
    const inMemory = this.changesInMemory().find((change) => change.id === id);
    if (inMemory !== undefined) return inMemory;
    const found = (await this.listChanges()).find((change) => change.id === id);
    if (found === undefined) throw new ControllerError("NOT_FOUND", `no change ${id}; 'switchyard change list' shows them`);
    return found;
  }

  /** Changes answered from memory: those running, and those whose final records the store does not have yet. */
  private changesInMemory(): ChangeInfo[] {
    return [...this.changes.unrecordedChanges(), ...this.changes.runningChanges(), ...this.migrations.infos()];
  }

  /** `apparatus fence` (rejoins.ts). */
  fenceByOperator(apparatusId: string): Promise<void> {
    return this.rejoins.fenceByOperator(apparatusId);
  }

  /** `apparatus rejoin` (rejoins.ts). */
  rejoinApparatus(apparatusId: string): Promise<void> {
    return this.rejoins.rejoin(apparatusId);
  }

  /**
   * `device add-external`: registers an NBD server as a device with one LU.
   * The server is asked for its size before anything is written; the new
   * table (a generation up, listing the LU) goes to every apparatus, which
   * opens the server on the first I/O to an extent there.
   */
  addExternalDevice(registration: ExternalRegistration): Promise<DeviceStatus> {
    return this.serialized(async () => {
      // The whole state: it is written back whole.
      const { state, sequence } = await this.table.read();
      const added = await addExternalDevice(state, registration, (asked) => probeExport(this.device, asked));
      await this.writeAndPush(added.state, sequence);
      return added.device;
    });
  }

  /**
   * `device remove-external`: forgets an external device nothing uses any
   * more. The new table (a generation up, without its LU) goes to every
   * apparatus, which closes its connection to the server.
   */
  removeExternalDevice(name: string): Promise<DeviceStatus> {
    return this.serialized(async () => {
      // With the journal: a running migration onto the device refuses the removal.
      const { state, sequence } = await this.table.read();
      const removed = removeExternalDevice(state, name);
      await this.writeAndPush(removed.state, sequence);
      return removed.device;
    });
  }

  async listVolumes(): Promise<VolumeInfo[]> {
    const { state } = await this.table.read();
    return state.volumes.map((volume) => volumeInfo(volume, state.lus));
  }

  async getVolume(name: string): Promise<VolumeInfo> {
    const { state } = await this.table.read();
    const volume = state.volumes.find((candidate) => candidate.name === name);
    if (volume === undefined) throw new ControllerError("NOT_FOUND", `no volume ${name}`);
    return volumeInfo(volume, state.lus);
  }

  async clusterStatus(): Promise<ClusterStatus> {
    const { state } = await this.table.read();
    const apparatuses = await this.members.summaries();
    const lease = this.lease.lease;
    // On etcd each device's own address, from the directory ("" for one not listed); embedded, the one device.
    const published = await this.publishedDevices?.grpcAddresses().catch(() => new Map<string, string>());
    return {
      devices: devicesStatus(state, (id) => (published === undefined ? this.deviceAddress : published.get(id) ?? "")),
      apparatuses,
      controller:
        lease === undefined
          ? null
          : { id: this.id, epoch: lease.epoch, lease_expires_at_ms: lease.expires_at_ms, pid: process.pid, thread_id: threadId },
      generation: state.generation,
      coordination: await this.coordinationStatus(state),
    };
  }

  /** The coordination's members; embedded, the device that just answered the table read, healthy by that answer. */
  private async coordinationStatus(state: StoreState__Output): Promise<CoordinationStatus> {
    if (this.device.coordinationStatus !== undefined) return this.device.coordinationStatus();
    const deviceId = devicesStatus(state, () => this.deviceAddress).find((device) => !device.external)?.id ?? "";
    return { backend: "embedded", members: [{ name: deviceId, endpoint: this.deviceAddress, healthy: true, leader: true }] };
  }

  /** Writes the final journal records of changes that ended lately (change-executor.ts): before close, to keep them. */
  flushJournal(): Promise<void> {
    return this.changes.flushFinalRecords();
  }

  close(): void {
    this.changes.close();
    this.lease.close();
    this.device.close();
    this.members.close();
  }
}
