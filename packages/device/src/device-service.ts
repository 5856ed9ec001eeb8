/**
 * The gRPC Device service over a StorageDevice: inventory, the arbiter's
 * lease, the configuration store, fencing by registration keys, the
 * mirrors (the copy engine) and the probe of external NBD exports. Every handler validates, delegates to the device, and maps the
 * device's typed errors to gRPC status codes in one switch (grpcStatusOf).
 */
import * as grpc from "@grpc/grpc-js";
import { errorCodeMetadataKey, unaryHandler, type DeviceHandlers, type Lease, type Mirror, type RpcFailure } from "@switchyard/proto";
import type { LeaseState } from "./arbiter.js";
import { DeviceError, InvalidArgumentError } from "./errors.js";
import type { StorageDevice } from "./storage-device.js";
import type { MirrorStatus } from "./device-mirrors.js";
import { probeNbdExport } from "./nbd-probe.js";

/** The full name of the service, for health checks. */
export const deviceServiceName = "switchyard.v1.Device";

export interface DeviceServiceOptions {
  /** host:port of the device's NBD server (reported in the inventory). */
  readonly nbdAddress: string;
  /** host:port of this gRPC server (reported in the inventory). */
  readonly grpcAddress: string;
  /** The arbiter's clock in milliseconds; a monotonic one is best (leases are measured on it). */
  readonly now: () => number;
  /**
   * Called with an error that is not a DeviceError: a broken invariant. The
   * call is answered INTERNAL first. Default: rethrown outside the promise
   * chain, which crashes the process (assertions stay on).
   */
  readonly onBrokenInvariant?: (error: unknown) => void;
}

/** The gRPC status for each device error code: the one place they are mapped. */
export function grpcStatusOf(error: DeviceError): grpc.status {
  switch (error.code) {
    case "INVALID_ARGUMENT":
      return grpc.status.INVALID_ARGUMENT;
    case "OUT_OF_RANGE":
      return grpc.status.OUT_OF_RANGE;
    case "NOT_FOUND":
      return grpc.status.NOT_FOUND;
    case "STALE_EPOCH":
    case "LEASE_NOT_HELD":
    case "DEVICE_FOLDER_CONFLICT":
    case "STALE_GENERATION":
    case "MIRROR_NOT_IN_SYNC":
    case "EXTERNAL_UNREACHABLE": // start the server, or fix its export, first
      return grpc.status.FAILED_PRECONDITION;
    case "STALE_SEQUENCE":
      return grpc.status.ABORTED;
    case "LIMIT_EXCEEDED":
    case "NO_SPACE":
      return grpc.status.RESOURCE_EXHAUSTED;
    case "STORE_CORRUPT":
    case "DEVICE_CORRUPT":
      return grpc.status.DATA_LOSS;
    case "IO_FAILED":
    case "CLOSED":
      return grpc.status.UNAVAILABLE;
    default: {
      const unhandled: never = error.code;
      throw new Error(`no gRPC status for device error code ${String(unhandled)}`);
    }
  }
}

