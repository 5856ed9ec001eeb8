/**
 * The configuration change controller, as far as volumes go: it holds the
 * controller lease from the quorum device's arbiter (claim 12), keeps the
 * configuration table in the device's configuration store, and brings every
 * apparatus to the committed table. Every store write and every message to an
 * apparatus carries its epoch, so a deposed controller can change nothing.
 */
import assert from "node:assert/strict";
import { threadId } from "node:worker_threads";
import * as grpc from "@grpc/grpc-js";
import {
  isRpcError,
  type ApparatusState__Output,
  type ClusterStatus,
  type DeviceStatus,
  type ConfigurationTable,
  type Mirror__Output,
  type StoreDelta,
  type StoreState,
  type StoreState__Output,
  type VolumeInfo,
  type ChangeInfo,
  type CopyProgressRow,
  type JournalEntry,
} from "@switchyard/proto";
import { ChangeExecutor, infoOf, phaseTimeoutMsDefault } from "./change-executor.js";
import { rolledBackEntries, type PendingReport } from "./recovery.js";
import type { ChangePortsDecorator } from "./change-driver.js";
import type { ChangeLogger } from "./change-log.js";
import { applyExtentRows, planMirror, planMirrorEnd, planMove, planResize, type ChangePlan } from "./change-plans.js";
import { allocateAreas, type AreaRef } from "./allocation.js";
import { ControllerError } from "./errors.js";
import { checkVolumeName, checkVolumeSize, volumeInfo, volumeTable } from "./volumes.js";
import { MigrationRun, moveSummary, planMigration, planMoveMigration, type DeviceMirrorEffects, type MigrationRequest } from "./migration.js";
import type { MirrorReport, Placement } from "./mirrored-copy.js";
import { addExternalDevice, devicesStatus, removeExternalDevice, type ExternalRegistration } from "./external-registration.js";
import { requireLu, type ExternalProbe } from "./external-devices.js";
import { grpcApparatusPort, type ApparatusPortFactory, type ApparatusPort } from "./apparatus-port.js";
import { LeaseDriver } from "./lease-driver.js";
import { callTimeoutMs, grpcDevicePort, type DevicePort } from "./device-port.js";
import { isSilence } from "./call-errors.js";
import { sleepOn, systemScheduler, type Scheduler } from "./scheduler.js";
import { processWarn, systemEntropy, type Entropy, type Warn } from "./environment.js";

/** The controller lease asked of the arbiter; renewed every third of it. */
export const leaseMsDefault = 6_000;
/**
 * A whole table sent to an apparatus (LoadTable): a million-extent table is
 * several megabytes to decode and build into typed arrays, several at once
 * on a loaded machine, which takes seconds rather than callTimeoutMs.
 */
export const loadTableTimeoutMs = 30_000;
/** The lease apparatuses get: they renew it with the device every quarter of it, and stop serving when it runs out. */
export const apparatusLeaseMsDefault = 3_000;
/** How long a fenced apparatus has to answer before the controller tries to take it back. */
export const probeTimeoutMs = 300;
/**
 * Probes in a row a fenced apparatus must answer before it is taken back: one
 * that just woke up (or flaps) stays out for a renewal period first. A newly
 * enrolled apparatus joins at its first answer.
 */
export const rejoinProbesMin = 2;
/** Volumes a cluster may hold: each is an NBD export on every apparatus. */
export const volumesMax = 1_024;

export interface ApparatusEndpoint {
  readonly id: string;
  readonly grpc: string;
  readonly nbd: string;
}

export interface ClusterControllerOptions {
  readonly id: string;
  /** This controller's own gRPC address, registered with the lease for consoles to find. */
  readonly address: string;
  readonly deviceAddress: string;
  readonly apparatuses: readonly ApparatusEndpoint[];
  readonly leaseMs?: number;
  /** An apparatus silent this long in one phase of a change is fenced (default 2 s). */
  readonly phaseTimeoutMs?: number;
  /** The lease apparatuses hold (default 3 s). */
  readonly apparatusLeaseMs?: number;
  /** An apparatus that has not loaded a whole table this long after it was sent is fenced (default loadTableTimeoutMs). */
  readonly loadTableTimeoutMs?: number;
  /** The device's calls (default: its gRPC service at deviceAddress). */
  readonly device?: DevicePort;
  /** Each apparatus's calls, by its gRPC address (default: its gRPC service). */
  readonly apparatusPort?: ApparatusPortFactory;
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

interface ApparatusPeer extends ApparatusEndpoint {
  /** Every call to it, the change protocol's messages included. */
  readonly port: ApparatusPort;
}

export class ClusterController {
  readonly id: string;
  private readonly address: string;
  private readonly device: DevicePort;
  private readonly apparatusPort: ApparatusPortFactory;
  private readonly deviceAddress: string;
  private readonly peers: ApparatusPeer[];
  /** Apparatuses removed from the control range (claim 3); they rejoin by loading the whole table. */
  private readonly fenced = new Set<string>();
  private readonly changes: ChangeExecutor;
  private readonly apparatusLeaseMs: number;
  private readonly loadTableTimeoutMs: number;
  /** The registration key the device knows each apparatus in the control range by. */
  private readonly keys = new Map<string, string>();
  /** Fenced by an operator, as the store records it: no automatic rejoin takes these back. */
  private operatorFenced = new Set<string>();
  /** Migrations this controller is running, by change id. */
  private readonly migrations = new Map<string, { readonly run: MigrationRun; readonly done: Promise<void> }>();
  /** Records of changes a predecessor left, ended by the takeover, that the journal does not have yet. */
  private recordsToWrite: JournalEntry[] = [];
  /** Apparatuses out of the control range whose fence the device has not acknowledged (recordOwedFences). */
  private readonly fencesOwed = new Set<string>();
  /** A migration stopped on an error other than a lost lease: the next look-after resumes it from the journal. */
  private migrationsStopped = false;
  /** Probes answered in a row by each fenced apparatus (joinApparatuses). */
  private readonly answeredProbes = new Map<string, number>();
  /** Whether this controller holds the lease, and at which epoch (claim 12). */
  private readonly lease: LeaseDriver;
  private readonly scheduler: Scheduler;
  private readonly entropy: Entropy;
  private readonly warn: Warn;
  private readonly onLeader: (address: string) => void;
  /** Operations that change the table run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The committed table as this controller last knew it, under one epoch (committedTable). */
  private cachedTable: { readonly epoch: number; readonly state: StoreState__Output } | undefined;

