/**
 * Drives the membership core (membership-core.ts, claim 3) over the ports:
 * the whole-table loads and registrations of a takeover and a rejoin, the
 * device's fences and keys, the probes of fenced apparatuses, and table
 * pushes. The decisions (who is in the range, who is owed a fence, who
 * rejoins, whose key is kept) are the core's.
 */
import assert from "node:assert/strict";
import type { ApparatusState__Output, ClusterStatus, ConfigurationTable, StoreState__Output } from "@switchyard/proto";
import type { ApparatusPort, ApparatusPortFactory } from "./apparatus-port.js";
import type { ControlledApparatus } from "./change-executor.js";
import { callTimeoutMs, type DevicePort } from "./device-port.js";
import type { Entropy, Warn } from "./environment.js";
import { ControllerError } from "./errors.js";
import { MembershipCore } from "./membership-core.js";
import type { PendingReport } from "./recovery.js";
import { sleepOn, type Scheduler } from "./scheduler.js";

/** How long a fenced apparatus has to answer before the controller tries to take it back. */
export const probeTimeoutMs = 300;
/**
 * Probes in a row a fenced apparatus must answer before it is taken back: one
 * that just woke up (or flaps) stays out for a renewal period first. A newly
 * enrolled apparatus joins at its first answer.
 */
export const rejoinProbesMin = 2;

export interface ApparatusEndpoint {
  readonly id: string;
  readonly grpc: string;
  readonly nbd: string;
}

interface ApparatusPeer extends ApparatusEndpoint {
  /** Every call to it, the change protocol's messages included. */
  readonly port: ApparatusPort;
}

/** One apparatus as `cluster status` shows it. */
export type ApparatusSummary = NonNullable<ClusterStatus["apparatuses"]>[number];

export interface MembershipOptions {
  readonly device: DevicePort;
  readonly apparatusPort: ApparatusPortFactory;
  /** Where registered apparatuses renew their keys. */
  readonly deviceAddress: string;
  /** The lease apparatuses hold: a fenced one has stopped serving this long after its fence. */
  readonly apparatusLeaseMs: number;
  readonly loadTableTimeoutMs: number;
  readonly scheduler: Scheduler;
  readonly entropy: Entropy;
  readonly warn: Warn;
  /** Named in warnings. */
  readonly controllerId: string;
}

export class Membership {
  private readonly peers: ApparatusPeer[];
  private readonly core: MembershipCore;
  /** Per apparatus, the volumes a probe last saw it had shut (takeVolumesShut). */
  private readonly volumesShutSeen = new Map<string, readonly string[]>();

  constructor(endpoints: readonly ApparatusEndpoint[], private readonly options: MembershipOptions) {
    this.peers = endpoints.map((endpoint) => this.peerAt(endpoint));
    this.core = new MembershipCore(endpoints.map((endpoint) => endpoint.id), rejoinProbesMin);
  }

  /** The apparatuses in the control range, for a change to run over. */
  controlRange(): ControlledApparatus[] {
    const inRange = new Set(this.core.inRange());
    return this.peers.filter((peer) => inRange.has(peer.id));
  }

  isFenced(apparatusId: string): boolean {
    return this.core.isFenced(apparatusId);
  }

  isOperatorFenced(apparatusId: string): boolean {
    return this.core.isOperatorFenced(apparatusId);
  }

  /** The apparatus by id, or NOT_FOUND naming the ones there are. */
  named(apparatusId: string): ApparatusEndpoint {
    const peer = this.peers.find((candidate) => candidate.id === apparatusId);
    if (peer === undefined) {
      throw new ControllerError("NOT_FOUND", `no apparatus ${JSON.stringify(apparatusId)}; apparatuses are ${this.peers.map((candidate) => candidate.id).join(", ")}`);
    }
    return peer;
  }

  /**
   * Brings every apparatus to the committed table under `epoch`: one that
   * answers loads the whole table (ending whatever change a predecessor
   * left, and every hold) and keeps or renews its registration; one that
   * does not is fenced. Says what change each was in, for the journal.
   */
  async takeOver(state: StoreState__Output, epoch: number): Promise<PendingReport[]> {
    this.addEnrolled(state);
    const pending: PendingReport[] = [];
    await Promise.all(this.peers.map(async (peer) => {
      if (this.core.isOperatorFenced(peer.id)) {
        // The device refuses it already (its fence is persistent); only an operator's rejoin lifts it.
        this.core.fence(peer.id);
        this.core.fenceRecorded(peer.id);
        return;
      }
      try {
        const status = await peer.port.getState(callTimeoutMs);
        pending.push({ apparatusId: peer.id, changeId: status.pending_change_id, phase: status.pending_phase });
        this.noteShut(peer.id, status.volumes_shut);
        await this.loadTableInto(peer, state, epoch);
        await this.keepRegistration(peer, status, epoch);
      } catch (error: unknown) {
        this.options.warn(`apparatus ${peer.id} did not answer the new controller ${this.options.controllerId}: fencing it (${String(error)})`);
        await this.fence(peer.id, epoch).catch(() => undefined);
      }
    }));
    return pending;
  }

