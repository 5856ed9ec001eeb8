// Goal: the device's BlockIo implementations pass the shared BlockIo suite
// (@switchyard/nbd/testing): an LU file as hosts reach it, on the
// event-loop path for small requests (SyncIoValve) and on libuv's threads;
// the same LU past any mirror (`direct`, what a mirror writes); and an
// external device's LU, which the device reaches over NBD.
// Method: each case on a fresh sparse LU file in a temporary folder, or on
// an ExternalLu connected to the project's NBD server on loopback serving
// memory; teardown always runs.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { NbdServer, type BlockIo } from "@switchyard/nbd";
import { MemoryExportProvider, blockIoSuite, blockIoSuiteSizeMinBytes, type OpenedBlockIo } from "@switchyard/nbd/testing";
import { ExternalLu } from "./external-lu.js";
import { LogicalUnit } from "./logical-unit.js";
import { temporaryFolder } from "./testing.js";

const runner = { describe, it, expect };
/** The smallest extent size, so that the LU holds two areas. */
const extentSizeBytes = 1 << 20;
const outOfRange = { read: "OUT_OF_RANGE", write: "OUT_OF_RANGE", writeZeroes: "OUT_OF_RANGE" };

async function openLu(syncIo: boolean, view: (lu: LogicalUnit) => BlockIo): Promise<OpenedBlockIo> {
  const folder = await temporaryFolder("switchyard-block-io-");
  const lu = await LogicalUnit.create({ id: "lu0", path: path.join(folder.path, "lu0"), sizeBytes: blockIoSuiteSizeMinBytes, extentSizeBytes, syncIo })
    .catch(async (error: unknown) => {
      await folder.remove();
      throw error;
    });
  return {
    io: view(lu),
    close: async () => {
      try {
        await lu.close();
      } finally {
        await folder.remove();
      }
    },
  };
}

async function openExternalLu(): Promise<OpenedBlockIo> {
  const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: blockIoSuiteSizeMinBytes }]);
  const server = new NbdServer({ provider, port: 0, host: "127.0.0.1" });
  const { port } = await server.listen();
  const lu = new ExternalLu({ id: "ext1:disk", deviceId: "ext1", nbdUri: `nbd://127.0.0.1:${port}/disk`, sizeBytes: blockIoSuiteSizeMinBytes, extentSizeBytes });
  return {
    io: lu,
    close: async () => {
      try {
        await lu.close();
      } finally {
        await server.close();
      }
    },
  };
}

blockIoSuite("LU file", { runner, open: () => openLu(true, (lu) => lu), pastEndCodes: outOfRange });
blockIoSuite("LU file, every request on libuv's threads", { runner, open: () => openLu(false, (lu) => lu), pastEndCodes: outOfRange });
blockIoSuite("LU file past any mirror (direct)", { runner, open: () => openLu(true, (lu) => lu.direct), pastEndCodes: outOfRange });
// Keeps the device's semantics: every failure of an external LU is IO_FAILED naming the device.
blockIoSuite("external LU over NBD", { runner, open: openExternalLu, pastEndCodes: { read: "IO_FAILED", write: "IO_FAILED", writeZeroes: "IO_FAILED" } });
