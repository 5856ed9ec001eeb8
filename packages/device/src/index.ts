/**
 * @switchyard/device: a storage device — logical units cut into storage
 * areas, the configuration store, the arbiter (claim 12), fencing keys, and
 * the gRPC Device service and NBD exports that serve them. The NBD protocol
 * is the package @switchyard/nbd.
 */
export { LogicalUnit, type LogicalUnitOptions, ioChunkSizeBytes, requestsPooledMax } from "./logical-unit.js";
export { extentSizeDefaultBytes, extentSizeMaxBytes, extentSizeMinBytes, luSizeMaxBytes, validateExtentSize, validateLuSize } from "./lu-geometry.js";
export { nodeFiles, type DeviceFiles, type DoneCallback, type FileStatus, type OpenFlags, type TransferCallback } from "./device-files.js";
export { SyncIoValve, hostSyncWriteMaxBytes, syncIoBackoffMs, syncIoMaxBytes, syncIoSlowCountMax, syncIoSlowMs, syncIoSlowWindowMs } from "./sync-io-valve.js";
export {
  ConfigurationStore,
  type ConfigurationStoreOptions,
  type StoreSnapshot,
  slotAlignmentBytes,
  slotHeaderSizeBytes,
  slotSizeDefaultBytes,
  slotSizeMaxBytes,
  slotSizeMinBytes,
  storeWritesQueuedMax,
  readStoreFile,
} from "./configuration-store.js";
export { readStoppedDevice, type DeviceReading } from "./device-reading.js";
export {
  Arbiter,
  type ArbiterOptions,
  type LeaseState,
  holderAddressLengthMax,
  holderIdLengthMax,
  leaseMaxMs,
  leaseMinMs,
  readArbiterFile,
  readHighestEpoch,
  type EpochGrant,
} from "./arbiter.js";
export {
  StorageDevice,
  type DeviceCreateOptions,
  type DeviceOpenOptions,
  type LogicalUnitInventory,
  arbiterFileName,
  deviceFileName,
  deviceIdPattern,
  luCountMax,
  registrationKeyLengthMax,
  registrationsMax,
  storeFileName,
} from "./storage-device.js";
export { mirrorChunkBytes, mirrorCopiesMax } from "./device-mirrors.js";
export { type FollowedCoordination } from "./followed-coordination.js";
export { type RegistrationStatus } from "./device-registrations.js";
export { applyStoreDelta, checkStoreDelta } from "./store-delta.js";
export { deviceServiceHandlers, deviceServiceName, grpcStatusOf, type DeviceServiceOptions } from "./device-service.js";
export { authorizedDeviceHandlers, deviceAuthorizationTable } from "./device-authorization.js";
export { logicalUnitBlockIo, logicalUnitExports, toNbdError } from "./lu-exports.js";
export { LuIoErrors, luIoErrorMessageLengthMax, luIoOperations, type LuIoOperation } from "./lu-io-errors.js";
export {
  ClosedError,
  DeviceCorruptError,
  DeviceError,
  DeviceFolderConflictError,
  InvalidArgumentError,
  LeaseNotHeldError,
  LimitExceededError,
  NotFoundError,
  OutOfRangeError,
  StaleEpochError,
  StaleSequenceError,
  StoreCorruptError,
  type DeviceErrorCode,
} from "./errors.js";
