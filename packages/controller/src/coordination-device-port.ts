/**
 * A DevicePort whose coordination calls (the lease, the store, registration
 * keys and fences) go to a Coordination (issue 18; etcd in production) and
 * whose storage calls (scrubbing, mirrors, probes) go to a storage device.
 * The lease driver, the table keeper and the change executor run over it
 * unchanged: the embedded path keeps `grpcDevicePort` alone, where the
 * device is both.
 *
 * - Epochs are tokens: a term's token (etcd: the holder key's create
 *   revision) is the epoch the controller sends apparatuses and devices, who
 *   keep refusing lower ones as before.
 * - Errors come back as the device's did: a gRPC ServiceError whose status
 *   is the one coordination.ts names for its code, with the code in the
 *   trailers (proto's errorCodeMetadataKey), so callers that tell silence
 *   from refusal (call-errors.ts) need no second path.
 * - Registrations and fences go to both: the coordination holds them, and
 *   the storage device keeps the copy its I/O check reads (claim 3, as a
 *   SCSI initiator registers with every target).
 * - The mirror check. The device refuses, in its store's turn, a commit that
 *   switches an extent onto a mirror destination not in sync
 *   (device-mirrors.ts checkCommit). With the store elsewhere the controller
 *   asks the storage device before the Txn instead. That is as strong: a
 *   switch's commit comes after every apparatus drained the held writes on
 *   the extent (DESIGN step 3), and the copy engine writes only until the
 *   mirror is synced, so nothing can write to the destination, and no
 *   mirrored write can fail there, between the answer and the commit.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import {
  errorCodeMetadataKey,
  type ExtentRow,
  type LogicalUnit__Output,
  type Lease__Output,
  type Mirror__Output,
  type StoreDelta,
  type StoreSnapshot__Output,
  type StoreState__Output,
} from "@switchyard/proto";
import { CoordinationError, etcdCoordination, etcdDirectory, etcdLeaseMinMs, renewIntervalMs, type Coordination, type CoordinationErrorCode, type EtcdDirectory, type Term } from "@switchyard/coordination";
import type { DevicePort, StoragePort } from "./device-port.js";
import { routedStorage } from "./routed-storage.js";

/**
 * The controller's term on etcd (ClusterControllerOptions.etcd, unless
 * leaseMs is given): a SIGKILLed controller's successor acts within about
 * one term of its last renewal (issue 18: p50 under 3 s from the kill to the
 * next commit), since followers hear of the lapse through etcd's watch
 * rather than at a campaign step. Renewed every second (a third); a term
 * must also outlast an etcd leader failover (three election timeouts and a
 * renewal interval, so etcd's election timeout must be at most 500 ms, as in
 * scripts/etcd-cluster.sh; see docs/design-notes.md).
 */
export const etcdControllerLeaseMs = 3_000;
/** The election timeout of the etcd clusters this term is made for (scripts/etcd-cluster.sh). */
const etcdElectionTimeoutMsMax = 500;
const etcdFailoverElectionTimeouts = 3;
assert.ok((etcdControllerLeaseMs as number) >= (etcdLeaseMinMs as number), "etcd grants no shorter term");
assert.ok(etcdControllerLeaseMs >= etcdFailoverElectionTimeouts * etcdElectionTimeoutMsMax + renewIntervalMs(etcdControllerLeaseMs),
  "a controller term on etcd must outlast an etcd leader failover and a missed renewal");

export interface CoordinationDevicePortOptions {
  readonly coordination: Coordination;
  /**
   * The storage devices' calls (scrub, mirrors, probe, inventory, the
   * devices' copies of registrations): one device's, or routed to several
   * (routed-storage.ts), which is told the LUs of each table read.
   */
  readonly storage: StoragePort & { observeLus?(lus: readonly LogicalUnit__Output[]): void };
  /** Where devices publish themselves (etcd-directory.ts): the controller adds their LUs to the table. */
  readonly directory?: Pick<EtcdDirectory, "devices" | "close">;
}

/** Where a controller finds its coordination on etcd (ClusterControllerOptions.etcd): plain data, so it crosses to a worker thread. */
export interface EtcdSettings {
  /** Client URLs, http://host:port. */
  readonly endpoints: readonly string[];
  /** Every key of this cluster lives under it; ends with "/". */
  readonly keyPrefix: string;
}

/**
 * The devices' storage calls beside a coordination on etcd, each routed to
 * the device holding its LU (routed-storage.ts), `first` (at
 * `firstAddress`) until the directory says otherwise; `portAt` opens a port
 * to another device; `now` is the controller's clock, on which terms end.
 */