  /** Removes an apparatus from the control range and has the device refuse its renewals (claim 3). */
  async fence(apparatusId: string, epoch: number): Promise<void> {
    this.core.fence(apparatusId);
    await this.options.device.fence({ epoch, apparatus_id: apparatusId });
    this.core.fenceRecorded(apparatusId);
  }

  /**
   * Has the device record the fences it did not answer: until it has, an
   * apparatus out of the control range may still serve under its key, and a
   * change that left it out could let it read an area the change retired.
   */
  async recordOwedFences(epoch: number): Promise<void> {
    for (const apparatusId of this.core.owedFences()) await this.fence(apparatusId, epoch);
  }

  get owesFences(): boolean {
    return this.core.owedFences().length > 0;
  }

  /** Registers the keys again: a device that restarted forgot them, and apparatuses could not renew. */
  async refreshKeys(epoch: number): Promise<void> {
    await Promise.all(this.core.keysInRange().map(([apparatusId, key]) =>
      this.options.device.registerKey({ epoch, apparatus_id: apparatusId, registration_key: key })));
  }

  /**
   * Probes the fenced apparatuses an automatic rejoin may take back, with a
   * short deadline (outside the queue of changes: one still away must not
   * delay them); says which have answered enough to rejoin now.
   */
  async probeFenced(state: StoreState__Output): Promise<string[]> {
    this.addEnrolled(state);
    const ready: string[] = [];
    for (const apparatusId of this.core.probeTargets()) {
      const peer = this.peerOf(apparatusId);
      const answered = await peer.port.getState(probeTimeoutMs).then((state) => {
        this.noteShut(apparatusId, state.volumes_shut);
        return true;
      }, () => false);
      if (this.core.probed(apparatusId, answered)) ready.push(apparatusId);
    }
    return ready;
  }

  /**
   * Asks every apparatus in the range how it serves, with the probes' short
   * deadline; says which fell out of step on their own (membership-core.ts
   * outOfStep). Silence says nothing: a change would fence it.
   */
  async outOfStep(): Promise<string[]> {
    const found: string[] = [];
    await Promise.all(this.controlRange().map(async (peer) => {
      const state = await peer.port.getState(probeTimeoutMs).catch(() => undefined);
      if (state === undefined) return;
      this.noteShut(peer.id, state.volumes_shut);
      if (this.core.outOfStep(peer.id, { fenced: state.status === "APPARATUS_STATUS_FENCED", volumesShut: state.volumes_shut })) found.push(peer.id);
    }));
    return found;
  }

  /**
   * The volumes an apparatus said it shut when a hold passed its deadline,
   * seen by a probe since the last time this was asked (then forgotten): the
   * controller records the expired hold when it takes the apparatus back.
   */
  takeVolumesShut(apparatusId: string): readonly string[] {
    const shut = this.volumesShutSeen.get(apparatusId) ?? [];
    this.volumesShutSeen.delete(apparatusId);
    return shut;
  }

  private noteShut(apparatusId: string, volumes: readonly string[]): void {
    if (volumes.length > 0) this.volumesShutSeen.set(apparatusId, volumes);
  }

  /** A fenced apparatus, or one out of step, rejoins by loading the whole current table and registering under a fresh key. */
  async rejoin(apparatusId: string, state: StoreState__Output, epoch: number): Promise<void> {
    const peer = this.peerOf(apparatusId);
    await this.loadTableInto(peer, state, epoch);
    await this.register(peer, epoch);
  }

  /** The operators' fences as the store lists them, or one just recorded there. */
  setOperatorFenced(apparatusIds: readonly string[]): void {
    this.core.setOperatorFenced(apparatusIds);
  }

  operatorFence(apparatusId: string, fenced: boolean): void {
    this.core.operatorFence(apparatusId, fenced);
  }

  /**
   * Sends the whole table to every apparatus in the range. A volume create
   * or delete changes no mapping that host I/O is using, so it needs no
   * hold: the apparatus drains I/O of a deleted volume itself before it
   * answers. An apparatus that does not load the new generation is fenced,
   * as an apparatus silent in a change's phase is (claim 3): left on the old
   * generation it would answer every later Hold WRONG_GENERATION, and after
   * a delete it could still write areas the next create hands out. So the
   * push returns only once a fenced apparatus has stopped serving (the
   * device refuses its I/O, and its own lease has run out).
   */
  async push(state: StoreState__Output, epoch: number): Promise<void> {
    await this.recordOwedFences(epoch);
    const inRange = this.controlRange();
    const results = await Promise.allSettled(inRange.map((peer) => this.loadTableInto(this.peerOf(peer.id), state, epoch)));
    const behind: string[] = [];
    results.forEach((result, index) => {
      const peer = inRange[index];
      assert.ok(peer !== undefined);
      if (result.status === "fulfilled") return;
      this.options.warn(`apparatus ${peer.id} did not load generation ${state.generation}, so it is fenced: ${String(result.reason)}`);
      behind.push(peer.id);
    });
    if (behind.length === 0) return;
    await Promise.all(behind.map((apparatusId) => this.fence(apparatusId, epoch)));
    await sleepOn(this.options.scheduler, this.options.apparatusLeaseMs);
  }

