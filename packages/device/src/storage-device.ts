/**
 * A storage device: one data folder holding its description (device.json),
 * its logical units (lu0.img, ...), the configuration store (store.slots)
 * and the arbiter's highest epoch (arbiter.json).
 *
 * device.json is written last, durably, when a device is created: it is the
 * commit point of creation. A folder with LU or store files but no
 * device.json is refused rather than overwritten, since those files may be
 * all that is left of a device whose description was lost.
 */
import assert from "node:assert/strict";
import path from "node:path";
import type { LogicalUnit__Output, StoreDelta, StoreState, StoreState__Output } from "@switchyard/proto";
import type { NbdClientTls } from "@switchyard/nbd";
import { Arbiter, type EpochGrant } from "./arbiter.js";
import { ConfigurationStore, type StoreSnapshot } from "./configuration-store.js";
import { readFileIfExists, writeFileDurably } from "./durable-file.js";
import { nodeFiles, type DeviceFiles } from "./device-files.js";
import { loadRegistrations, registrationsFileName, saveRegistrations, type Registrations } from "./registrations-file.js";
import { DeviceRegistrations, registrationsMax, type RegistrationStatus } from "./device-registrations.js";
import { TokenFloor, type FollowedCoordination } from "./followed-coordination.js";
import { followIfWatched } from "./followed-registrations.js";
import { ExternalLus, type TableLus } from "./external-lu.js";
import { DeviceMirrors, type MirrorStatus } from "./device-mirrors.js";
import { tableHasMirror, type StartMirrorRequest } from "./mirror-records.js";
import { DeviceCorruptError, InvalidArgumentError, LeaseNotHeldError, LimitExceededError, NotFoundError, StaleEpochError } from "./errors.js";
import { LogicalUnit } from "./logical-unit.js";
import type { LuIoErrors } from "./lu-io-errors.js";
import { arbiterFileName, createFiles, describeNew, deviceFileName, deviceIdPattern, parseDescription, storeFileName, type DeviceCreateOptions, type DeviceDescription } from "./device-folder.js";

export { arbiterFileName, deviceFileName, deviceIdPattern, luCountMax, storeFileName, type DeviceCreateOptions } from "./device-folder.js";

export { registrationKeyLengthMax, registrationsMax } from "./device-registrations.js";


export interface DeviceOpenOptions {
  readonly dir: string;
  /** Creates the device when the folder has none; ignored (and logged) when it has one. */
  readonly create?: DeviceCreateOptions;
  /**
   * Where every file of the device is read and written: node:fs unless a
   * test passes another DeviceFiles (from the "./testing" subpath).
   */
  readonly files?: DeviceFiles;
  /** A coordination that is not the device's own (followed-coordination.ts); without it the device is the coordination, as in `switchyard up`. */
  readonly coordination?: FollowedCoordination;
  /** The certificate it presents to other devices' LU exports when it copies an extent onto one (external-lu.ts). */
  readonly peerTls?: NbdClientTls;
}

export interface LogicalUnitInventory {
  readonly id: string;
  /** The LU's position in the store's LU list, which extent rows refer to. */
  readonly index: number;
  readonly sizeBytes: number;
  readonly extentSizeBytes: number;
  readonly areasTotal: number;
  readonly areasFree: number;
  /** What failed on its file since the device opened (GetInventory reports it). */
  readonly ioErrors: Readonly<LuIoErrors>;
}

export class StorageDevice {
  readonly id: string;
  readonly dir: string;
  readonly extentSizeBytes: number;
  readonly lus: readonly LogicalUnit[];
  readonly store: ConfigurationStore;
  readonly arbiter: Arbiter;
  /** Areas in mirror state for migrations, and their copies (claim 5). */
  readonly mirrors: DeviceMirrors;
  /** True when this open created the device. */
  readonly created: boolean;
  /** What opening did, one line each (e.g. create parameters ignored on an existing device). */
  readonly openLog: readonly string[];

