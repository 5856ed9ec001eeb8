/**
 * @switchyard/apparatus: a virtualization apparatus. It serves host I/O over
 * NBD to virtual volumes through a two-faced configuration table, and takes
 * changes to that table from the controller over gRPC.
 */
export { VirtualizationApparatus, drainTimeoutMs, holdDeadlineMsDefault } from "./apparatus.js";
export { systemApparatusClock, type ApparatusClock, type CancelTimer } from "./apparatus-clock.js";
export type { ApparatusOptions } from "./apparatus.js";
export { apparatusBehaviourDefault } from "./apparatus-behaviour.js";
export type { ApparatusBehaviour } from "./apparatus-behaviour.js";
export { apparatusHandlers } from "./apparatus-service.js";
export { apparatusAuthorizationTable, authorizedApparatusHandlers } from "./apparatus-authorization.js";
export { LocalBackendSet, type IoRefusal } from "./backend.js";
export { NbdBackendSet, deviceNbdTimeoutMs, parseNbdUri } from "./nbd-backend.js";
export type { BackendSet } from "./backend.js";
export { ConfigurationFaces, TableFace } from "./configuration-faces.js";
export { ApparatusError } from "./errors.js";
export type { ApparatusErrorCode } from "./errors.js";
export { ExtentMap } from "./extent-map.js";
export { IoPath } from "./io-path.js";
export { HoldStats, Histogram, IoStats, OperationStats, VolumeIoStats, holdDurationBucketsSeconds, ioLatencyBucketsSeconds, ioOperations, volumesCountedMax } from "./io-stats.js";
export type { IoOperation } from "./io-stats.js";
export { Admission, HoldGate, holdsMax, rangesPerHoldMax } from "./hold-gate.js";
export type { HeldRange, HoldScope, HoldSummary } from "./hold-gate.js";
export { applyDifference, checkDifference } from "./difference.js";
export {
  ContactLease,
  deviceContactRenewal,
  leaseMaxMs,
  leaseMinMs,
  type ContactLeaseOptions,
  type ContactRenewalPort,
} from "./contact-lease.js";
export type { ContactOutcome } from "./contact-lease.js";
export { leaseHolderLookupTimeoutMs, type LeaseHolderSource } from "./lease-holder-lookup.js";
export { serveApparatus, serveControlHere } from "./serve.js";
export type { ServeApparatusOptions, ServedApparatus } from "./serve.js";
export { VolumeExport } from "./volume-export.js";