  constructor(options: ClusterControllerOptions) {
    const credentials = grpc.credentials.createInsecure();
    this.id = options.id;
    this.address = options.address;
    this.deviceAddress = options.deviceAddress;
    this.device = options.device ?? grpcDevicePort(options.deviceAddress, credentials);
    this.apparatusPort = options.apparatusPort ?? ((address) => grpcApparatusPort(address, credentials));
    this.peers = options.apparatuses.map((endpoint) => this.apparatusPeer(endpoint));
    this.scheduler = options.scheduler ?? systemScheduler;
    this.entropy = options.entropy ?? systemEntropy;
    this.warn = options.warn ?? processWarn;
    this.apparatusLeaseMs = options.apparatusLeaseMs ?? apparatusLeaseMsDefault;
    this.loadTableTimeoutMs = options.loadTableTimeoutMs ?? loadTableTimeoutMs;
    this.onLeader = options.onLeader ?? (() => undefined);
    this.lease = new LeaseDriver({
      id: options.id,
      address: options.address,
      leaseMs: options.leaseMs ?? leaseMsDefault,
      device: this.device,
      scheduler: this.scheduler,
      warn: this.warn,
      duties: {
        lead: () => this.serialized(() => this.takeOver()),
        lookAfter: () => this.lookAfter(),
        stepDown: (reason) => {
          this.cachedTable = undefined;
          this.warn(`controller ${this.id} stops acting: ${reason}`);
        },
        leader: (address) => {
          this.onLeader(address);
        },
      },
    });
    this.changes = new ChangeExecutor({
      device: this.device,
      phaseTimeoutMs: options.phaseTimeoutMs ?? phaseTimeoutMsDefault,
      controlRange: () => this.peers.filter((peer) => !this.fenced.has(peer.id)),
      fence: (apparatusId, epoch) => this.fenceApparatus(apparatusId, epoch),
      apparatusLeaseMs: this.apparatusLeaseMs,
      commitDelta: (delta) => this.commitDelta(delta),
      serialize: (work) => this.serialized(work),
      storeGeneration: async () => (await this.readStore({ omitExtents: true, omitJournal: true })).state.generation,
      selfId: options.id,
      scheduler: this.scheduler,
      entropy: this.entropy,
      warn: this.warn,
      ...(options.decorateChangePorts === undefined ? {} : { decoratePorts: options.decorateChangePorts }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }

  private apparatusPeer(endpoint: ApparatusEndpoint): ApparatusPeer {
    return { id: endpoint.id, grpc: endpoint.grpc, nbd: endpoint.nbd, port: this.apparatusPort(endpoint.grpc) };
  }

  /**
   * Campaigns for the controller lease (claim 12) and keeps at it: while it
   * holds the lease it acts and renews; otherwise it follows, learning who
   * holds it, and takes over when that one stops renewing. The decisions are
   * the lease core's (lease-core.ts), driven over the Device service and
   * the scheduler by lease-driver.ts. Resolves after the first attempt, holder or
   * not, and after the takeover if it won.
   */
  start(): Promise<void> {
    return this.lease.start();
  }

  private now(): number {
    return this.scheduler.now();
  }

  /** True while this controller holds an unexpired lease. */
  get isLeader(): boolean {
    return this.lease.epochNow() !== undefined;
  }

  private async lookAfter(): Promise<void> {
    // Owed work first: a failed key refresh must not keep a migration stopped.
    if (this.fencesOwed.size > 0) await this.serialized(() => this.recordOwedFences());
    if (this.migrationsStopped) await this.resumeStoppedMigrations();
    if (this.recordsToWrite.length > 0) await this.serialized(() => this.writeRecords());
    await this.refreshKeys();
    await this.joinApparatuses();
  }

  /** Writes the journal records a takeover owes, oldest first; one left unwritten waits for the next look-after. */
  private async writeRecords(): Promise<void> {
    while (this.recordsToWrite[0] !== undefined) {
      await this.commitDelta({ journal_entry: this.recordsToWrite[0] });
      this.recordsToWrite.shift();
    }
  }

  /** Migrations that stopped on an error while this controller kept the lease go on from the journal. */
  private resumeStoppedMigrations(): Promise<void> {
    return this.serialized(async () => {
      const { state } = await this.readStore({ omitExtents: true });
      this.migrationsStopped = false;
      this.resumeMigrations(state);
    });
  }

  /**
   * Brings every apparatus to the committed table under this controller's
   * epoch: one that answers loads the whole table (ending whatever change a
   * predecessor left, and every hold) and keeps its registration; one that
   * does not is fenced, so it cannot go on serving a table nobody controls.
   */
  private async takeOver(): Promise<void> {
    // The journal too: it tells a change that committed from one left behind.
    const { state } = await this.readStore();
    this.addEnrolled(state);
    const epoch = this.epoch;
    const pending: PendingReport[] = [];
    await Promise.all(
      this.peers.map(async (peer) => {
        if (this.operatorFenced.has(peer.id)) {
          // The device refuses it already (its fence is persistent); only an operator's rejoin lifts it.
          this.fenced.add(peer.id);
          return;
        }
        try {
          const status = await peer.port.getState(callTimeoutMs);
          pending.push({ apparatusId: peer.id, changeId: status.pending_change_id, phase: status.pending_phase });
          await this.loadTableInto(peer, state, epoch);
          await this.keepRegistration(peer, status, epoch);
          this.fencesOwed.delete(peer.id);
          this.fenced.delete(peer.id);
        } catch (error: unknown) {
          this.warn(`apparatus ${peer.id} did not answer the new controller ${this.id}: fencing it (${String(error)})`);
          await this.fenceApparatus(peer.id, epoch).catch(() => undefined);
        }
      }),
    );
    this.resumeMigrations(state);
    this.recordsToWrite = rolledBackEntries(state, pending, { controllerId: this.id, epoch, nowMs: this.now() });
    await this.writeRecords();
  }

  /**
   * Migrations the journal shows running go on from their copy progress
   * table. A row a predecessor was moving starts again; if its move had
   * committed, moveExtent finds the extent on the target and counts it moved.
   */
  private resumeMigrations(state: StoreState__Output): void {
    for (const journaled of state.journal) {
      if ((journaled.kind !== "migrate" && journaled.kind !== "move") || journaled.state !== "CHANGE_STATE_RUNNING" || this.migrations.has(journaled.change_id)) continue;
      const extentSizeBytes = state.lus.find((lu) => lu.id === journaled.target_lu_id)?.extent_size_bytes ?? 0;
      // Rows left copying stay so: the engine asks the table where each extent is.
      this.startMigration({ ...journaled, copy_progress: journaled.copy_progress.map((row) => ({ ...row })) }, extentSizeBytes, state);
    }
  }

  /** `migrate`: starts moving a volume's extents to another LU, and answers at once with the migration's id and progress table. */
  submitMigrate(request: MigrationRequest): Promise<ChangeInfo> {
    return this.serialized(async () => {
      const { state } = await this.readStore({ omitJournal: true });
      // The LU as the store names it: `ext1` or `dev0:lu1` given, `ext1:disk` or `lu1` kept.
      const { rows, extentSizeBytes, targetLuId } = planMigration(state, request);
      const summary = `migrate ${rows.length} extent${rows.length === 1 ? "" : "s"} of ${request.volume} to ${targetLuId}`;
      const entry = this.copyEntry(`migrate-${state.generation}`, "migrate", summary, state, rows, targetLuId, request.rateBytesPerSecond, extentSizeBytes);
      // Recorded before the first extent moves: a controller that dies now leaves a migration its successor resumes.
      await this.journalStart(entry);
      return this.startMigration(entry, extentSizeBytes, state).info();
    });
  }

  /**
   * `volume move`: a migration of one extent (DESIGN.md "Online migration":
   * one copy engine). A change puts it in mirror state, the device copies it
   * chunk by chunk, holding only the writes to the chunk it copies, and a
   * change switches it; no write waits for the whole extent's copy. Answers
   * when the move has ended, as the move it is.
   */
  async submitMove(volume: string, extentIndex: number, toLu: string): Promise<ChangeInfo> {
    const run = await this.serialized(async () => {
      const state = await this.committedTable();
      const { rows, extentSizeBytes, targetLuId } = planMoveMigration(state, volume, extentIndex, toLu);
      const [row] = rows;
      assert.ok(row !== undefined && rows.length === 1);
      const entry = this.copyEntry(`move-${state.generation + 1}`, "move", moveSummary(row, false), state, rows, targetLuId, 0, extentSizeBytes);
      // Journaled before it starts, as a migration is: a successor finishes a move its predecessor began.
      await this.journalStart(entry);
      return this.startMigration(entry, extentSizeBytes, state);
    });
    // Outside the queue: the move's own changes take their turns in it.
    await this.migrations.get(run.id)?.done;
    const info = run.info();
    if (info.state !== "CHANGE_STATE_RUNNING") return info;
    const follow = `'switchyard change show ${run.id}'`;
    // Stopped mid-move: the journal has it, and this controller (a journal write went unanswered) or its successor (the lease was lost) finishes it.
    if (this.isLeader) return { ...info, message: `the move was interrupted (a store write went unanswered) and goes on: ${follow}` };
    return { ...info, message: `${this.id} lost the controller lease; the next controller finishes the move: ${follow}` };
  }

  /**
   * Writes a migration's first journal entry. Unanswered, it may have been
   * written: the next look-after resumes it if so, and the console is told.
   */
  private async journalStart(entry: JournalEntry): Promise<void> {
    try {
      await this.commitDelta({ journal_entry: entry });
    } catch (error) {
      if (!isSilence(error)) throw error;
      this.migrationsStopped = true;
      const id = entry.change_id ?? "";
      throw new ControllerError("UNAVAILABLE", `the device did not answer the journal write that starts ${id}; if it was written, ${id} goes on: 'switchyard change show ${id}'`, { cause: error });
    }
  }

  /** The journal entry of a migration or a move, with its copy progress table. */
  private copyEntry(idPrefix: string, kind: "migrate" | "move", summary: string, state: StoreState__Output, rows: CopyProgressRow[], targetLuId: string, rateBytesPerSecond: number, extentSizeBytes: number): JournalEntry & { copy_progress: CopyProgressRow[] } {
    return {
      change_id: `${idPrefix}-${this.entropy.hex(3)}`,
      kind,
      summary,
      state: "CHANGE_STATE_RUNNING",
      base_generation: state.generation,
      epoch: this.epoch,
      started_at_ms: Math.round(this.now()),
      ended_at_ms: 0,
      message: "",
      phases: [],
      reports: [],
      fenced: [],
      copy_progress: rows,
      target_lu_id: targetLuId,
      rate_bytes_per_second: rateBytesPerSecond,
      total_bytes: rows.length * extentSizeBytes,
    };
  }

  private startMigration(entry: JournalEntry & { copy_progress: CopyProgressRow[] }, extentSizeBytes: number, state: StoreState__Output): MigrationRun {
    // The device mirrors and copies when one end of each extent is its own: from its LU onto another or an
    // external device's, or from an external device's onto its LU (the apparatuses then send the extent's I/O
    // to it). Between two external devices no device of ours sees the writes: extents are streamed by moves.
    const external = (luId: string | undefined): boolean => state.lus.find((lu) => lu.id === luId)?.external === true;
    const offload = !external(entry.target_lu_id) || !entry.copy_progress.some((row) => external(row.source_lu_id));
    const run = new MigrationRun(entry, extentSizeBytes, {
      ...(offload ? { mirrors: this.mirrorEffects() } : {}),
      moveExtent: (volume, extentIndex, toLuId) => this.moveExtent(volume, extentIndex, toLuId),
      // In turn with the other store writes: appended between a whole-store read and write (a volume create
      // during a migration), a progress record made that write's sequence stale. No queued operation awaits
      // a migration (submitMigrate and takeOver start it; cancelChange waits outside the queue), so this
      // cannot wait on itself.
      persist: (journaled) => this.serialized(() => this.commitDelta({ journal_entry: journaled })),
      sleep: (ms) => sleepOn(this.scheduler, ms),
      now: () => this.now(),
    });
    const done = run.run().catch((error: unknown) => {
      // A journal write whose answer was lost, say: the journal still shows it running, and the next look-after resumes it.
      this.warn(`migration ${run.id} stopped, to be resumed: ${String(error)}`);
      this.migrationsStopped = true;
    });
    this.migrations.set(run.id, { run, done });
    void done.finally(() => this.migrations.delete(run.id));
    return run;
  }

  /** A migration's changes and the device's mirrors (mirrored-copy.ts). */
  private mirrorEffects(): DeviceMirrorEffects {
    return {
      change: (kind, volume, extents, toLuId) => this.serialized(async () => {
        const state = await this.committedTable();
        const plan = kind === "mirror" ? planMirror(state, volume, extents, toLuId) : planMirrorEnd(state, volume, extents, kind);
        const info = await this.runChange(state, plan);
        return { info, rows: plan.diff.rows ?? [] };
      }),
      startMirror: async (row, group, rateBytesPerSecond) => {
        const mirror = {
          volume: row.volume, extent_index: row.extent_index, source_lu_id: row.source_lu_id, source_area_index: row.source_area_index,
          destination_lu_id: row.destination_lu_id, destination_area_index: row.destination_area_index,
          // The device owns the watermark: it keeps its own for a mirror it has, and one it has not
          // (its mirrors.json lost) copies from the start, since writes below a reported watermark
          // may have reached only the source since that report.
          watermark_bytes: 0, group, rate_bytes_per_second: rateBytesPerSecond,
        };
        return mirrorReport(await this.device.startMirror({ epoch: this.epoch, mirror }));
      },
      listMirrors: async (afterProgress, waitMs) => {
        const request = { after_progress: afterProgress, wait_ms: waitMs };
        const listed = await this.device.listMirrors(request);
        return { reports: listed.mirrors.map(mirrorReport), progress: listed.progress };
      },
      placement: async (volume, extentIndex) => placementOf((await this.readStore({ omitJournal: true })).state, volume, extentIndex),
    };
  }

  /**
   * One extent of a migration: a move like `volume move`, queued with the
   * other changes. An extent already on the target counts as moved: a try
   * whose answer was lost may have committed.
   */
  private moveExtent(volume: string, extentIndex: number, toLuId: string): Promise<{ info: ChangeInfo; destinationAreaIndex: number }> {
    return this.serialized(async () => {
      const state = await this.committedTable();
      const columns = state.volumes.find((candidate) => candidate.name === volume)?.extents;
      const target = state.lus.find((lu) => lu.id === toLuId);
      if (columns != null && target !== undefined && columns.lu_index[extentIndex] === target.index) {
        return { info: { id: "", state: "CHANGE_STATE_COMMITTED", message: `extent ${extentIndex} is on ${toLuId} already` }, destinationAreaIndex: columns.area_index[extentIndex] ?? 0 };
      }
      const plan = planMove(state, volume, extentIndex, toLuId);
      const info = await this.runChange(state, plan);
      return { info, destinationAreaIndex: plan.copy?.destinationAreaIndex ?? 0 };
    });
  }

  /** `migrate cancel`: extents already switched stay on the target; the others go back to their sources alone. */
  async cancelChange(id: string): Promise<ChangeInfo> {
    const migration = this.migrations.get(id);
    if (migration === undefined) {
      const change = await this.getChange(id);
      const state = String(change.state ?? "").replace("CHANGE_STATE_", "").toLowerCase();
      throw new ControllerError("FAILED_PRECONDITION", `change ${id} is not a running migration (a ${change.kind ?? ""}, ${state}); only those can be cancelled`);
    }
    migration.run.cancel();
    await migration.done;
    return migration.run.info();
  }

  private async loadTableInto(peer: ApparatusPeer, state: StoreState__Output, epoch: number): Promise<void> {
    const table: ConfigurationTable = { generation: state.generation, lus: state.lus, volumes: state.volumes };
    await peer.port.loadTable({ epoch, table }, this.loadTableTimeoutMs);
  }

  /**
   * A serving apparatus keeps the key it has (the device is told it again);
   * any other gets a fresh one, and so does one this controller fenced: it
   * may have heard of the fence since it answered, and stopped renewing, and
   * only a Register starts it again.
   */
  private async keepRegistration(peer: ApparatusPeer, status: ApparatusState__Output, epoch: number): Promise<void> {
    const key = status.registration_key;
    if (key === "" || status.status === "APPARATUS_STATUS_FENCED" || this.fenced.has(peer.id)) {
      await this.register(peer);
      return;
    }
    await this.device.registerKey({ epoch, apparatus_id: peer.id, registration_key: key });
    this.keys.set(peer.id, key);
  }

  /**
   * Apparatuses that enrolled with the device and this controller does not
   * know yet, or knows at another address (restarted: a new incarnation with
   * an empty table): fenced until they join, which they do at their first
   * answer.
   */
  private addEnrolled(state: StoreState__Output): void {
    this.operatorFenced = new Set(state.fenced_by_operator);
    for (const record of state.apparatuses) {
      const index = this.peers.findIndex((peer) => peer.id === record.id);
      const known = this.peers[index];
      if (known !== undefined && known.grpc === record.grpc && known.nbd === record.nbd) continue;
      known?.port.close();
      const peer = this.apparatusPeer(record);
      if (known === undefined) this.peers.push(peer);
      else this.peers[index] = peer;
      this.fenced.add(record.id);
      this.answeredProbes.set(record.id, rejoinProbesMin);
    }
  }

  /**
   * Takes an apparatus into the control range: a fresh key at the device,
   * then Register, after which the apparatus renews it with the device.
   */
  private async register(peer: ApparatusPeer): Promise<void> {
    const key = `${peer.id}:${this.entropy.hex(8)}`;
    const epoch = this.epoch;
    await this.device.registerKey({ epoch, apparatus_id: peer.id, registration_key: key });
    this.keys.set(peer.id, key);
    await peer.port.register({ epoch, registration_key: key, lease_ms: this.apparatusLeaseMs, device_address: this.deviceAddress }, callTimeoutMs);
  }

  /**
   * Takes into the control range the apparatuses that enrolled with the
   * device since, and those fenced earlier that answer again: each loads the
   * whole current table and is registered (a rejoin). Until then it is out
   * of the range, and fenced apparatuses do not serve.
   */
  private async joinApparatuses(): Promise<void> {
    // Every few seconds: without the extent maps, which would cost a million-extent table each time.
    const { state } = await this.readStore({ omitExtents: true, omitJournal: true });
    this.addEnrolled(state);
    for (const peer of this.peers.filter((candidate) => this.fenced.has(candidate.id) && !this.operatorFenced.has(candidate.id))) {
      // A short probe first, outside the queue of changes: one that is still away must not delay them.
      const alive = await peer.port.getState(probeTimeoutMs).then(
        () => true,
        () => false,
      );
      const answered = alive ? (this.answeredProbes.get(peer.id) ?? 0) + 1 : 0;
      this.answeredProbes.set(peer.id, answered);
      if (answered < rejoinProbesMin) continue;
      this.answeredProbes.delete(peer.id);
      await this.rejoinApparatus(peer.id).catch((error: unknown) => {
        this.warn(`apparatus ${peer.id} could not rejoin: ${String(error)}`);
      });
    }
  }

  /** Registers the keys again: a device that restarted forgot them, and apparatuses could not renew. */
  private async refreshKeys(): Promise<void> {
    const epoch = this.epoch;
    await Promise.all(
      this.peers
        .filter((peer) => !this.fenced.has(peer.id) && this.keys.has(peer.id))
        .map((peer) =>
          this.device.registerKey({ epoch, apparatus_id: peer.id, registration_key: this.keys.get(peer.id) ?? "" }),
        ),
    );
  }

  get epoch(): number {
    const epoch = this.lease.epochNow();
    if (epoch === undefined) throw new ControllerError("NOT_CONTROLLER", `${this.id} does not hold the controller lease`);
    return epoch;
  }

  private serialized<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.queue.then(operation, operation);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * The committed table (generation, LUs, volumes; the journal left out) to
   * plan a change from. While this controller holds the lease at one epoch
   * it is the table's only writer (the store refuses every write of an older
   * epoch), so it reads the store once and then keeps its copy in step with
   * the moves it commits (runChange): no whole-store read per change. Any
   * other table write, a change that did not commit, and a new epoch make it
   * read the store again.
   */
  private async committedTable(): Promise<StoreState__Output> {
    const epoch = this.epoch;
    if (this.cachedTable?.epoch === epoch) return this.cachedTable.state;
    const { state } = await this.readStore({ omitJournal: true });
    this.cachedTable = { epoch, state };
    return state;
  }

  /** Runs a change planned from `state` (committedTable's) and brings the cached table up to it. */
  private async runChange(state: StoreState__Output, plan: ChangePlan): Promise<ChangeInfo> {
    const epoch = this.epoch;
    await this.recordOwedFences();
    // Until the change is known to have committed, the store's table is not known here.
    this.cachedTable = undefined;
    const info = await this.changes.run(plan, epoch);
    if (info.state === "CHANGE_STATE_COMMITTED" && plan.kind !== "resize" && state.generation === plan.baseGeneration) {
      applyExtentRows(state, plan.diff);
      this.cachedTable = { epoch, state };
    }
    return info;
  }

  /** The stored state; parts left out come back empty, so a state read so must never be written back whole. */
  private async readStore(options: { omitExtents?: boolean; omitJournal?: boolean } = {}): Promise<{ state: StoreState__Output; sequence: number }> {
    const request = { omit_extents: options.omitExtents ?? false, omit_journal: options.omitJournal ?? false };
    const snapshot = await this.device.readStore(request);
    assert.ok(snapshot.state !== null, "the device answered ReadStore without a state");
    return { state: snapshot.state, sequence: snapshot.sequence };
  }

  private async writeStore(state: StoreState, expectedSequence: number): Promise<void> {
    // The table may change under any whole write: the next change reads it again.
    this.cachedTable = undefined;
    await this.device.writeStore({ epoch: this.epoch, expected_sequence: expectedSequence, state });
  }

  private async commitDelta(delta: StoreDelta): Promise<void> {
    await this.device.commitDelta({ epoch: this.epoch, delta });
  }

  /**
   * Sends the whole table to every apparatus. A volume create or delete
   * changes no mapping that host I/O is using, so it needs no hold: the
   * apparatus drains I/O of a deleted volume itself before it answers. An
   * apparatus that does not load the new generation is fenced, as an
   * apparatus silent in a change's phase is (claim 3): left on the old
   * generation it would answer every later Hold WRONG_GENERATION, and after
   * a delete it could still write areas the next create hands out. So the
   * push returns only once a fenced apparatus has stopped serving (the
   * device refuses its I/O, and its own lease has run out).
   */
  private async pushTable(state: StoreState__Output): Promise<void> {
    const table: ConfigurationTable = { generation: state.generation, lus: state.lus, volumes: state.volumes };
    const epoch = this.epoch;
    await this.recordOwedFences();
    const inRange = this.peers.filter((peer) => !this.fenced.has(peer.id));
    const results = await Promise.allSettled(
      inRange.map((peer) => peer.port.loadTable({ epoch, table }, this.loadTableTimeoutMs)),
    );
    const behind: ApparatusPeer[] = [];
    results.forEach((result, index) => {
      const peer = inRange[index];
      assert.ok(peer !== undefined);
      if (result.status === "fulfilled") return;
      this.warn(`apparatus ${peer.id} did not load generation ${state.generation}, so it is fenced: ${String(result.reason)}`);
      behind.push(peer);
    });
    if (behind.length === 0) return;
    await Promise.all(behind.map((peer) => this.fenceApparatus(peer.id, epoch)));
    await sleepOn(this.scheduler, this.apparatusLeaseMs);
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
      const { state, sequence } = await this.readStore();
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
      const next: StoreState = { ...state, generation: state.generation + 1, volumes: [...state.volumes, table] };
      await this.writeStore(next, sequence);
      const committed = await this.readStore();
      await this.pushTable(committed.state);
      return volumeInfo(table, state.lus);
    });
  }

