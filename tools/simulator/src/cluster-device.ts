/**
 * The storage device of the cluster simulation, as the controllers and the
 * apparatuses meet it: the real arbiter (claim 12) on the virtual clock, the
 * configuration store folding deltas with the device's own code
 * (store-delta.ts), the epoch checks of StorageDevice.checkEpoch,
 * registration keys and fences (claim 3), and mirrors modelled at one chunk
 * per extent: while an extent's copy runs, writes to its source area wait
 * for it; once in sync, each write lands on both areas (device-mirrors.ts,
 * with extents no larger than a chunk). A restart is a power cut: it
 * forgets the lease holder and the copies' progress, as the real device
 * does, and keeps the keys and what reached its disk (simulated-store.ts):
 * the store at its last record that landed, the highest epoch saved. A
 * failed write to that disk crashes the device the same way.
 *
 * The LUs have a volatile write cache (lu-write-cache.ts): a power cut keeps
 * only a seeded subset of the writes no FLUSH or FUA made durable. A mirror's
 * copy is durable before the extent is in sync, as the device's copy engine
 * makes it (device-mirrors.ts: "copied and durable"), and a scrub is too.
 *
 * Not modelled: the registrations file (keys are durable at once).
 */
import assert from "node:assert/strict";
import type { MemoryLu } from "@switchyard/apparatus/testing";
import {
  Arbiter,
  DeviceError,
  InvalidArgumentError,
  LeaseNotHeldError,
  StaleEpochError,
  StaleSequenceError,
  applyStoreDelta,
  checkStoreDelta,
  type LeaseState,
} from "@switchyard/device";
import {
  decodeStoreState,
  encodeStoreState,
  type AcquireLeaseRequest__Output,
  type CommitDeltaRequest__Output,
  type FenceRequest__Output,
  type Lease,
  type ListMirrorsRequest__Output,
  type ListMirrorsResponse,
  type Mirror,
  type ReadStoreRequest__Output,
  type RegisterKeyRequest__Output,
  type RenewLeaseRequest__Output,
  type ScrubAreasRequest__Output,
  type StartMirrorRequest__Output,
  type StoreSnapshot,
  type StoreState,
  type StoreState__Output,
  type WriteStoreRequest__Output,
} from "@switchyard/proto";
import type { Random } from "./prng.js";
import { DeviceRestartedError } from "./device-paths.js";
import { LuWriteCache } from "./lu-write-cache.js";
import { DeviceDisk, DurableStore, type DiskModel } from "./simulated-store.js";
import type { VirtualWorld } from "./virtual-world.js";

/** How long one extent's copy takes on the virtual clock. */
export interface CopyModel {
  readonly copyMinMs: number;
  readonly copyMaxMs: number;
}

/** The device's durable writes and how it restarts after a crash. */
export interface DeviceModel {
  readonly copy: CopyModel;
  readonly disk: DiskModel;
  /** How long the device is down after its disk failed a write (a crash and a restart). */
  readonly crashDownMinMs: number;
  readonly crashDownMaxMs: number;
  /** Planted: the arbiter grants a new epoch before it is saved (saves after, and a failed save goes unnoticed). */
  readonly grantsBeforeSave: boolean;
  /** Planted: I/O from an apparatus with no registered key (a fenced one) is let through. */
  readonly letsUnknownIdsIo: boolean;
  /** Planted: the store answers a commit before its record is on the disk. */
  readonly acksStoreBeforeSync: boolean;
  /** False plants a bug: I/O addressed to a live mirror's destination goes there alone, not to the mirror (area-mirror.ts). */
  readonly aliasesDestinations: boolean;
  /** What share of the LUs' volatile writes a power cut keeps, drawn per cut: all lost, some, most. */
  readonly cacheKeepProbabilities: readonly number[];
}

/** The epoch arbiter.json holds, and whom it was granted to. */
interface SavedGrant {
  readonly epoch: number;
  readonly holderId: string | undefined;
}

/** An epoch the arbiter granted, and in which incarnation of the device (restarts so far). */
interface GrantSeen {
  readonly holderId: string;
  readonly incarnation: number;
}

interface AreaRef {
  readonly luIndex: number;
  readonly areaIndex: number;
}

interface SimulatedMirror {
  readonly volume: string;
  readonly extentIndex: number;
  readonly source: AreaRef;
  readonly destination: AreaRef;
  readonly group: string;
  synced: boolean;
  /** Writes to the source area that wait for the copy, as a chunk's writes do. */
  readonly waiting: WaitingWrite[];
  /** Bumped when the mirror ends or a restart forgets its copy: a copy of an older incarnation lands nowhere. */
  incarnation: number;
}

