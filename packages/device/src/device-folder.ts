/**
 * A device's folder: device.json (its id, extent size and LU files), the
 * files it is created with, and the limits on them. StorageDevice opens what
 * this describes.
 */
import path from "node:path";
import { ConfigurationStore, logPathOf } from "./configuration-store.js";
import { fileExists } from "./durable-file.js";
import type { DeviceFiles } from "./device-files.js";
import { DeviceCorruptError, DeviceFolderConflictError, InvalidArgumentError, ioError } from "./errors.js";
import { LogicalUnit } from "./logical-unit.js";
import { extentSizeDefaultBytes, validateExtentSize, validateLuSize } from "./lu-geometry.js";

export const deviceFileName = "device.json";
export const storeFileName = "store.slots";
export const arbiterFileName = "arbiter.json";
/** LUs per device: each is an open file, and LU indexes are shared by the whole cluster. */
export const luCountMax = 256;
/** Device ids appear in URIs and logs: short and plain. */
export const deviceIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** An LU id prefix: a device id and a dash, or nothing, so that the LU ids stay plain (they name NBD exports). */
export const luIdPrefixPattern = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63}-)?$/;
const formatVersion = 1;

export interface DeviceCreateOptions {
  readonly deviceId: string;
  readonly luCount: number;
  readonly luSizeBytes: number;
  /** Default 4 MiB. */
  readonly extentSizeBytes?: number;
  /** Default 64 MiB (sparse); smaller in tests. */
  readonly storeSlotSizeBytes?: number;
  /**
   * Put before each LU id (default ""): `d2-` names them d2-lu0, d2-lu1.
   * LU ids name LUs in the whole cluster's table, so a device that shares
   * one (several devices on one etcd prefix) needs ids no other device
   * uses; the default keeps lu0, lu1 as every existing folder has them.
   */
  readonly luIdPrefix?: string;
}

/** What device.json records. */
export interface DeviceDescription {
  readonly formatVersion: number;
  readonly deviceId: string;
  readonly extentSizeBytes: number;
  readonly lus: readonly { readonly id: string; readonly file: string; readonly sizeBytes: number }[];
}

export function describeNew(create: DeviceCreateOptions): DeviceDescription {
  const extentSizeBytes = create.extentSizeBytes ?? extentSizeDefaultBytes;
  if (!deviceIdPattern.test(create.deviceId)) {
    throw new InvalidArgumentError(`device id ${JSON.stringify(create.deviceId)} must match ${String(deviceIdPattern)}`);
  }
  if (!Number.isSafeInteger(create.luCount) || create.luCount < 1 || create.luCount > luCountMax) {
    throw new InvalidArgumentError(`LU count ${create.luCount} must be from 1 to ${luCountMax}`);
  }
  const luIdPrefix = create.luIdPrefix ?? "";
  if (!luIdPrefixPattern.test(luIdPrefix)) {
    throw new InvalidArgumentError(`LU id prefix ${JSON.stringify(luIdPrefix)} must be empty or match ${String(luIdPrefixPattern)}`);
  }
  validateExtentSize(extentSizeBytes);
  validateLuSize(create.luSizeBytes, extentSizeBytes);
  // The files keep their plain names: the folder is the device's own, and device.json maps ids to files.
  const lus = Array.from({ length: create.luCount }, (_, index) => ({
    id: `${luIdPrefix}lu${index}`, file: `lu${index}.img`, sizeBytes: create.luSizeBytes,
  }));
  return { formatVersion, deviceId: create.deviceId, extentSizeBytes, lus };
}

/** Creates the LU files and the store; refuses any that already exist. */
export async function createFiles(files: DeviceFiles, dir: string, description: DeviceDescription, storeSlotSizeBytes: number | undefined): Promise<void> {
  await files.mkdir(dir).catch((error: unknown) => { throw ioError(`creating ${dir}`, error); });
  for (const name of [storeFileName, logPathOf(storeFileName), arbiterFileName, ...description.lus.map((lu) => lu.file)]) {
    if (await fileExists(files, path.join(dir, name))) {
      throw new DeviceFolderConflictError(
        `${path.join(dir, name)} exists but ${deviceFileName} does not: refusing to overwrite it (remove it to create a new device)`,
      );
    }
  }
  for (const entry of description.lus) {
    const lu = await LogicalUnit.create({
      id: entry.id, path: path.join(dir, entry.file), sizeBytes: entry.sizeBytes, extentSizeBytes: description.extentSizeBytes, files,
    });
    await lu.close();
  }
  const store = await ConfigurationStore.open(path.join(dir, storeFileName), { slotSizeBytes: storeSlotSizeBytes, files });
  await store.close();
}

export function parseDescription(bytes: Buffer, filePath: string): DeviceDescription {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new DeviceCorruptError(`${filePath} is not JSON`, { cause: error });
  }
  const invalid = (what: string): DeviceCorruptError => new DeviceCorruptError(`${filePath}: ${what}`);
  if (!isRecord(parsed) || parsed.formatVersion !== formatVersion) throw invalid(`not format version ${formatVersion}`);
  const { deviceId, extentSizeBytes, lus } = parsed;
  if (typeof deviceId !== "string" || !deviceIdPattern.test(deviceId)) throw invalid("bad deviceId");
  if (typeof extentSizeBytes !== "number" || !Array.isArray(lus) || lus.length < 1 || lus.length > luCountMax) {
    throw invalid("bad extentSizeBytes or lus");
  }
  const entries = lus.map((entry: unknown) => {
    if (!isRecord(entry) || typeof entry.id !== "string" || typeof entry.file !== "string" ||
      typeof entry.sizeBytes !== "number" || entry.file.includes("/") || entry.file.startsWith(".")) {
      throw invalid("bad LU entry");
    }
    return { id: entry.id, file: entry.file, sizeBytes: entry.sizeBytes };
  });
  if (new Set(entries.map((entry) => entry.id)).size !== entries.length) throw invalid("duplicate LU ids");
  return { formatVersion, deviceId, extentSizeBytes, lus: entries };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
