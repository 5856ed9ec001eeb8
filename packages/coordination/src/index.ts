/**
 * @switchyard/coordination: the one coordination interface (election with a
 * fencing token, the configuration store, registrations) and its two
 * implementations, embedded (over a storage device) and etcd v3.
 */
export {
  CoordinationError,
  isCoordinationError,
  renewIntervalMs,
  validUntilMs,
  type Candidate,
  type Coordination,
  type CoordinationBackend,
  type CoordinationErrorCode,
  type CoordinationMember,
  type CoordinationStatus,
  type RegistrationListener,
  type RegistrationState,
  type RegistrationStatus,
  type RegistrationUpdate,
  type TermHolder,
  type StoreRead,
  type Term,
} from "./coordination.js";
export { embeddedCoordination, type DeviceCoordinationPort, type EmbeddedCoordinationOptions } from "./embedded-coordination.js";
export {
  candidateFieldLengthMax,
  etcdCoordination,
  etcdLeaseMaxMs,
  etcdLeaseMinMs,
  storeBytesMax,
  type EtcdCoordinationOptions,
} from "./etcd-coordination.js";
export { etcdCallTimeoutMs, etcdDialTimeoutMs } from "./etcd-errors.js";
export { followedAnswerTimeoutMs, followedCloseTimeoutMs, followedEtcdOnThread, type FollowedClient, type FollowedThreadOptions } from "./followed-thread.js";
export { etcdMembersMax } from "./etcd-status.js";
export { apparatusIdLengthMax, keyPrefixLengthMax } from "./etcd-keys.js";
export { importRevisionRaisesMax, importStoreToEtcd, type EtcdImportOptions, type EtcdImportResult } from "./etcd-import.js";
export {
  addressLengthMax,
  deviceRecordsOf,
  directoryRecordsMax,
  etcdDirectory,
  publishedLusMax,
  type AddressRecord,
  type DeviceRecord,
  type EtcdDirectory,
  type EtcdDirectoryOptions,
  type PublishedLu,
} from "./etcd-directory.js";
export { RegistrationMirror, registrationEventsMax, type RegistrationEvent } from "./registration-mirror.js";