/** A write that waits for its area's copy: it lands after it, or fails when power is cut first. */
interface WaitingWrite {
  readonly land: () => void;
  readonly fail: (error: Error) => void;
}

const mirrorKey = (volume: string, extentIndex: number): string => `${volume}\u0000${extentIndex}`;

export class ClusterDevice {
  private arbiter: Arbiter;
  private savedGrant: SavedGrant = { epoch: 0, holderId: undefined };
  private readonly grants = new Map<number, GrantSeen>();
  readonly disk: DeviceDisk;
  private readonly store: DurableStore;
  /** Broken invariants the device sees itself: an acknowledged commit lost, an epoch granted twice. */
  readonly violations: string[] = [];
  /** The key each registered apparatus presents; absent while fenced. */
  private readonly keys = new Map<string, string>();
  private readonly mirrors = new Map<string, SimulatedMirror>();
  private progress = 0;
  private readonly progressWaiters = new Set<() => void>();
  /** Run once each, `leadMs` before the next mirror to start gets in sync: its switch follows (the weather aims faults at it). */
  private inSyncWatchers: { readonly leadMs: number; readonly watcher: () => void }[] = [];
  /** The LUs' bytes behind their write cache. */
  readonly cache: LuWriteCache;
  /** Whether the device answers calls at all (false during a restart). */
  up = true;
  restarts = 0;

  constructor(
    private readonly world: VirtualWorld,
    private readonly random: Random,
    lus: readonly MemoryLu[],
    initial: StoreState,
    private readonly model: DeviceModel,
    /** Told of every power cut as it happens (the history checker's powerCut). */
    private readonly onPowerCut: () => void,
  ) {
    this.cache = new LuWriteCache(lus);
    this.disk = new DeviceDisk(world, random, model.disk, () => {
      // A failed fsync: the process stops, and a supervisor starts it again.
      this.restart(random.between(model.crashDownMinMs, model.crashDownMaxMs));
    });
    this.store = new DurableStore(initial, this.disk, model.acksStoreBeforeSync, () => { this.endMirrorsNotInTable(); });
    this.arbiter = this.newArbiter();
  }

  private get copy(): CopyModel {
    return this.model.copy;
  }

  /** The arbiter as it opens arbiter.json: the epoch saved last, not the highest it may have granted. */
  private newArbiter(): Arbiter {
    const { epoch, holderId } = this.savedGrant;
    return new Arbiter({
      highestEpoch: epoch,
      ...(holderId === undefined ? {} : { highestHolderId: holderId }),
      saveHighestEpoch: (next, nextHolderId) => this.saveEpoch(next, nextHolderId),
    });
  }

  /** arbiter.json written and renamed: resolves once durable; never when the disk fails it or power is cut first. */
  private saveEpoch(epoch: number, holderId: string | undefined): Promise<void> {
    const saved = this.disk.write(`epoch ${epoch}`, () => {
      if (epoch > this.savedGrant.epoch) this.savedGrant = { epoch, holderId };
    });
    if (!this.model.grantsBeforeSave) return saved;
    // Planted: granted now, saved later; a save that never ends is not noticed.
    void saved;
    return Promise.resolve();
  }

  get state(): StoreState__Output {
    return this.store.state;
  }

  get epoch(): number {
    return this.arbiter.highestEpoch;
  }

  keyOf(apparatusId: string): string | undefined {
    return this.keys.get(apparatusId);
  }

  /**
   * The check of an I/O as it arrives (lu-exports.ts): refused unless the
   * apparatus presents the key registered for it. A fence removes the key,
   * so "unknown-id-io" (an id with no key let through) lets a fenced
   * apparatus's I/O land.
   */
  refusesIo(apparatusId: string, presentedKey: string | undefined): boolean {
    const registered = this.keys.get(apparatusId);
    if (registered !== undefined) return presentedKey !== registered;
    if (!this.model.letsUnknownIdsIo) return true;
    this.world.note(`device lets I/O of ${apparatusId}, which has no registered key, through`);
    return false;
  }

