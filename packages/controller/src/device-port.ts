/**
 * Every call the controller makes to a device, as a port: the arbiter
 * (claim 12), the configuration store, registration keys and fences
 * (claim 3), area scrubbing, the copy engine's mirrors (claims 5, 14) and
 * probes of external NBD servers.
 * Production passes `grpcDevicePort`, which owns each call's deadline; the
 * simulator passes its simulated device, so the controller's cores and
 * driver run unchanged on virtual time. A call that gets no answer rejects
 * (gRPC UNAVAILABLE or DEADLINE_EXCEEDED in production); a refusal rejects
 * with the device's status.
 */
import type * as grpc from "@grpc/grpc-js";
import type { DeviceRecord } from "@switchyard/coordination";
import {
  callUnary,
  deadlineAfter,
  loadGrpc,
  type AcquireLeaseRequest,
  type CommitDeltaRequest,
  type ProbeNbdExportRequest,
  type ProbeNbdExportResponse__Output,
  type DeviceClient,
  type FenceRequest,
  type FenceResponse__Output,
  type GetInventoryRequest,
  type Inventory__Output,
  type Lease__Output,
  type CoordinationStatus,
  type ListMirrorsRequest,
  type ListMirrorsResponse__Output,
  type Mirror__Output,
  type ReadStoreRequest,
  type RegisterKeyRequest,
  type RegisterKeyResponse__Output,
  type RenewLeaseRequest,
  type ScrubAreasRequest,
  type ScrubAreasResponse__Output,
  type StartMirrorRequest,
  type StoreSnapshot__Output,
  type WriteStoreRequest,
  type WriteStoreResponse__Output,
  type RelayLink,
} from "@switchyard/proto";
import { linkedChannelOptions } from "./process-links.js";

/** How long one call to a device or an apparatus may take before it counts as unanswered. */
export const callTimeoutMs = 2_000;
/**
 * Bound on the device's probe of a server being registered: its own 5 s
 * connection bound (nbd-probe.ts in the device) and a margin, under the
 * console's 15 s call deadline.
 */
export const externalProbeCallTimeoutMs = 8_000;
/** Zeroing areas reads them all and may write them all: a gibibyte takes seconds on a slow disk. */
export const scrubTimeoutMs = 120_000;

export interface DevicePort {
  /** The device's LUs, with the failures of their files (disk-fault-watch.ts). */
  getInventory(request: GetInventoryRequest): Promise<Inventory__Output>;
  acquireLease(request: AcquireLeaseRequest): Promise<Lease__Output>;
  renewLease(request: RenewLeaseRequest): Promise<Lease__Output>;
  readStore(request: ReadStoreRequest): Promise<StoreSnapshot__Output>;
  writeStore(request: WriteStoreRequest): Promise<WriteStoreResponse__Output>;
  commitDelta(request: CommitDeltaRequest): Promise<WriteStoreResponse__Output>;
  registerKey(request: RegisterKeyRequest): Promise<RegisterKeyResponse__Output>;
  fence(request: FenceRequest): Promise<FenceResponse__Output>;
  scrubAreas(request: ScrubAreasRequest): Promise<ScrubAreasResponse__Output>;
  /** Connects to an external NBD export as an apparatus will, and says what it serves. */
  probeNbdExport(request: ProbeNbdExportRequest): Promise<ProbeNbdExportResponse__Output>;
  startMirror(request: StartMirrorRequest): Promise<Mirror__Output>;
  /** Long-polls: answers once progress passes `after_progress` or `wait_ms` has gone by. */
  listMirrors(request: ListMirrorsRequest): Promise<ListMirrorsResponse__Output>;
  /**
   * Where the election and the store live, with each member's health, for
   * `cluster status`, the console and /metrics. Absent when the device is
   * the coordination (embedded): the device that answered the table read is
   * then its one member.
   */
  coordinationStatus?(): Promise<CoordinationStatus>;
  /**
   * Calls `listener` when the controller lease's holder has lost it at the
   * coordinator (etcd: its election key deleted), so a follower campaigns at
   * once instead of at its next step; returns what stops it. Absent where
   * the coordinator does not tell (the embedded arbiter, asked each step).
   */
  onLeaseVacant?(listener: () => void): () => void;
  /**
   * Ends the lease at `epoch` at the coordinator now, if its holder still
   * holds it: for a holder whose process is gone (holder-watch.ts). Absent
   * where the coordinator cannot (the embedded arbiter).
   */
  endDeadHoldersTerm?(epoch: number): Promise<boolean>;
  /**
   * The devices published in the coordination's directory, with their LUs
   * (etcd-directory.ts), which the controller brings into the table
   * (published-devices.ts). Absent where the device is the coordination:
   * its LUs are in its store from the start.
   */
  publishedDevices?(): Promise<DeviceRecord[]>;
  close(): void;
}

/** A device's storage calls alone: what a controller on etcd asks of each device (routed-storage.ts). */
export type StoragePort = Pick<DevicePort, "getInventory" | "registerKey" | "fence" | "scrubAreas" | "probeNbdExport" | "startMirror" | "listMirrors" | "close">;

/** The Device service at `address` over gRPC (or over `link` if it serves in this process), each call with its deadline. */
export function grpcDevicePort(address: string, credentials: grpc.ChannelCredentials, link?: RelayLink): DevicePort {
  const client: DeviceClient = new (loadGrpc().switchyard.v1.Device)(address, credentials, linkedChannelOptions(link));
  const within = (timeoutMs: number): grpc.CallOptions => ({ deadline: deadlineAfter(timeoutMs) });
  return {
    getInventory: (request) => callUnary((done) => client.GetInventory(request, within(callTimeoutMs), done)),
    acquireLease: (request) => callUnary((done) => client.AcquireLease(request, within(callTimeoutMs), done)),
    renewLease: (request) => callUnary((done) => client.RenewLease(request, within(callTimeoutMs), done)),
    readStore: (request) => callUnary((done) => client.ReadStore(request, within(callTimeoutMs), done)),
    writeStore: (request) => callUnary((done) => client.WriteStore(request, within(callTimeoutMs), done)),
    commitDelta: (request) => callUnary((done) => client.CommitDelta(request, within(callTimeoutMs), done)),
    registerKey: (request) => callUnary((done) => client.RegisterKey(request, within(callTimeoutMs), done)),
    fence: (request) => callUnary((done) => client.Fence(request, within(callTimeoutMs), done)),
    scrubAreas: (request) => callUnary((done) => client.ScrubAreas(request, within(scrubTimeoutMs), done)),
    probeNbdExport: (request) => callUnary((done) => client.ProbeNbdExport(request, within(externalProbeCallTimeoutMs), done)),
    startMirror: (request) => callUnary((done) => client.StartMirror(request, within(callTimeoutMs), done)),
    listMirrors: (request) => callUnary((done) => client.ListMirrors(request, within(callTimeoutMs + (request.wait_ms ?? 0)), done)),
    close: () => {
      client.close();
    },
  };
}
