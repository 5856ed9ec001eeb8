/**
 * The NBD server every NBD fuzz test runs against: the project's NbdServer
 * on loopback over two in-memory exports (one read-write, one read-only),
 * with the fuzz limits, and a record of every error it reported.
 */
import { NbdServer } from "@switchyard/nbd";
import { MemoryExportProvider, type MemoryOperationGate } from "@switchyard/nbd/testing";
import {
  nbdFuzzDisconnectTimeoutMs,
  nbdFuzzExportSizeBytes,
  nbdFuzzRequestSizeMaxBytes,
  nbdFuzzWriteDiscardMaxBytes,
  zeroExport,
  type NbdFuzzExport,
} from "../src/index.js";

export interface NbdTarget {
  readonly server: NbdServer;
  readonly port: number;
  readonly exports: readonly NbdFuzzExport[];
  /** Errors the server reported through onError: each one is a bug the fuzzer found. */
  readonly serverErrors: unknown[];
}

export const readWriteExportName = "fuzz-rw";
export const readOnlyExportName = "fuzz-ro";

export async function startNbdTarget(gate?: MemoryOperationGate): Promise<NbdTarget> {
  const provider = new MemoryExportProvider(
    [
      { name: readWriteExportName, sizeBytes: nbdFuzzExportSizeBytes, description: "read-write" },
      { name: readOnlyExportName, sizeBytes: nbdFuzzExportSizeBytes, readOnly: true, description: "read-only" },
    ],
    gate,
  );
  const serverErrors: unknown[] = [];
  const server = new NbdServer({
    provider,
    host: "127.0.0.1",
    port: 0,
    limits: {
      requestSizeMaxBytes: nbdFuzzRequestSizeMaxBytes,
      writeDiscardMaxBytes: nbdFuzzWriteDiscardMaxBytes,
      disconnectTimeoutMs: nbdFuzzDisconnectTimeoutMs,
    },
    onError: (error) => {
      serverErrors.push(error);
    },
  });
  const { port } = await server.listen();
  return {
    server,
    port,
    exports: [zeroExport(readWriteExportName, nbdFuzzExportSizeBytes, false), zeroExport(readOnlyExportName, nbdFuzzExportSizeBytes, true)],
    serverErrors,
  };
}
