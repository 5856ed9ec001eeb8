/**
 * Test helpers for this package and its dependents (the "./testing"
 * subpath): temporary folders that are always removed, small devices, and
 * the power-loss storage model with its planted bug, and a failing disk
 * (testing/).
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { StorageDevice, type DeviceCreateOptions } from "./storage-device.js";

export interface TemporaryFolder {
  readonly path: string;
  /** Removes the folder and everything in it; safe to call twice. */
  remove(): Promise<void>;
}

export async function temporaryFolder(prefix = "switchyard-test-"): Promise<TemporaryFolder> {
  const folderPath = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return {
    path: folderPath,
    remove: () => fs.rm(folderPath, { recursive: true, force: true }),
  };
}

/** Small enough for unit tests: 2 LUs of 16 areas of 1 MiB, a 1 MiB store slot. */
export const testDeviceCreateOptions: DeviceCreateOptions = {
  deviceId: "test-device",
  luCount: 2,
  luSizeBytes: 16 << 20,
  extentSizeBytes: 1 << 20,
  storeSlotSizeBytes: 1 << 20,
};

/** Creates (or reopens) a device in `dir` with `testDeviceCreateOptions`, changed by `overrides`. */
export function openTestDevice(dir: string, overrides: Partial<DeviceCreateOptions> = {}): Promise<StorageDevice> {
  return StorageDevice.open({ dir, create: { ...testDeviceCreateOptions, ...overrides } });
}

export { PowerLossFiles, sectorSizeBytes, type CutReport } from "./testing/power-loss-files.js";
export { lyingSyncs } from "./testing/lying-syncs.js";
export {
  ControlledDiskFaults,
  DiskFaults,
  checkDiskFaults,
  diskFaultOperations,
  diskFaultsMax,
  type DiskFault,
  type DiskFaultErrno,
  type DiskFaultOperation,
} from "./testing/disk-faults.js";
export { SeededRandom } from "./testing/seeded-random.js";
