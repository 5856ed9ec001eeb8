/**
 * Small files that must be either the old or the new version after a crash
 * (device.json, arbiter.json): written to a temporary file, fsynced, renamed
 * over the old one, and the folder fsynced so the rename itself is durable.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { ioError } from "./errors.js";

/** Suffix of the temporary file; a leftover one is ignored and overwritten. */
export const temporarySuffix = ".tmp";

export async function writeFileDurably(filePath: string, data: Uint8Array | string): Promise<void> {
  const temporaryPath = filePath + temporarySuffix;
  try {
    const handle = await fs.open(temporaryPath, "w");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporaryPath, filePath);
  } catch (error) {
    throw ioError(`writing ${filePath}`, error);
  }
  await syncFolder(path.dirname(filePath));
}

/** Makes the folder's entries (a created or renamed file) durable. */
export async function syncFolder(folderPath: string): Promise<void> {
  try {
    const handle = await fs.open(folderPath, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw ioError(`syncing folder ${folderPath}`, error);
  }
}

/** The file's contents, or undefined when it does not exist. */
export async function readFileIfExists(filePath: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(filePath);
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return undefined;
    throw ioError(`reading ${filePath}`, error);
  }
}

export async function fileExists(filePath: string): Promise<boolean> {
  try {
    await fs.stat(filePath);
    return true;
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return false;
    throw ioError(`checking ${filePath}`, error);
  }
}