  deleteVolume(name: string): Promise<void> {
    return this.serialized(async () => {
      const { state, sequence } = await this.readStore();
      if (!state.volumes.some((volume) => volume.name === name)) {
        throw new ControllerError("NOT_FOUND", `no volume ${name}`);
      }
      const volumes = state.volumes.filter((volume) => volume.name !== name);
      await this.writeStore({ ...state, generation: state.generation + 1, volumes }, sequence);
      const committed = await this.readStore();
      await this.pushTable(committed.state);
    });
  }

  /** `volume resize`: grow onto new areas or shrink and free the tail, under a hold of the tail. */
  submitResize(volume: string, sizeBytes: number): Promise<ChangeInfo> {
    return this.serialized(async () => {
      const state = await this.committedTable();
      const plan = planResize(state, volume, sizeBytes);
      await this.scrubAreas(state, plan.newAreas);
      return this.runChange(state, plan);
    });
  }

  async listChanges(): Promise<ChangeInfo[]> {
    // The journal only: `change watch`, the web console and /metrics ask often, and extent maps may be a million rows.
    const { state } = await this.readStore({ omitExtents: true });
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
    return [...this.changes.unrecordedChanges(), ...this.changes.runningChanges(), ...Array.from(this.migrations.values(), (migration) => migration.run.info())];
  }