  /**
   * A power cut, down for `downMs`: the lease holder and the copies'
   * progress are forgotten; the keys stay, and the store and the epoch as
   * far as they reached the disk. Ignored while already down.
   */
  restart(downMs: number): void {
    if (!this.up) return;
    this.restarts += 1;
    this.up = false;
    this.disk.powerCut();
    const keepProbability = this.random.pick(this.model.cacheKeepProbabilities);
    const lostBefore = this.cache.stats.volatileLost;
    this.cache.powerCut(this.random, keepProbability);
    this.onPowerCut();
    for (const mirror of this.mirrors.values()) {
      for (const write of mirror.waiting.splice(0)) write.fail(new DeviceRestartedError("the device lost power before the write landed"));
    }
    this.world.note(`device restarts, down for ${downMs.toFixed(3)} ms; its LUs lost ${this.cache.stats.volatileLost - lostBefore} volatile writes`);
    this.world.schedule(downMs, () => {
      this.arbiter = this.newArbiter();
      const lost = this.store.reopen();
      if (lost !== undefined) this.violations.push(lost);
      this.progress = 0;
      for (const mirror of this.mirrors.values()) {
        if (mirror.synced) continue;
        mirror.incarnation += 1;
        this.startCopy(mirror);
      }
      this.up = true;
      this.world.note("device is back");
    });
  }

  /** Power is cut while the next store or epoch write is in flight (issue 19: a power cut mid-store-write). */
  cutDuringNextWrite(downMs: number): void {
    this.disk.armCut(() => { this.restart(downMs); });
  }

  acquireLease(request: AcquireLeaseRequest__Output): Promise<Lease> {
    return this.arbiter.acquire(request.candidate_id, request.candidate_address, request.lease_ms, this.world.nowMs).then((lease) => {
      if (lease.granted) this.noteGrant(lease.epoch, lease.holderId);
      return leaseOf(lease);
    });
  }

  /** Claim 12: no epoch is granted twice, across restarts too, or two controllers would act under one. */
  private noteGrant(epoch: number, holderId: string): void {
    const first = this.grants.get(epoch);
    if (first === undefined) {
      this.grants.set(epoch, { holderId, incarnation: this.restarts });
      return;
    }
    if (first.incarnation === this.restarts) return;
    // Reported once per restart that granted it again.
    this.grants.set(epoch, { holderId, incarnation: this.restarts });
    this.violations.push(`arbiter: epoch ${epoch} granted twice, to ${first.holderId} and after a device restart to ${holderId}: two controllers with one epoch`);
  }

  renewLease(request: RenewLeaseRequest__Output): Lease {
    return leaseOf(this.arbiter.renew(request.holder_id, request.epoch, request.lease_ms, this.world.nowMs));
  }

  readStore(request: ReadStoreRequest__Output): StoreSnapshot {
    const state = this.store.state;
    return {
      sequence: this.store.sequence,
      state: {
        ...state,
        volumes: request.omit_extents ? state.volumes.map((volume) => ({ ...volume, extents: null })) : state.volumes,
        journal: request.omit_journal ? [] : state.journal,
      },
    };
  }

  async writeStore(request: WriteStoreRequest__Output): Promise<{ sequence: number }> {
    this.checkEpoch(request.epoch);
    const { state } = request;
    if (state === null) throw new InvalidArgumentError("WriteStore needs a state");
    const sequence = await this.store.write(() => {
      if (request.expected_sequence !== this.store.sequence) throw new StaleSequenceError(request.expected_sequence, this.store.sequence);
      return decodeStoreState(encodeStoreState(state));
    });
    return { sequence };
  }

  async commitDelta(request: CommitDeltaRequest__Output): Promise<{ sequence: number }> {
    this.checkEpoch(request.epoch);
    const { delta } = request;
    if (delta === null) throw new InvalidArgumentError("CommitDelta needs a delta");
    const sequence = await this.store.write((current) => {
      checkStoreDelta(current, delta);
      const next = decodeStoreState(encodeStoreState(current));
      applyStoreDelta(next, delta);
      this.checkSwitches(next);
      this.checkCopied(current, next);
      return next;
    });
    return { sequence };
  }

  /** DeviceMirrors.checkSwitches: no commit puts an extent on its mirror's destination before the copy has filled it. */
  private checkSwitches(next: StoreState__Output): void {
    for (const mirror of this.mirrors.values()) {
      const columns = next.volumes.find((volume) => volume.name === mirror.volume)?.extents;
      const { luIndex, areaIndex } = mirror.destination;
      if (mirror.synced || columns?.lu_index[mirror.extentIndex] !== luIndex || columns.area_index[mirror.extentIndex] !== areaIndex) continue;
      throw new DeviceError("MIRROR_NOT_IN_SYNC", `extent ${mirror.extentIndex} of ${mirror.volume} cannot switch to LU index ${mirror.destination.luIndex} area ${mirror.destination.areaIndex}: its mirror is not in sync`);
    }
  }

