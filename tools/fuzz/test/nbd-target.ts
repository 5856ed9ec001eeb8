/**
 * The NBD servers the NBD fuzz tests run against: the project's NbdServer
 * on loopback over two in-memory exports (one read-write, one read-only), or
 * over an apparatus's volume export; with the fuzz limits, and a record of
 * every error the server reported.
 */
import { VirtualizationApparatus } from "@switchyard/apparatus";
import { MemoryLu, memoryBackends, oneVolumeTable } from "@switchyard/apparatus/testing";
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

/** The apparatus's volume: two extents on two LUs, so requests span extents and backends. */
const volumeName = "v";
const volumeExtentSizeBytes = nbdFuzzExportSizeBytes / 2;

export interface ApparatusNbdTarget extends NbdTarget {
  readonly apparatus: VirtualizationApparatus;
}

/**
 * An apparatus's volume export (the provider an apparatus serves hosts),
 * behind an NbdServer with the fuzz limits, as serveApparatus would put it
 * with its own.
 */
export async function startApparatusNbdTarget(): Promise<ApparatusNbdTarget> {
  const lus = [new MemoryLu(volumeExtentSizeBytes), new MemoryLu(volumeExtentSizeBytes)];
  const apparatus = new VirtualizationApparatus({ id: "a", backends: memoryBackends(lus) });
  await apparatus.loadTable(1, oneVolumeTable(1, 2, volumeExtentSizeBytes, volumeExtentSizeBytes, volumeName, [0, 1], [0, 0]));
  const serverErrors: unknown[] = [];
  const server = new NbdServer({
    provider: apparatus.exports(),
    host: "127.0.0.1",
    port: 0,
    limits: { requestSizeMaxBytes: nbdFuzzRequestSizeMaxBytes, writeDiscardMaxBytes: nbdFuzzWriteDiscardMaxBytes, disconnectTimeoutMs: nbdFuzzDisconnectTimeoutMs },
    onError: (error) => {
      serverErrors.push(error);
    },
  });
  const { port } = await server.listen();
  return { server, port, exports: [zeroExport(volumeName, nbdFuzzExportSizeBytes, false)], serverErrors, apparatus };
}