  private readonly lusById: ReadonlyMap<string, LogicalUnit>;
  /** External devices' LUs that mirrors copy onto or from. */
  private readonly externals: ExternalLus;
  /** The LUs of the table last read from the followed coordination, where ExternalLus looks for other devices' LUs. */
  private readonly tableLus: TableLus;
  /**
   * Registration keys (fencing), kept in registrations.json by
   * saveRegistrations so that a restart changes nothing: a fenced apparatus
   * stays fenced, a registered one is not refused.
   */
  private readonly registrations: DeviceRegistrations;
  private readonly followed: { readonly coordination: FollowedCoordination; readonly tokens: TokenFloor } | undefined;
  /** Stops following the coordination's registrations; undefined when they are not watched. */
  private readonly stopFollowingRegistrations: (() => void) | undefined;
  private readonly files: DeviceFiles;
  /** The last registrations write; writes run one after another. */
  private registrationsSaved: Promise<void> = Promise.resolve();

  private constructor(parts: {
    description: DeviceDescription; dir: string; lus: LogicalUnit[]; store: ConfigurationStore; arbiter: Arbiter; registrations: Registrations;
    mirrors: DeviceMirrors; externals: ExternalLus; tableLus: TableLus; created: boolean; openLog: string[]; files: DeviceFiles;
    coordination: FollowedCoordination | undefined;
  }) {
    this.files = parts.files;
    this.mirrors = parts.mirrors;
    this.externals = parts.externals;
    this.tableLus = parts.tableLus;
    this.id = parts.description.deviceId;
    this.dir = parts.dir;
    this.extentSizeBytes = parts.description.extentSizeBytes;
    this.lus = parts.lus;
    this.store = parts.store;
    this.arbiter = parts.arbiter;
    this.created = parts.created;
    this.openLog = parts.openLog;
    this.lusById = new Map(parts.lus.map((lu) => [lu.id, lu]));
    assert.equal(this.lusById.size, this.lus.length);
    this.registrations = new DeviceRegistrations(parts.registrations);
    this.followed = parts.coordination === undefined ? undefined : { coordination: parts.coordination, tokens: new TokenFloor(parts.arbiter) };
    this.stopFollowingRegistrations = followIfWatched(parts.coordination, this.registrations, () => this.saveRegistrations(), (message) => {
      process.emitWarning(message);
    });
  }

  /** Opens the device in `options.dir`, creating it when the folder has none and `create` is given. */
  static async open(options: DeviceOpenOptions): Promise<StorageDevice> {
    const dir = path.resolve(options.dir);
    const files = options.files ?? nodeFiles;
    const descriptionBytes = await readFileIfExists(files, path.join(dir, deviceFileName));
    const openLog: string[] = [];
    let description: DeviceDescription;
    if (descriptionBytes !== undefined) {
      description = parseDescription(descriptionBytes, path.join(dir, deviceFileName));
      if (options.create !== undefined) {
        openLog.push(`${dir} already holds device ${description.deviceId}: create parameters ignored`);
      }
      openLog.push(`opened device ${description.deviceId} with ${description.lus.length} LUs`);
    } else if (options.create !== undefined) {
      description = describeNew(options.create);
      await createFiles(files, dir, description, options.create.storeSlotSizeBytes);
      openLog.push(`created device ${description.deviceId} with ${description.lus.length} LUs in ${dir}`);
    } else {
      throw new NotFoundError(`${dir} holds no ${deviceFileName}, and no create parameters were given`);
    }
    const device = await StorageDevice.openParts(files, dir, description, { created: descriptionBytes === undefined, openLog, coordination: options.coordination, peerTls: options.peerTls });
    try {
      if (await device.listLusInStore()) openLog.push(`listed the LUs of ${device.id} in the configuration store`);
      // Creation commits only when every file exists and the store lists the LUs.
      if (device.created) await writeFileDurably(files, path.join(dir, deviceFileName), JSON.stringify(description, null, 2) + "\n");
    } catch (error) {
      // The open's own failure is the one to report; closing is best effort.
      await device.close().catch(() => undefined);
      throw error;
    }
    return device;
  }