  /** DeviceMirrors.checkSwitches too: an extent leaves mirror state onto its destination only if this device copied it there. */
  private checkCopied(current: StoreState__Output, next: StoreState__Output): void {
    for (const volume of current.volumes) {
      const before = volume.extents;
      const after = next.volumes.find((candidate) => candidate.name === volume.name)?.extents;
      if (before == null || after == null) continue;
      for (let extent = 0; extent < before.lu_index.length; extent += 1) {
        const luPlusOne = before.mirror_lu_index_plus_one[extent] ?? 0;
        const areaIndex = before.mirror_area_index[extent] ?? 0;
        if (luPlusOne === 0 || after.lu_index[extent] !== luPlusOne - 1 || after.area_index[extent] !== areaIndex) continue;
        const mirror = this.mirrors.get(mirrorKey(volume.name, extent));
        if (mirror?.destination.luIndex === luPlusOne - 1 && mirror.destination.areaIndex === areaIndex) continue;
        throw new DeviceError("MIRROR_NOT_IN_SYNC", `extent ${extent} of ${volume.name} cannot switch to LU index ${luPlusOne - 1} area ${areaIndex}: this device is copying nothing there`);
      }
    }
  }

  registerKey(request: RegisterKeyRequest__Output): Record<string, never> {
    this.checkEpoch(request.epoch);
    if (this.keys.get(request.apparatus_id) !== request.registration_key) this.world.note(`device registers ${request.apparatus_id} under key ${request.registration_key} at epoch ${request.epoch}`);
    this.keys.set(request.apparatus_id, request.registration_key);
    return {};
  }

  fence(request: FenceRequest__Output): Record<string, never> {
    this.checkEpoch(request.epoch);
    this.keys.delete(request.apparatus_id);
    this.world.note(`device fences ${request.apparatus_id}`);
    return {};
  }

  scrubAreas(request: ScrubAreasRequest__Output): { zeroed_bytes: number } {
    this.checkEpoch(request.epoch);
    const lu = this.store.state.lus.find((candidate) => candidate.id === request.lu_id);
    if (lu === undefined) throw new InvalidArgumentError(`no LU ${request.lu_id}`);
    const zeroes = Buffer.alloc(lu.extent_size_bytes);
    // Durable before the answer: a scrubbed area is handed out again.
    for (const areaIndex of request.area_indexes) this.cache.write(lu.index, areaIndex * lu.extent_size_bytes, zeroes, true);
    return { zeroed_bytes: request.area_indexes.length * lu.extent_size_bytes };
  }

  startMirror(request: StartMirrorRequest__Output): Mirror {
    this.checkEpoch(request.epoch);
    const asked = request.mirror;
    if (asked === null) throw new InvalidArgumentError("StartMirror needs a mirror");
    const source = { luIndex: this.luIndexOf(asked.source_lu_id), areaIndex: asked.source_area_index };
    const destination = { luIndex: this.luIndexOf(asked.destination_lu_id), areaIndex: asked.destination_area_index };
    if (!this.tableMirrors(asked.volume, asked.extent_index, source, destination)) {
      throw new InvalidArgumentError(`the committed table does not have extent ${asked.extent_index} of ${asked.volume} in mirror state to ${asked.destination_lu_id} area ${asked.destination_area_index}`);
    }
    const key = mirrorKey(asked.volume, asked.extent_index);
    let mirror = this.mirrors.get(key);
    if (mirror === undefined) {
      mirror = { volume: asked.volume, extentIndex: asked.extent_index, source, destination, group: asked.group, synced: false, waiting: [], incarnation: 0 };
      this.mirrors.set(key, mirror);
      this.startCopy(mirror);
    }
    return this.report(mirror);
  }

  /** Answers at once when progress passed `after_progress`, else when it does or `wait_ms` has gone by. */
  listMirrors(request: ListMirrorsRequest__Output): Promise<ListMirrorsResponse> {
    const answer = (): ListMirrorsResponse => ({ mirrors: [...this.mirrors.values()].map((mirror) => this.report(mirror)), progress: this.progress });
    if (this.progress !== request.after_progress) return Promise.resolve(answer());
    return new Promise((resolve) => {
      let answered = false;
      const done = (): void => {
        if (answered) return;
        answered = true;
        this.progressWaiters.delete(done);
        resolve(answer());
      };
      this.progressWaiters.add(done);
      this.world.schedule(request.wait_ms, done);
    });
  }

