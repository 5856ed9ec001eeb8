/**
 * @switchyard/security: the cluster CA and its certificates (made with
 * openssl), gRPC mutual-TLS credentials from a certificate folder, and the
 * per-method authorization of gRPC calls by the caller's certificate.
 */
export { SecurityError, isSecurityError, type SecurityErrorCode } from "./errors.js";
export {
  checkId,
  clientRoles,
  hostAltName,
  idCharactersMax,
  identityOfSubject,
  isClientRole,
  isNodeRole,
  isRole,
  nodeRoles,
  organization,
  roles,
  subjectOf,
  type ClientRole,
  type Identity,
  type NodeRole,
  type Role,
} from "./identity.js";
export * from "./layout.js";
export {
  caLifetimeDays,
  createCa,
  ensureCertificates,
  hasCa,
  hostsMax,
  issueClientCertificate,
  issueNodeCertificate,
  leafLifetimeDays,
  modeOf,
  type CertificatePlan,
  type ClientCertificateRequest,
  type NodeCertificateRequest,
} from "./pki.js";
export { certificateInfo, listCertificates, readCertificate, type CertificateInfo } from "./certificate-info.js";
export {
  channelCredentials,
  callerCredentials,
  channelCredentialsFromFolder,
  nodeCredentials,
  presentedSubject,
  readTlsMaterial,
  type NodeCredentials,
  type TlsMaterial,
  type TlsSide,
} from "./grpc-credentials.js";
export { authorizeHandlers, authorizeHandlersWhen, peerIdentity, refusal, type AuthorizationTable, type MethodRule } from "./authorization.js";
export { LeaseHolderCheck, epochBindingsKept, type EpochHolder, type EpochHolderLookup } from "./lease-holder-check.js";
export { ConnectionGate, controlConnectionLimits, type Admission, type ConnectionCounts, type ConnectionLimits } from "./connection-gate.js";
export { GuardedServer } from "./guarded-server.js";
export { opensslCommand, opensslTimeoutMs } from "./openssl.js";
export { quietIpServerNameWarning } from "./process-warnings.js";
export type { ControlServerSpec, ControlServing, ServedControlServer, ServedService } from "./control-servers.js";
