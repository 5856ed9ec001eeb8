/**
 * Test helpers of the NBD package (the "./testing" subpath): the shared
 * suite every BlockIo passes, an in-memory export (a BlockIo too) whose
 * operations a test can gate, fail or stall, a raw peer that sends exact
 * bytes for spec-level checks of any NBD server, test certificates for
 * NBD over TLS (a CA, a server, a client, a foreign client), a wait for a server's
 * connections to settle, and planted bugs of a server's request checks
 * (testing/request-check-faults.ts).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { NbdServer } from "./server.js";

export {
  blockIoSuite,
  blockIoCaseTimeoutMs,
  blockIoSuiteSizeMaxBytes,
  blockIoSuiteSizeMinBytes,
  type BlockIoSuiteOptions,
  type BlockIoSuiteRunner,
  type OpenedBlockIo,
  type PastEndCodes,
} from "./block-io-suite.js";
export {
  MemoryExportProvider,
  type MemoryExportOptions,
  type MemoryOperation,
  type MemoryOperationGate,
  type MemoryOperationInfo,
} from "./memory-export.js";
export { makeTlsTestCertificates, type TlsTestCertificates, type TlsTestIdentity } from "./tls-certificates.js";
export { faultyRequestChecks, requestCheckFaultNamed, requestCheckFaults, type RequestCheckFault } from "./testing/request-check-faults.js";
export { RawPeer, encodeRequest, goData, metaContextData, type RawChunk, type RawOptionReply, type RawRequest } from "./raw-peer.js";

/** How long waitForConnections waits for connections that close in the background. */
const connectionsWaitMs = 2_000;
const connectionsPollMs = 10;

/** Resolves once `server` has `count` connections open; closing ones go in the background. */
export async function waitForConnections(server: NbdServer, count: number): Promise<void> {
  const deadlineMs = performance.now() + connectionsWaitMs;
  while (server.connectionCount !== count) {
    if (performance.now() > deadlineMs) throw new Error(`${server.connectionCount} connections open after ${connectionsWaitMs} ms, not ${count}`);
    await sleep(connectionsPollMs);
  }
}
