/**
 * @switchyard/nbd: the NBD protocol library (server, client, TLS, spec
 * constants), the byte-I/O interface of every backend (BlockIo), and the
 * export interface every NBD server here serves (a BlockIo). It
 * depends on no other Switchyard package; its in-memory export and raw
 * peer are on the "./testing" subpath.
 */
export * from "./constants.js";
export type { AllocationExtent, BlockIo, WriteZeroesFlags } from "./block-io.js";
export {
  AllocationList,
  allocationDataState,
  allocationGranuleBytes,
  allocationZeroState,
  appendAllocationOfBytes,
  assertAllocation,
  blockStatusDescriptorsMax,
} from "./allocation.js";
export { NbdError, type NbdErrorCode, type NbdExport, type NbdExportListing, type NbdExportProvider, type NbdPeer } from "./export.js";
export { NbdAllocationClient, type NbdAllocationClientOptions } from "./allocation-client.js";
export { parseNbdUri, type NbdUri } from "./uri.js";
export { NbdServer, nbdPortDefault, type NbdServerAddress, type NbdServerOptions } from "./server.js";
export type { NbdRequestCheck, RequestPolicy, ValidatedExport } from "./request-validation.js";
export { nbdTlsMinVersion, type NbdServerTls } from "./server-tls.js";
export { isNbdTlsMode, nbdTlsModes, type NbdTlsMode } from "./tls-policy.js";
export { nbdServerLimitsDefault, blockSizeMinimumBytes, blockSizePreferredBytes, type NbdServerLimits } from "./limits.js";
export {
  NbdClient,
  NbdClientError,
  listExports,
  nbdClientReadBufferBytesDefault,
  nbdClientTimeoutMsDefault,
  type NbdClientConnectOptions,
  type NbdClientErrorCode,
  type NbdClientTls,
  type NbdExportEntry,
  type NbdListOptions,
} from "./client.js";
