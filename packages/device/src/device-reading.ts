/**
 * A stopped device's configuration, read without opening the device:
 * StorageDevice.open writes (it lists LUs in the store, creates a missing
 * log, ends mirrors a commit ended), and a tool that only looks at a device
 * (`switchyard coordination export`) must leave every byte as it found it.
 * Every file here is opened read-only.
 */
import path from "node:path";
import type { StoreState__Output } from "@switchyard/proto";
import { readHighestEpoch } from "./arbiter.js";
import { readStoreFile } from "./configuration-store.js";
import { nodeFiles, type DeviceFiles } from "./device-files.js";
import { arbiterFileName, deviceFileName, parseDescription, storeFileName } from "./device-folder.js";
import { readFileIfExists } from "./durable-file.js";
import { NotFoundError } from "./errors.js";

export interface DeviceReading {
  readonly deviceId: string;
  readonly extentSizeBytes: number;
  /** The configuration store's state and its sequence, as an open would find them. */
  readonly state: StoreState__Output;
  readonly sequence: number;
  /** The arbiter's highest epoch: every epoch the device granted is at or below it. */
  readonly highestEpoch: number;
}

/** Reads device.json, the store and arbiter.json in `dir`; NOT_FOUND when `dir` holds no device. */
export async function readStoppedDevice(dir: string, files: DeviceFiles = nodeFiles): Promise<DeviceReading> {
  const folder = path.resolve(dir);
  const descriptionPath = path.join(folder, deviceFileName);
  const descriptionBytes = await readFileIfExists(files, descriptionPath);
  if (descriptionBytes === undefined) throw new NotFoundError(`${folder} holds no ${deviceFileName}: not a device's folder`);
  const description = parseDescription(descriptionBytes, descriptionPath);
  const store = await readStoreFile(path.join(folder, storeFileName), files);
  const highestEpoch = await readHighestEpoch(path.join(folder, arbiterFileName), files);
  return { deviceId: description.deviceId, extentSizeBytes: description.extentSizeBytes, state: store.state, sequence: store.sequence, highestEpoch };
}