  /**
   * What an apparatus reads from an LU: what landed there, durable or not;
   * from the source for a live mirror's destination (DeviceMirrors.read).
   */
  readBytes(luIndex: number, offsetBytes: number, into: Buffer): void {
    const { luIndex: from, offsetBytes: at } = this.aliased(luIndex, offsetBytes)?.source ?? { luIndex, offsetBytes };
    into.set(this.cache.bytes(from).subarray(at, at + into.length));
  }

  /**
   * A live mirror whose destination area holds `offsetBytes` of LU
   * `luIndex`, and where that byte is on its source: I/O addressed there is
   * the source's until the commit ends the mirror (a switch without a
   * hold). Undefined when no mirror has it, when its two areas are not
   * one device's (an LU the table gives another device stands for one this
   * device reaches over NBD, and apparatuses address it there), or with
   * the planted bug.
   */
  private aliased(luIndex: number, offsetBytes: number): { readonly mirror: SimulatedMirror; readonly source: { readonly luIndex: number; readonly offsetBytes: number } } | undefined {
    if (!this.model.aliasesDestinations) return undefined;
    const size = this.extentSizeBytes();
    const areaIndex = Math.floor(offsetBytes / size);
    const mirror = [...this.mirrors.values()].find((candidate) => candidate.destination.luIndex === luIndex && candidate.destination.areaIndex === areaIndex);
    if (mirror === undefined || this.deviceOf(mirror.source.luIndex) !== this.deviceOf(luIndex)) return undefined;
    return { mirror, source: { luIndex: mirror.source.luIndex, offsetBytes: mirror.source.areaIndex * size + offsetBytes - areaIndex * size } };
  }

  /** The device the table gives LU `luIndex`. */
  private deviceOf(luIndex: number): string | undefined {
    return this.state.lus.find((lu) => lu.index === luIndex)?.device_id;
  }

  /** A FLUSH reaches an LU: what landed there is durable, and on the other end of its mirrors (DeviceMirrors.flush). */
  flushLu(luIndex: number): void {
    this.cache.flush(luIndex);
    for (const mirror of this.mirrors.values()) {
      if (mirror.source.luIndex === luIndex && mirror.destination.luIndex !== luIndex) this.cache.flush(mirror.destination.luIndex);
      if (mirror.destination.luIndex === luIndex && mirror.source.luIndex !== luIndex) this.cache.flush(mirror.source.luIndex);
    }
  }