export function etcdDevicePort(settings: EtcdSettings, first: { address: string; port: StoragePort }, portAt: (address: string) => StoragePort, now: () => number): DevicePort {
  const coordination = etcdCoordination({ endpoints: settings.endpoints, keyPrefix: settings.keyPrefix, now });
  const directory = etcdDirectory(settings);
  const storage = routedStorage({
    first, portAt, now,
    devices: () => directory.devices(),
    lus: async () => (await coordination.readStore()).state.lus,
  });
  return coordinationDevicePort({ coordination, storage, directory });
}

export function coordinationDevicePort(options: CoordinationDevicePortOptions): DevicePort {
  const { coordination, storage, directory } = options;
  /** The term last granted to this controller: what a renewal extends. */
  let held: Term | undefined;
  const granted = (term: Term): Lease__Output => {
    held = term.granted ? term : undefined;
    return leaseOf(term);
  };
  return {
    acquireLease: (request) => mapped(async () =>
      granted(await coordination.campaign({ id: request.candidate_id ?? "", address: request.candidate_address ?? "" }, request.lease_ms ?? 0))),
    renewLease: (request) => mapped(async () => {
      if (held === undefined || held.token !== uint64Of(request.epoch) || held.holderId !== request.holder_id) {
        throw new CoordinationError("LEASE_LOST", `no term with token ${String(request.epoch)} is held here: campaign again`);
      }
      return granted(await coordination.renew(held));
    }),
    readStore: (request) => mapped(async (): Promise<StoreSnapshot__Output> => {
      const read = await coordination.readStore();
      storage.observeLus?.(read.state.lus);
      return { state: omitted(read.state, request.omit_extents === true, request.omit_journal === true), sequence: read.revision };
    }),
    writeStore: (request) => mapped(async () => {
      assert.ok(request.state !== undefined && request.state !== null, "a whole write carries a state");
      return { sequence: await coordination.writeStore(uint64Of(request.epoch), uint64Of(request.expected_sequence), request.state) };
    }),
    commitDelta: (request) => mapped(async () => {
      assert.ok(request.delta !== undefined && request.delta !== null, "a commit carries a delta");
      await checkSwitchesInSync(coordination, storage, request.delta);
      return { sequence: await coordination.commitDelta(uint64Of(request.epoch), request.delta) };
    }),
    // Registrations and fences: the coordination's record first (the truth,
    // which the device asks on each renewal), then the storage device's own
    // copy, so its I/O check knows a new key at once instead of from the
    // apparatus's next renewal, and refuses a fenced one at once.
    registerKey: async (request) => {
      await mapped(() => coordination.registerKey(uint64Of(request.epoch), request.apparatus_id ?? "", request.registration_key ?? ""));
      return storage.registerKey(request);
    },
    fence: async (request) => {
      await mapped(() => coordination.fence(uint64Of(request.epoch), request.apparatus_id ?? ""));
      return storage.fence(request);
    },
    getInventory: (request) => storage.getInventory(request),
    scrubAreas: (request) => storage.scrubAreas(request),
    probeNbdExport: (request) => storage.probeNbdExport(request),
    startMirror: (request) => storage.startMirror(request),
    listMirrors: (request) => storage.listMirrors(request),
    ...vacancyNotices(coordination),
    ...termEnding(coordination),
    ...(directory === undefined ? {} : { publishedDevices: () => mapped(() => directory.devices()) }),
    coordinationStatus: () => mapped(async () => {
      const { backend, members } = await coordination.status();
      return { backend, members: members.map((member) => ({ ...member })) };
    }),
    close: () => {
      storage.close();
      coordination.close().catch(() => undefined); // best effort: a held term lapses at the coordinator anyway
      directory?.close().catch(() => undefined); // a listing's client holds nothing but connections
    },
  };
}

/** Ending a dead holder's term at the coordinator, where it can (etcd: revoking the holder's lease). */
function termEnding(coordination: Coordination): Pick<DevicePort, "endDeadHoldersTerm"> {
  const endTerm = coordination.endTerm?.bind(coordination);
  if (endTerm === undefined) return {};
  return { endDeadHoldersTerm: (epoch) => mapped(() => endTerm(epoch)) };
}

/** The coordinator's notices that the holder lost its term, where it gives them (etcd's watch). */
function vacancyNotices(coordination: Coordination): Pick<DevicePort, "onLeaseVacant"> {
  if (coordination.onVacancy === undefined) return {};
  return { onLeaseVacant: (listener) => coordination.onVacancy?.(listener) ?? (() => undefined) };
}

/**
 * A uint64 field of a request as the number it is: the controller builds
 * requests with numbers (the loader's --longs=Number), so anything else is
 * a broken invariant.
 */
function uint64Of(value: unknown): number {
  const number = value ?? 0;
  assert.ok(typeof number === "number" && Number.isSafeInteger(number) && number >= 0, `a uint64 field of ${String(value)}`);
  return number;
}