  /** Every apparatus as `cluster status` shows it; fenced is the controller's word, the apparatus may not know it yet. */
  summaries(): Promise<ApparatusSummary[]> {
    return Promise.all(this.peers.map(async (peer) => {
      const fenced = this.core.isFenced(peer.id);
      try {
        const state = await peer.port.getState(callTimeoutMs);
        return { id: peer.id, nbd: peer.nbd, grpc: peer.grpc, pid: state.pid, state: fenced ? "APPARATUS_STATUS_FENCED" : state.status, generation: state.generation };
      } catch {
        // An apparatus that does not answer is shown as down, not as an error of the whole status.
        return { id: peer.id, nbd: peer.nbd, grpc: peer.grpc, pid: 0, state: fenced ? "APPARATUS_STATUS_FENCED" : "APPARATUS_STATUS_DOWN", generation: 0 };
      }
    }));
  }

  close(): void {
    for (const peer of this.peers) peer.port.close();
  }

  private peerAt(endpoint: ApparatusEndpoint): ApparatusPeer {
    return { id: endpoint.id, grpc: endpoint.grpc, nbd: endpoint.nbd, port: this.options.apparatusPort(endpoint.grpc) };
  }

  private peerOf(apparatusId: string): ApparatusPeer {
    const peer = this.peers.find((candidate) => candidate.id === apparatusId);
    assert.ok(peer !== undefined, `no apparatus ${apparatusId}`);
    return peer;
  }

  /**
   * Apparatuses that enrolled with the device and this controller does not
   * know yet, or knows at another address (restarted: a new incarnation with
   * an empty table): fenced until they join, which they do at their first
   * answer. The operators' fences come from the same state.
   */
  private addEnrolled(state: StoreState__Output): void {
    this.core.setOperatorFenced(state.fenced_by_operator);
    for (const record of state.apparatuses) {
      const index = this.peers.findIndex((peer) => peer.id === record.id);
      const known = this.peers[index];
      if (known !== undefined && known.grpc === record.grpc && known.nbd === record.nbd) continue;
      known?.port.close();
      const peer = this.peerAt(record);
      if (known === undefined) this.peers.push(peer);
      else this.peers[index] = peer;
      this.core.enrolled(record.id);
    }
  }

  private async loadTableInto(peer: ApparatusPeer, state: StoreState__Output, epoch: number): Promise<void> {
    const table: ConfigurationTable = { generation: state.generation, lus: state.lus, volumes: state.volumes };
    await peer.port.loadTable({ epoch, table }, this.options.loadTableTimeoutMs);
  }

  /**
   * A serving apparatus keeps the registration it has (membership-core.ts
   * keepsKey): the device holds its key, and this controller learns only its
   * digest, so it neither tells the device again nor refreshes it later.
   * Should the device not hold that key after all, the apparatus's renewals
   * fail, its lease runs out and it falls out of step, to be registered
   * afresh (outOfStep). Any other apparatus registers afresh now.
   */
  private async keepRegistration(peer: ApparatusPeer, status: ApparatusState__Output, epoch: number): Promise<void> {
    if (!this.core.keepsKey(peer.id, { keyDigest: status.registration_key_sha256, fenced: status.status === "APPARATUS_STATUS_FENCED" })) {
      await this.register(peer, epoch);
      return;
    }
    this.core.joined(peer.id, undefined);
  }

  /**
   * Takes an apparatus into the control range: a fresh key at the device,
   * then Register, after which the apparatus renews it with the device.
   */
  private async register(peer: ApparatusPeer, epoch: number): Promise<void> {
    const key = `${peer.id}:${this.options.entropy.hex(8)}`;
    const { device, apparatusLeaseMs, deviceAddress } = this.options;
    try {
      await device.registerKey({ epoch, apparatus_id: peer.id, registration_key: key });
      await peer.port.register({ epoch, registration_key: key, lease_ms: apparatusLeaseMs, device_address: deviceAddress }, callTimeoutMs);
    } catch (error) {
      // The device may hold the new key and the apparatus serve under it (an answer lost on the way back, seen
      // by the cluster simulation at seed 557): out of the range, and owed a fence before the next change commits.
      this.core.fence(peer.id);
      throw error;
    }
    this.core.joined(peer.id, key);
  }
}