  private static async openParts(files: DeviceFiles, dir: string, description: DeviceDescription,
    { created, openLog, coordination, peerTls }: { created: boolean; openLog: string[]; coordination: FollowedCoordination | undefined; peerTls: NbdClientTls | undefined }): Promise<StorageDevice> {
    const lus: LogicalUnit[] = [];
    try {
      for (const entry of description.lus) {
        lus.push(await LogicalUnit.open({
          id: entry.id, path: path.join(dir, entry.file), sizeBytes: entry.sizeBytes,
          extentSizeBytes: description.extentSizeBytes, files,
        }));
      }
      const store = await ConfigurationStore.open(path.join(dir, storeFileName), { files });
      const arbiter = await Arbiter.open(path.join(dir, arbiterFileName), files).catch(async (error: unknown) => {
        await store.close();
        throw error;
      });
      const registrations = await loadRegistrations(files, path.join(dir, registrationsFileName)).catch(async (error: unknown) => {
        await store.close();
        throw error;
      });
      const luById = new Map(lus.map((lu) => [lu.id, lu]));
      // On etcd the committed table (every device's LUs) is etcd's, as last read (committedTable); else the store's.
      const tableLus: TableLus = { followed: undefined };
      const externals = new ExternalLus(() => tableLus.followed ?? store.view().state.lus, description.deviceId, peerTls);
      const mirrors = await DeviceMirrors.open(dir, {
        own: (id) => luById.get(id),
        external: (id) => externals.get(id),
      }, store.read().state, files).catch(async (error: unknown) => {
        await store.close();
        throw error;
      });
      return new StorageDevice({ description, dir, lus, store, arbiter, registrations, mirrors, externals, tableLus, created, openLog, files, coordination });
    } catch (error) {
      await Promise.allSettled(lus.map((lu) => lu.close()));
      throw error;
    }
  }

  /** The LU with this id; NOT_FOUND when the device has none. */
  lu(id: string): LogicalUnit {
    const lu = this.lusById.get(id);
    if (lu === undefined) throw new NotFoundError(`device ${this.id} has no LU ${JSON.stringify(id)}`);
    return lu;
  }

  /** Makes every completed write on every LU durable. */
  async flushAll(): Promise<void> {
    await Promise.all(this.lus.map((lu) => lu.flush()));
  }

  /**
   * Areas total and free per LU. An area is used when any volume's extent
   * row, or its mirror (online migration), refers to it through the store's
   * LU list; rows for other devices' LUs are not ours to count.
   */
  inventory(): LogicalUnitInventory[] {
    const { state } = this.store.read();
    const used = new Map<number, { lu: LogicalUnit; areas: Uint32Array }>();
    for (const entry of state.lus) {
      if (entry.device_id !== this.id) continue;
      const lu = this.lusById.get(entry.id);
      if (lu !== undefined) used.set(entry.index, { lu, areas: new Uint32Array(Math.ceil(lu.areaCount / 32)) });
    }
    const mark = (luIndex: number, areaIndex: number): void => {
      const entry = used.get(luIndex);
      // An index past the LU's end is the table's problem, reported by whoever validates it.
      if (entry === undefined || areaIndex >= entry.lu.areaCount) return;
      entry.areas[areaIndex >>> 5] = (entry.areas[areaIndex >>> 5] ?? 0) | (1 << (areaIndex & 31));
    };
    for (const volume of state.volumes) {
      const extents = volume.extents;
      if (extents === null) continue;
      extents.lu_index.forEach((luIndex, row) => { mark(luIndex, extents.area_index[row] ?? Infinity); });
      extents.mirror_lu_index_plus_one.forEach((plusOne, row) => {
        if (plusOne > 0) mark(plusOne - 1, extents.mirror_area_index[row] ?? Infinity);
      });
    }
    return [...used].map(([index, { lu, areas }]) => ({
      id: lu.id, index, sizeBytes: lu.sizeBytes, extentSizeBytes: lu.extentSizeBytes,
      areasTotal: lu.areaCount, areasFree: lu.areaCount - countBits(areas), ioErrors: lu.ioErrors,
    }));
  }