  /** Removes an apparatus from the control range and has the device refuse its renewals (claim 3). */
  private async fenceApparatus(apparatusId: string, epoch: number): Promise<void> {
    this.fenced.add(apparatusId);
    this.keys.delete(apparatusId);
    this.fencesOwed.add(apparatusId);
    await this.device.fence({ epoch, apparatus_id: apparatusId });
    this.fencesOwed.delete(apparatusId);
  }

  /**
   * Has the device record the fences it did not answer: until it has, an
   * apparatus out of the control range may still serve under its key, and a
   * change that left it out could let it read an area the change retired.
   * Every change, table push and look-after first settles them.
   */
  private async recordOwedFences(): Promise<void> {
    for (const apparatusId of [...this.fencesOwed]) await this.fenceApparatus(apparatusId, this.epoch);
  }

  /**
   * `apparatus fence`: an operator takes an apparatus out of the control
   * range (claim 3's fence, by hand): the device refuses its I/O at once, and
   * the store remembers, so no controller takes it back until `apparatus
   * rejoin`, across restarts and failovers.
   */
  fenceByOperator(apparatusId: string): Promise<void> {
    return this.serialized(async () => {
      const peer = this.peerNamed(apparatusId);
      if (this.operatorFenced.has(peer.id)) {
        throw new ControllerError("FAILED_PRECONDITION", `apparatus ${peer.id} is fenced already; 'switchyard apparatus rejoin ${peer.id}' takes it back`);
      }
      await this.recordOperatorFence(peer, true);
      await this.fenceApparatus(peer.id, this.epoch);
    });
  }