  /**
   * Where an apparatus's write to an LU lands: on the source, and on the
   * destination of an extent in sync; after the copy, for an extent whose
   * copy runs. A write addressed to a live mirror's destination is the
   * source's; once the mirror has ended it lands where it was addressed.
   * Resolves once it has landed, volatile unless `fua`.
   */
  landWrite(addressedLu: number, addressedOffsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
    const extentSizeBytes = this.extentSizeBytes();
    const alias = this.aliased(addressedLu, addressedOffsetBytes);
    const { luIndex, offsetBytes } = alias?.source ?? { luIndex: addressedLu, offsetBytes: addressedOffsetBytes };
    const areaIndex = Math.floor(offsetBytes / extentSizeBytes);
    const mirror = alias?.mirror ?? [...this.mirrors.values()].find((candidate) => candidate.source.luIndex === luIndex && candidate.source.areaIndex === areaIndex);
    const apply = (): void => {
      const now = this.mirrors.get(mirrorKey(mirror?.volume ?? "", mirror?.extentIndex ?? 0));
      if (mirror === undefined || now !== mirror) {
        this.cache.write(addressedLu, addressedOffsetBytes, data, fua);
        return;
      }
      this.cache.write(luIndex, offsetBytes, data, fua);
      if (!mirror.synced) return;
      const { luIndex: destinationLu, areaIndex: destinationArea } = mirror.destination;
      this.cache.write(destinationLu, destinationArea * extentSizeBytes + offsetBytes - areaIndex * extentSizeBytes, data, fua);
    };
    if (mirror === undefined || mirror.synced) {
      apply();
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      mirror.waiting.push({
        land: () => {
          apply();
          resolve();
        },
        fail: reject,
      });
    });
  }

  private startCopy(mirror: SimulatedMirror): void {
    const incarnation = mirror.incarnation;
    const copyMs = this.random.between(this.copy.copyMinMs, this.copy.copyMaxMs);
    for (const { leadMs, watcher } of this.inSyncWatchers.splice(0)) this.world.schedule(Math.max(0, copyMs - leadMs), watcher);
    this.world.schedule(copyMs, () => {
      if (mirror.incarnation !== incarnation) return;
      // Copied and durable before in sync, as the device's copy engine flushes before it moves the watermark.
      const size = this.extentSizeBytes();
      this.cache.write(mirror.destination.luIndex, mirror.destination.areaIndex * size, Buffer.from(this.area(mirror.source)), true);
      mirror.synced = true;
      this.world.note(`device: extent ${mirror.extentIndex} of ${mirror.volume} in sync`);
      this.bumpProgress();
      for (const write of mirror.waiting.splice(0)) write.land();
    });
  }

  /** Runs `watcher` once, `leadMs` before the next mirror to start gets in sync (the controller's switch follows). */
  whenNextInSync(leadMs: number, watcher: () => void): void {
    this.inSyncWatchers.push({ leadMs, watcher });
  }

  /** After every store write and reopen: mirrors the table no longer has end, and their waiting writes land where they were addressed alone. */
  private endMirrorsNotInTable(): void {
    for (const [key, mirror] of this.mirrors) {
      if (this.tableMirrors(mirror.volume, mirror.extentIndex, mirror.source, mirror.destination)) continue;
      this.mirrors.delete(key);
      mirror.incarnation += 1;
      for (const write of mirror.waiting.splice(0)) write.land();
      this.bumpProgress();
    }
  }

  private bumpProgress(): void {
    this.progress += 1;
    for (const waiter of [...this.progressWaiters]) waiter();
  }

  private tableMirrors(volume: string, extentIndex: number, source: AreaRef, destination: AreaRef): boolean {
    const columns = this.store.state.volumes.find((candidate) => candidate.name === volume)?.extents;
    if (columns == null) return false;
    return columns.lu_index[extentIndex] === source.luIndex && columns.area_index[extentIndex] === source.areaIndex &&
      columns.mirror_lu_index_plus_one[extentIndex] === destination.luIndex + 1 && columns.mirror_area_index[extentIndex] === destination.areaIndex;
  }

  private report(mirror: SimulatedMirror): Mirror {
    const lu = (index: number): string => this.store.state.lus.find((candidate) => candidate.index === index)?.id ?? "";
    return {
      volume: mirror.volume, extent_index: mirror.extentIndex,
      source_lu_id: lu(mirror.source.luIndex), source_area_index: mirror.source.areaIndex,
      destination_lu_id: lu(mirror.destination.luIndex), destination_area_index: mirror.destination.areaIndex,
      watermark_bytes: mirror.synced ? this.extentSizeBytes() : 0, synced: mirror.synced, group: mirror.group, rate_bytes_per_second: 0, failure: "",
    };
  }

  /** StorageDevice.checkEpoch: only the highest epoch granted may write. */
  private checkEpoch(epoch: number): void {
    const highest = this.arbiter.highestEpoch;
    if (epoch < highest) throw new StaleEpochError(epoch, highest);
    if (epoch === 0 || epoch > highest) throw new LeaseNotHeldError(`epoch ${epoch} was never granted (highest ${highest})`);
  }

  private luIndexOf(luId: string): number {
    const lu = this.store.state.lus.find((candidate) => candidate.id === luId);
    if (lu === undefined) throw new InvalidArgumentError(`no LU ${luId}`);
    return lu.index;
  }

  private extentSizeBytes(): number {
    const size = this.store.state.lus[0]?.extent_size_bytes;
    assert.ok(size !== undefined);
    return size;
  }

  /** An area's bytes as reads see them; written only through the cache. */
  private area(ref: AreaRef): Buffer {
    const size = this.extentSizeBytes();
    return this.cache.bytes(ref.luIndex).subarray(ref.areaIndex * size, (ref.areaIndex + 1) * size);
  }
}

function leaseOf(lease: LeaseState): Lease {
  return { holder_id: lease.holderId, holder_address: lease.holderAddress, epoch: lease.epoch, expires_at_ms: lease.expiresAtMs, lease_ms: lease.leaseMs, granted: lease.granted };
}