  /** The stored state, copied: the caller may change it. */
  readStore(): StoreSnapshot {
    return this.store.read();
  }

  /** The stored state itself, for a ReadStore reply: not copied, since gRPC only encodes it before the next write. */
  viewStore(): StoreSnapshot {
    return this.store.view();
  }

  /**
   * Appends a change's commit or journal update (a delta) on behalf of the
   * controller holding `epoch`, with the same epoch checks as writeStore:
   * the commit point of a change costs its diff, not the table (claim 2).
   */
  async commitDelta(delta: StoreDelta, epoch: number): Promise<number> {
    this.checkEpoch(epoch);
    const guard = (): void => {
      this.checkEpoch(epoch);
      this.mirrors.checkCommit(this.store.view().state, delta.diff?.rows ?? []);
    };
    const sequence = await this.store.append(delta, { guard });
    await this.mirrors.afterCommit(this.store.view().state, delta.diff?.rows ?? []);
    return sequence;
  }

  /**
   * Writes the store on behalf of the controller holding `epoch` (claim 12):
   * refused when the epoch is stale, checked again in the write's turn so a
   * lease granted meanwhile wins.
   */
  async writeStore(state: StoreState, expectedSequence: number, epoch: number): Promise<number> {
    this.checkEpoch(epoch);
    const sequence = await this.store.write(state, expectedSequence, { guard: () => { this.checkEpoch(epoch); } });
    await this.mirrors.afterCommit(this.store.view().state);
    this.externals.retainListed();
    return sequence;
  }

  /** Puts an extent's source area in mirror state for the controller holding `epoch` (device-mirrors.ts). */
  async startMirror(epoch: number, request: StartMirrorRequest): Promise<MirrorStatus> {
    this.checkEpoch(epoch);
    await this.followed?.tokens.durable();
    if (!tableHasMirror(await this.committedTable(), request)) {
      throw new InvalidArgumentError(`the committed table does not have extent ${request.extentIndex} of ${request.volume} in mirror state from ${request.sourceLuId} area ${request.sourceAreaIndex} to ${request.destinationLuId} area ${request.destinationAreaIndex}`);
    }
    return this.mirrors.start(request);
  }

  /**
   * Ends an extent's mirror for the controller holding `epoch`; true when there was one. Refused while the
   * committed table has it: until that commit, apparatuses may address either area, which the mirror keeps one.
   */
  async stopMirror(epoch: number, volume: string, extentIndex: number): Promise<boolean> {
    this.checkEpoch(epoch);
    await this.followed?.tokens.durable();
    const spec = this.mirrors.specOf(volume, extentIndex);
    if (spec !== undefined && tableHasMirror(await this.committedTable(), spec)) throw new InvalidArgumentError(`extent ${extentIndex} of ${volume} is in mirror state in the committed table: a commit that takes it out ends its mirror`);
    return this.mirrors.stop(volume, extentIndex);
  }

  /**
   * Throws unless `epoch` is the highest granted one: STALE_EPOCH below it,
   * LEASE_NOT_HELD for an epoch never granted.
   */
  checkEpoch(epoch: number): void {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new InvalidArgumentError(`epoch ${epoch} is not an epoch`);
    if (this.followed !== undefined) {
      this.followed.tokens.check(epoch);
      return;
    }
    const highest = this.arbiter.highestEpoch;
    if (epoch < highest) throw new StaleEpochError(epoch, highest);
    if (epoch === 0 || epoch > highest) {
      throw new LeaseNotHeldError(`epoch ${epoch} was never granted (highest ${highest}): acquire the lease first`);
    }
  }