function leaseOf(term: Term): Lease__Output {
  return {
    holder_id: term.holderId,
    holder_address: term.holderAddress,
    epoch: term.token,
    // On the controller's own clock: the coordinator's expiry is not known here, only when this holder must stop.
    expires_at_ms: Math.max(0, Math.floor(term.validUntilMs)),
    lease_ms: term.leaseMs,
    granted: term.granted,
  };
}

/** The state as the device answers a ReadStore that leaves parts out. */
function omitted(state: StoreState__Output, omitExtents: boolean, omitJournal: boolean): StoreState__Output {
  if (!omitExtents && !omitJournal) return state;
  return {
    ...state,
    volumes: omitExtents ? state.volumes.map((volume) => ({ ...volume, extents: null })) : state.volumes,
    journal: omitJournal ? [] : state.journal,
  };
}

/**
 * Refuses (MIRROR_NOT_IN_SYNC) a delta with a row that puts an extent on
 * the destination of its mirror while the storage device does not report
 * that mirror synced and unfailed (see the header). A delta without such a
 * row asks nothing.
 */
async function checkSwitchesInSync(coordination: Coordination, storage: StoragePort, delta: StoreDelta): Promise<void> {
  const rows = delta.diff?.rows ?? [];
  if (rows.length === 0) return;
  const { state } = await coordination.readStore();
  const switching = rows.filter((row) => switchesToMirrorDestination(state, row));
  if (switching.length === 0) return;
  const { mirrors } = await storage.listMirrors({});
  for (const row of switching) {
    const mirror = mirrors.find((candidate) => candidate.volume === row.volume && candidate.extent_index === row.extent_index);
    if (mirror?.synced === true && mirror.failure === "") continue;
    throw new CoordinationError("MIRROR_NOT_IN_SYNC",
      `extent ${String(row.extent_index)} of ${String(row.volume)} cannot switch to its mirror's destination: ${notInSyncReason(mirror)}`);
  }
}

function notInSyncReason(mirror: Mirror__Output | undefined): string {
  if (mirror === undefined) return "the device has no such mirror";
  if (mirror.failure !== "") return mirror.failure;
  return `${String(mirror.watermark_bytes)} bytes copied and durable, not all`;
}

/** Whether `row` maps an extent, now in mirror state, to that mirror's destination alone. */
function switchesToMirrorDestination(state: StoreState__Output, row: ExtentRow): boolean {
  if ((row.mirror_lu_index_plus_one ?? 0) !== 0) return false;
  const columns = state.volumes.find((volume) => volume.name === row.volume)?.extents;
  const extent = row.extent_index ?? 0;
  const mirrorLuPlusOne = columns?.mirror_lu_index_plus_one[extent] ?? 0;
  if (columns === null || columns === undefined || mirrorLuPlusOne === 0) return false;
  return mirrorLuPlusOne - 1 === (row.lu_index ?? 0) && columns.mirror_area_index[extent] === (row.area_index ?? 0);
}

/** Runs a coordination call, answering its refusals as the Device service would (see the header). */
async function mapped<Response>(call: () => Promise<Response>): Promise<Response> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CoordinationError) throw new CoordinationCallError(error);
    throw error;
  }
}

/** The gRPC status for each coordination code, as coordination.ts names them: the one place they are mapped. */
export function grpcStatusOfCoordination(code: CoordinationErrorCode): grpc.status {
  switch (code) {
    case "NOT_HOLDER":
    case "LEASE_LOST":
    case "STALE_GENERATION":
    case "MIRROR_NOT_IN_SYNC":
      return grpc.status.FAILED_PRECONDITION;
    case "STALE_REVISION":
      return grpc.status.ABORTED;
    case "UNAVAILABLE":
      return grpc.status.UNAVAILABLE;
    case "INVALID_ARGUMENT":
      return grpc.status.INVALID_ARGUMENT;
    case "LIMIT_EXCEEDED":
      return grpc.status.RESOURCE_EXHAUSTED;
    default: {
      const unhandled: never = code;
      throw new Error(`no gRPC status for coordination code ${String(unhandled)}`);
    }
  }
}

/** A coordination refusal as the ServiceError a device call would have rejected with. */
class CoordinationCallError extends Error implements grpc.ServiceError {
  readonly code: grpc.status;
  readonly details: string;
  readonly metadata = new grpc.Metadata();
  constructor(cause: CoordinationError) {
    const code = grpcStatusOfCoordination(cause.code);
    super(`${String(code)} ${cause.code}: ${cause.message}`, { cause });
    this.name = "CoordinationCallError";
    this.code = code;
    this.details = cause.message;
    this.metadata.set(errorCodeMetadataKey, cause.code);
  }
}