  private peerNamed(apparatusId: string): ApparatusPeer {
    const peer = this.peers.find((candidate) => candidate.id === apparatusId);
    if (peer === undefined) {
      throw new ControllerError("NOT_FOUND", `no apparatus ${JSON.stringify(apparatusId)}; apparatuses are ${this.peers.map((candidate) => candidate.id).join(", ")}`);
    }
    return peer;
  }

  /** Records in the store whether an operator fenced `peer`; it writes the whole state, so it reads it whole. */
  private async recordOperatorFence(peer: ApparatusPeer, fenced: boolean): Promise<void> {
    const { state, sequence } = await this.readStore();
    const others = state.fenced_by_operator.filter((apparatusId) => apparatusId !== peer.id);
    await this.writeStore({ ...state, fenced_by_operator: fenced ? [...others, peer.id] : others }, sequence);
    if (fenced) this.operatorFenced.add(peer.id);
    else this.operatorFenced.delete(peer.id);
  }

  /** A fenced apparatus rejoins by loading the whole current table; an operator's fence is lifted first. */
  rejoinApparatus(apparatusId: string): Promise<void> {
    return this.serialized(async () => {
      const peer = this.peerNamed(apparatusId);
      if (!this.fenced.has(peer.id)) throw new ControllerError("FAILED_PRECONDITION", `apparatus ${peer.id} is not fenced: there is nothing to rejoin`);
      if (this.operatorFenced.has(peer.id)) await this.recordOperatorFence(peer, false);
      const { state } = await this.readStore({ omitJournal: true });
      await this.loadTableInto(peer, state, this.epoch);
      await this.register(peer);
      // Its new key replaced the old one at the device: an owed fence of the old one is moot.
      this.fencesOwed.delete(apparatusId);
      this.fenced.delete(apparatusId);
    });
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
      const { state, sequence } = await this.readStore();
      const added = await addExternalDevice(state, registration, (asked) => this.probeExport(asked));
      await this.writeStore(added.state, sequence);
      const committed = await this.readStore({ omitJournal: true });
      await this.pushTable(committed.state);
      return added.device;
    });
  }

  /**
   * The device connects to the server as an apparatus will and says what it
   * serves. Its refusals keep their meaning: a URI it does not take is bad
   * input, a server it cannot reach a state to fix first.
   */
  private async probeExport(registration: ExternalRegistration): Promise<ExternalProbe> {
    try {
      const probe = await this.device.probeNbdExport({ nbd_uri: registration.nbdUri });
      return { sizeBytes: probe.size_bytes, readOnly: probe.read_only, exportName: probe.export_name };
    } catch (error) {
      if (!isRpcError(error)) throw error;
      if (error.code === grpc.status.INVALID_ARGUMENT) throw new ControllerError("INVALID_ARGUMENT", error.details, { cause: error });
      if (error.code !== grpc.status.FAILED_PRECONDITION) throw error;
      throw new ControllerError("FAILED_PRECONDITION", `cannot reach ${registration.nbdUri} for device ${registration.name}: ${error.details}; is the NBD server running?`, { cause: error });
    }
  }

  /**
   * `device remove-external`: forgets an external device nothing uses any
   * more. The new table (a generation up, without its LU) goes to every
   * apparatus, which closes its connection to the server.
   */
  removeExternalDevice(name: string): Promise<DeviceStatus> {
    return this.serialized(async () => {
      // With the journal: a running migration onto the device refuses the removal.
      const { state, sequence } = await this.readStore();
      const removed = removeExternalDevice(state, name);
      await this.writeStore(removed.state, sequence);
      const committed = await this.readStore({ omitJournal: true });
      await this.pushTable(committed.state);
      return removed.device;
    });
  }

  async listVolumes(): Promise<VolumeInfo[]> {
    const { state } = await this.readStore();
    return state.volumes.map((volume) => volumeInfo(volume, state.lus));
  }

  async getVolume(name: string): Promise<VolumeInfo> {
    const { state } = await this.readStore();
    const volume = state.volumes.find((candidate) => candidate.name === name);
    if (volume === undefined) throw new ControllerError("NOT_FOUND", `no volume ${name}`);
    return volumeInfo(volume, state.lus);
  }

  async clusterStatus(): Promise<ClusterStatus> {
    const { state } = await this.readStore();
    const apparatuses = await Promise.all(this.peers.map((peer) => this.apparatusSummary(peer)));
    const lease = this.lease.lease;
    return {
      devices: devicesStatus(state, this.deviceAddress),
      apparatuses,
      controller:
        lease === undefined
          ? null
          : { id: this.id, epoch: lease.epoch, lease_expires_at_ms: lease.expires_at_ms, pid: process.pid, thread_id: threadId },
      generation: state.generation,
    };
  }

  private async apparatusSummary(peer: ApparatusPeer): Promise<ClusterStatus["apparatuses"] extends (infer T)[] | undefined ? T : never> {
    try {
      const state = await peer.port.getState(callTimeoutMs);
      // Fenced is the controller's word: the apparatus itself may not know it yet.
      const status = this.fenced.has(peer.id) ? "APPARATUS_STATUS_FENCED" : state.status;
      return { id: peer.id, nbd: peer.nbd, grpc: peer.grpc, pid: state.pid, state: status, generation: state.generation };
    } catch {
      // An apparatus that does not answer is shown as down, not as an error of the whole status.
      const status = this.fenced.has(peer.id) ? "APPARATUS_STATUS_FENCED" : "APPARATUS_STATUS_DOWN";
      return { id: peer.id, nbd: peer.nbd, grpc: peer.grpc, pid: 0, state: status, generation: 0 };
    }
  }

  /** Writes the final journal records of changes that ended lately (change-executor.ts): before close, to keep them. */
  flushJournal(): Promise<void> {
    return this.changes.flushFinalRecords();
  }

  close(): void {
    this.changes.close();
    this.lease.close();
    this.device.close();
    for (const peer of this.peers) {
      peer.port.close();
    }
  }
}

function mirrorReport(mirror: Mirror__Output): MirrorReport {
  return { volume: mirror.volume, extentIndex: mirror.extent_index, watermarkBytes: mirror.watermark_bytes, synced: mirror.synced, failure: mirror.failure };
}

/** Where the committed table has extent `extentIndex` of `volume`. */
function placementOf(state: StoreState__Output, volume: string, extentIndex: number): Placement {
  const columns = state.volumes.find((candidate) => candidate.name === volume)?.extents;
  if (columns === null || columns === undefined) throw new ControllerError("NOT_FOUND", `no volume ${volume}`);
  const luId = (index: number): string => state.lus.find((lu) => lu.index === index)?.id ?? `#${index}`;
  const mirrorPlusOne = columns.mirror_lu_index_plus_one[extentIndex] ?? 0;
  return {
    luId: luId(columns.lu_index[extentIndex] ?? 0),
    areaIndex: columns.area_index[extentIndex] ?? 0,
    mirror: mirrorPlusOne === 0 ? undefined : { luId: luId(mirrorPlusOne - 1), areaIndex: columns.mirror_area_index[extentIndex] ?? 0 },
  };
}