  /**
   * The committed table: the device's store, or the followed coordination's.
   * With the latter, mirrors the table no longer has are ended first, as a
   * commit ends them on the device's own store (device-mirrors.ts
   * afterCommit): a commit on etcd never reaches the device.
   */
  private async committedTable(): Promise<StoreState__Output> {
    if (this.followed === undefined) return this.store.view().state;
    const { state } = await this.followed.coordination.readStore();
    this.tableLus.followed = state.lus;
    await this.mirrors.afterCommit(state);
    return state;
  }

  /** Registers (or replaces) the key `apparatusId` presents on I/O; a fenced apparatus rejoins this way. */
  registerKey(apparatusId: string, key: string, epoch: number): void {
    this.checkEpoch(epoch);
    this.registrations.register(apparatusId, key);
  }

  /** Removes the apparatus's key: I/O presenting it is refused until it registers again (claim 3). */
  fence(apparatusId: string, epoch: number): void {
    this.checkEpoch(epoch);
    this.registrations.fence(apparatusId);
  }

  /**
   * The newest epoch granted and its holder (GetLeaseHolder): the arbiter's,
   * or the followed coordination's current holder. Undefined when none is
   * known; rejects when the followed coordination cannot say.
   */
  async leaseHolder(): Promise<EpochGrant | undefined> {
    if (this.followed === undefined) return this.arbiter.newestGrant;
    const holder = await this.followed.coordination.leaseHolder();
    // A token etcd named as granted is a floor: every one below it is a deposed holder's.
    if (holder !== undefined) this.followed.tokens.raise(holder.epoch, holder.holderId);
    return holder;
  }

  /** What the device holds of `apparatusId`'s registration under `key`. */
  registrationStatus(apparatusId: string, key: string): RegistrationStatus {
    return this.registrations.status(apparatusId, key);
  }

  /**
   * Whether `apparatusId` may renew its registration under `key` (see
   * RenewRegistration): the device's answer, or with a followed
   * coordination its answer, recorded here so that I/O is refused as it says
   * unless the device follows its registrations (followed-registrations.ts
   * says why it then must not record).
   */
  async renewRegistration(apparatusId: string, key: string): Promise<RegistrationStatus> {
    if (this.followed === undefined) return this.registrationStatus(apparatusId, key);
    const status = await this.followed.coordination.registrationStatus(apparatusId, key);
    if (this.stopFollowingRegistrations === undefined) this.registrations.record(apparatusId, key, status);
    return status;
  }

  /**
   * Makes the registrations as they are now durable: the Device service
   * answers RegisterKey and Fence only after this, so a fence a controller
   * was told of survives a restart of the device.
   */
  saveRegistrations(): Promise<void> {
    const filePath = path.join(this.dir, registrationsFileName);
    const save = (): Promise<void> => saveRegistrations(this.files, filePath, this.registrations.saved);
    this.registrationsSaved = this.registrationsSaved.then(save, save);
    return this.registrationsSaved;
  }

  /** Why I/O from `apparatusId` presenting `key` is refused, or undefined when it may go on (device-registrations.ts). */
  ioRefusal(apparatusId: string, key: string): string | undefined {
    return this.registrations.ioRefusal(apparatusId, key);
  }

  isAllowed(key: string): boolean {
    return this.registrations.isAllowed(key);
  }

  /**
   * Zeroes areas about to be given to a volume (where they hold data) and
   * makes that durable, so a new volume never shows an old volume's bytes.
   * Returns the bytes overwritten.
   */
  async scrubAreas(epoch: number, luId: string, areaIndexes: readonly number[]): Promise<number> {
    this.checkEpoch(epoch);
    await this.followed?.tokens.durable();
    // On etcd the commit that freed these areas never reached here: a mirror it ended would copy the zeroes into the moved extent's home.
    if (this.followed !== undefined) await this.committedTable();
    const lu = this.lu(luId);
    const offsets = areaIndexes.map((areaIndex) => lu.areaOffsetBytes(areaIndex));
    if (await lu.holdsNoData()) return 0;
    let zeroedBytes = 0;
    for (const offsetBytes of offsets) zeroedBytes += await lu.scrub(offsetBytes, this.extentSizeBytes);
    if (zeroedBytes > 0) await lu.flush();
    return zeroedBytes;
  }

