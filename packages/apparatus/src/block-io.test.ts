// Goal: the apparatus's backends pass the shared BlockIo suite
// (@switchyard/nbd/testing) as the I/O path gets them from a backend set:
// a remote device's LU over NBD (NbdBackendSet, under an apparatus's
// identity, against a real device's LU export), an external device's LU on
// any NBD server (over NBD from either set), the device's own LU file in
// its process behind the fencing check (LocalBackendSet), and the in-memory
// LU the other tests stand on (MemoryLu).
// Method: each case on a fresh device in a temporary folder or a fresh
// in-memory export, served by the project's NbdServer on 127.0.0.1:0;
// teardown always runs.
import { describe, expect, it } from "vitest";
import { NbdServer, type NbdExportProvider } from "@switchyard/nbd";
import { MemoryExportProvider, blockIoSuite, blockIoSuiteSizeMinBytes, type OpenedBlockIo } from "@switchyard/nbd/testing";
import { logicalUnitExports, type StorageDevice } from "@switchyard/device";
import { openTestDevice, temporaryFolder } from "@switchyard/device/testing";
import type { LogicalUnit__Output } from "@switchyard/proto";
import { LocalBackendSet, type BackendSet } from "./backend.js";
import { NbdBackendSet } from "./nbd-backend.js";
import { MemoryLu } from "./testing.js";

const runner = { describe, it, expect };
/** The smallest extent size, so that each LU holds two areas. */
const extentSizeBytes = 1 << 20;
/** What our NBD server answers a range past the end (NBD proto.md "Error values"). */
const nbdPastEnd = { read: "EINVAL", write: "ENOSPC", writeZeroes: "ENOSPC" };

function luDescription(uri: string, external: boolean): LogicalUnit__Output {
  return { index: 0, id: external ? "ext1:disk" : "lu0", device_id: external ? "ext1" : "dev0", size_bytes: blockIoSuiteSizeMinBytes, extent_size_bytes: extentSizeBytes, nbd_uri: uri, external };
}

/** Runs `steps` in order, every one even if an earlier one failed; throws the first failure. */
async function teardown(steps: readonly (() => Promise<void>)[]): Promise<void> {
  const outcomes = [];
  for (const step of steps) outcomes.push(await step().then(() => undefined, (error: unknown) => ({ error })));
  const failed = outcomes.find((outcome) => outcome !== undefined);
  if (failed !== undefined) throw failed.error;
}

async function serve(provider: NbdExportProvider): Promise<{ server: NbdServer; port: number }> {
  const server = new NbdServer({ provider, port: 0, host: "127.0.0.1" });
  const { port } = await server.listen();
  return { server, port };
}

async function withDevice(use: (device: StorageDevice) => Promise<OpenedBlockIo>): Promise<OpenedBlockIo> {
  const folder = await temporaryFolder("switchyard-block-io-");
  const device = await openTestDevice(folder.path, { luCount: 1, luSizeBytes: blockIoSuiteSizeMinBytes, extentSizeBytes }).catch(async (error: unknown) => {
    await folder.remove();
    throw error;
  });
  // Taken in by a controller, as an apparatus is before it does I/O: the device refuses an unregistered id.
  const { epoch } = await device.arbiter.acquire("c1", "", 60_000, 0);
  device.registerKey("a1", "k1", epoch);
  const opened = await use(device).catch(async (error: unknown) => {
    await teardown([() => device.close(), () => folder.remove()]);
    throw error;
  });
  return { io: opened.io, close: () => teardown([() => opened.close(), () => device.close(), () => folder.remove()]) };
}

/** A device's LU as an apparatus outside its process reaches it: over NBD, opened under the apparatus's identity. */
function openRemoteLu(): Promise<OpenedBlockIo> {
  return withDevice(async (device) => {
    const { server, port } = await serve(logicalUnitExports(device));
    const set = new NbdBackendSet();
    set.identify({ apparatusId: "a1", key: "k1" });
    return { io: set.backend(luDescription(`nbd://127.0.0.1:${port}/lu0`, false)), close: () => teardown([() => set.close(), () => server.close()]) };
  });
}

/** The device's LU file from an apparatus in its process, behind the device's fencing check. */
function openLocalLu(): Promise<OpenedBlockIo> {
  return withDevice((device) => {
    const set = new LocalBackendSet(new Map(device.lus.map((lu) => [lu.id, lu])), (apparatusId, key) => device.ioRefusal(apparatusId, key));
    set.identify({ apparatusId: "a1", key: "k1" });
    return Promise.resolve({ io: set.backend(luDescription("", false)), close: () => set.close() });
  });
}

/** Any NBD server registered as an external device, here serving memory. */
async function openExternalLu(set: BackendSet): Promise<OpenedBlockIo> {
  const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: blockIoSuiteSizeMinBytes }]);
  const { server, port } = await serve(provider);
  return { io: set.backend(luDescription(`nbd://127.0.0.1:${port}/disk`, true)), close: () => teardown([() => set.close(), () => server.close()]) };
}

blockIoSuite("remote device LU over NBD", { runner, open: openRemoteLu, pastEndCodes: nbdPastEnd });
blockIoSuite("external NBD server, from an apparatus process", { runner, open: () => openExternalLu(new NbdBackendSet()), pastEndCodes: nbdPastEnd });
blockIoSuite("external NBD server, from the device's process", { runner, open: () => openExternalLu(new LocalBackendSet(new Map())), pastEndCodes: nbdPastEnd });
blockIoSuite("device LU file in the device's process", { runner, open: openLocalLu, pastEndCodes: { read: "OUT_OF_RANGE", write: "OUT_OF_RANGE", writeZeroes: "OUT_OF_RANGE" } });
blockIoSuite("in-memory LU (MemoryLu)", {
  runner,
  open: () => Promise.resolve({ io: new MemoryLu(blockIoSuiteSizeMinBytes), close: () => Promise.resolve() }),
  pastEndCodes: nbdPastEnd,
});