export function deviceServiceHandlers(device: StorageDevice, options: DeviceServiceOptions): DeviceHandlers {
  const unary = unaryWith(options.onBrokenInvariant ?? crash);
  return {
    GetInventory: unary(() => ({
      device_id: device.id,
      grpc_address: options.grpcAddress,
      nbd_address: options.nbdAddress,
      lus: device.inventory().map((lu) => ({
        id: lu.id,
        size_bytes: lu.sizeBytes,
        extent_size_bytes: lu.extentSizeBytes,
        areas_total: lu.areasTotal,
        areas_free: lu.areasFree,
        export_name: lu.id,
        io_errors_total: lu.ioErrors.total,
        last_io_error: lu.ioErrors.lastError,
        last_io_error_at_ms: lu.ioErrors.lastErrorAtMs,
      })),
    })),
    AcquireLease: unary(async (request) =>
      toLease(await device.arbiter.acquire(request.candidate_id, request.candidate_address, request.lease_ms, options.now()))),
    RenewLease: unary((request) =>
      toLease(device.arbiter.renew(request.holder_id, request.epoch, request.lease_ms, options.now()))),
    GetLeaseHolder: unary(async () => {
      const holder = await device.leaseHolder();
      return holder === undefined ? { holder_id: "", epoch: 0 } : { holder_id: holder.holderId, epoch: holder.epoch };
    }),
    ReadStore: unary((request) => {
      const snapshot = device.viewStore();
      if (!request.omit_extents && !request.omit_journal) return snapshot;
      const { volumes, journal } = snapshot.state;
      return {
        ...snapshot,
        state: {
          ...snapshot.state,
          volumes: request.omit_extents ? volumes.map((volume) => ({ ...volume, extents: null })) : volumes,
          journal: request.omit_journal ? [] : journal,
        },
      };
    }),
    WriteStore: unary(async (request) => {
      if (request.state === null) throw new InvalidArgumentError("WriteStore needs a state");
      return { sequence: await device.writeStore(request.state, request.expected_sequence, request.epoch) };
    }),
    CommitDelta: unary(async (request) => {
      if (request.delta === null) throw new InvalidArgumentError("CommitDelta needs a delta");
      return { sequence: await device.commitDelta(request.delta, request.epoch) };
    }),
    RegisterKey: unary(async (request) => {
      device.registerKey(request.apparatus_id, request.registration_key, request.epoch);
      await device.saveRegistrations();
      return {};
    }),
    Fence: unary(async (request) => {
      device.fence(request.apparatus_id, request.epoch);
      await device.saveRegistrations();
      return {};
    }),
    ProbeNbdExport: unary(async (request) => {
      const probe = await probeNbdExport(request.nbd_uri);
      return { size_bytes: probe.sizeBytes, read_only: probe.readOnly, export_name: probe.exportName };
    }),
    RenewRegistration: unary(async (request) => {
      const status = await device.renewRegistration(request.apparatus_id, request.registration_key);
      return { status: status === "granted" ? "REGISTRATION_STATUS_GRANTED" : status === "fenced" ? "REGISTRATION_STATUS_FENCED" : "REGISTRATION_STATUS_UNKNOWN" };
    }),
    Enroll: unary(async (request) => {
      if (request.apparatus === null) throw new InvalidArgumentError("Enroll needs an apparatus");
      await device.enroll(request.apparatus);
      return {};
    }),
    ScrubAreas: unary(async (request) => ({
      zeroed_bytes: await device.scrubAreas(request.epoch, request.lu_id, request.area_indexes),
    })),
    StartMirror: unary(async (request) => {
      const mirror = request.mirror;
      if (mirror === null) throw new InvalidArgumentError("StartMirror needs a mirror");
      return mirrorMessage(await device.startMirror(request.epoch, {
        volume: mirror.volume, extentIndex: mirror.extent_index,
        sourceLuId: mirror.source_lu_id, sourceAreaIndex: mirror.source_area_index,
        destinationLuId: mirror.destination_lu_id, destinationAreaIndex: mirror.destination_area_index,
        watermarkBytes: mirror.watermark_bytes, group: mirror.group, rateBytesPerSecond: mirror.rate_bytes_per_second,
      }));
    }),
    StopMirror: unary(async (request) => ({ stopped: await device.stopMirror(request.epoch, request.volume, request.extent_index) })),
    ListMirrors: unary(async (request) => {
      await device.mirrors.waitForProgress(request.after_progress, request.wait_ms);
      return { mirrors: device.mirrors.list().map(mirrorMessage), progress: device.mirrors.progress };
    }),
  };
}

function toLease(lease: LeaseState): Lease {
  return {
    holder_id: lease.holderId,
    holder_address: lease.holderAddress,
    epoch: lease.epoch,
    expires_at_ms: lease.expiresAtMs,
    lease_ms: lease.leaseMs,
    granted: lease.granted,
  };
}

/**
 * A unary handler from a function of the request (unaryHandler: integers
 * past 2^53 - 1 are refused first); thrown DeviceErrors become statuses,
 * anything else is answered INTERNAL and handed to `onBrokenInvariant`.
 */
function unaryWith(onBrokenInvariant: (error: unknown) => void) {
  const mapError = (error: unknown): RpcFailure => {
    if (error instanceof DeviceError) return { code: grpcStatusOf(error), details: error.message, metadata: errorMetadata(error) };
    onBrokenInvariant(error);
    return { code: grpc.status.INTERNAL, details: `broken invariant: ${String(error)}` };
  };
  return <Request, Response>(work: (request: Request) => Response | Promise<Response>): grpc.handleUnaryCall<Request, Response> => unaryHandler(work, mapError);
}

/** The error's stable code, so a client can tell apart the codes one status covers (proto's errorCodeMetadataKey). */
function errorMetadata(error: DeviceError): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(errorCodeMetadataKey, error.code);
  return metadata;
}

/** Assertions stay on: a broken invariant ends the process, outside any promise that could swallow it. */
function crash(error: unknown): void {
  setImmediate(() => {
    throw error;
  });
}

function mirrorMessage(status: MirrorStatus): Mirror {
  return {
    volume: status.volume, extent_index: status.extentIndex,
    source_lu_id: status.sourceLuId, source_area_index: status.sourceAreaIndex,
    destination_lu_id: status.destinationLuId, destination_area_index: status.destinationAreaIndex,
    watermark_bytes: status.watermarkBytes, group: status.group, rate_bytes_per_second: status.rateBytesPerSecond,
    synced: status.synced, failure: status.failure, hole_bytes_skipped: status.holeBytesSkipped, chunks_copied_again: status.chunksCopiedAgain,
  };
}