  /** Records (or updates) where an apparatus is reached, for the controller to find it. */
  async enroll(record: { readonly id: string; readonly nbd: string; readonly grpc: string }): Promise<void> {
    if (!deviceIdPattern.test(record.id) || record.nbd === "" || record.grpc === "") {
      throw new InvalidArgumentError(`an apparatus enrolls with an id matching ${String(deviceIdPattern)}, an NBD and a gRPC address`);
    }
    await this.store.update((state) => {
      const others = state.apparatuses.filter((existing) => existing.id !== record.id);
      if (others.length >= registrationsMax) throw new LimitExceededError(`${registrationsMax} apparatuses are enrolled already (limit)`);
      return { ...state, apparatuses: [...others, { id: record.id, nbd: record.nbd, grpc: record.grpc }] };
    });
  }

  /**
   * Records in the store where other processes reach each LU over NBD
   * (nbd://address/luId), once the NBD server is listening.
   */
  async publishNbdAddress(nbdAddress: string): Promise<void> {
    await this.updateStoreLus((entry) => {
      const uri = `nbd://${nbdAddress}/${entry.id}`;
      if (entry.nbd_uri === uri) return false;
      entry.nbd_uri = uri;
      return true;
    });
  }

  /** Closes every LU (after making it durable) and the store. */
  async close(): Promise<void> {
    this.stopFollowingRegistrations?.();
    await this.mirrors.close();
    await this.externals.close();
    const results = await Promise.allSettled([...this.lus.map((lu) => lu.close()), this.store.close()]);
    const failure = results.find((result) => result.status === "rejected");
    if (failure !== undefined) throw failure.reason;
  }

  /** Adds this device's LUs to the store's LU list when missing; true when it wrote. */
  private async listLusInStore(): Promise<boolean> {
    const { state } = this.store.read();
    for (const entry of state.lus) {
      if (entry.device_id !== this.id) continue;
      const lu = this.lusById.get(entry.id);
      if (lu !== undefined && (entry.size_bytes !== lu.sizeBytes || entry.extent_size_bytes !== lu.extentSizeBytes)) {
        throw new DeviceCorruptError(
          `the store lists ${this.id}/${lu.id} with ${entry.size_bytes} bytes in ${entry.extent_size_bytes}-byte areas, ` +
          `but the LU has ${lu.sizeBytes} in ${lu.extentSizeBytes}-byte areas`,
        );
      }
    }
    return this.updateStoreLus(() => false);
  }

  /**
   * Read-modify-write of this device's entries in the store's LU list:
   * missing LUs are appended with the next free index; `change` edits an
   * entry in place and says whether it did. Done in the store's turn
   * (ConfigurationStore.update), so a write in between is never undone.
   */
  private async updateStoreLus(change: (entry: LogicalUnit__Output) => boolean): Promise<boolean> {
    let changed = false;
    await this.store.update((state) => {
      for (const lu of this.lus) {
        let entry = state.lus.find((candidate) => candidate.device_id === this.id && candidate.id === lu.id);
        if (entry === undefined) {
          const index = state.lus.reduce((highest, candidate) => Math.max(highest, candidate.index + 1), 0);
          entry = { index, id: lu.id, device_id: this.id, size_bytes: lu.sizeBytes, extent_size_bytes: lu.extentSizeBytes, nbd_uri: "", external: false };
          state.lus.push(entry);
          changed = true;
        }
        changed = change(entry) || changed;
      }
      return changed ? state : undefined;
    });
    return changed;
  }
}

function countBits(words: Uint32Array): number {
  let count = 0;
  for (const word of words) {
    let rest = word;
    while (rest !== 0) {
      rest &= rest - 1;
      count += 1;
    }
  }
  return count;
}
