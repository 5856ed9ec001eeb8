/**
 * Whole-file helpers over the file-I/O port (device-files.ts), off the hot
 * path. Small files that must be either the old or the new version after a
 * crash (device.json, arbiter.json, registrations.json, mirrors.json) are
 * written to a temporary file, fsynced, renamed over the old one, and the
 * folder synced so the rename itself is durable.
 */
import assert from "node:assert/strict";
import path from "node:path";
import type { DeviceFiles } from "./device-files.js";
import { errnoOf, ioError } from "./errors.js";

/** Suffix of the temporary file; a leftover one is ignored and overwritten. */
export const temporarySuffix = ".tmp";

export async function writeFileDurably(files: DeviceFiles, filePath: string, data: Uint8Array | string): Promise<void> {
  const temporaryPath = filePath + temporarySuffix;
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  try {
    const fd = await files.open(temporaryPath, "w");
    try {
      await writeFully(files, fd, bytes, 0);
      await files.fsync(fd);
    } finally {
      await files.close(fd);
    }
    await files.rename(temporaryPath, filePath);
  } catch (error) {
    throw ioError(`writing ${filePath}`, error);
  }
  await syncFolder(files, path.dirname(filePath));
}

/** Makes the folder's entries (a created or renamed file) durable. */
export async function syncFolder(files: DeviceFiles, folderPath: string): Promise<void> {
  try {
    await files.syncFolder(folderPath);
  } catch (error) {
    throw ioError(`syncing folder ${folderPath}`, error);
  }
}

/** The file's contents, or undefined when it does not exist. */
export async function readFileIfExists(files: DeviceFiles, filePath: string): Promise<Buffer | undefined> {
  let fd: number;
  try {
    fd = await files.open(filePath, "r");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw ioError(`reading ${filePath}`, error);
  }
  try {
    return await readWhole(files, fd);
  } catch (error) {
    throw ioError(`reading ${filePath}`, error);
  } finally {
    await files.close(fd);
  }
}

/** Every byte of the open file, as long as it is now. */
export async function readWhole(files: DeviceFiles, fd: number): Promise<Buffer> {
  const { sizeBytes } = await files.fstat(fd);
  const bytes = Buffer.alloc(sizeBytes);
  const readBytes = await readFully(files, fd, bytes, 0);
  return bytes.subarray(0, readBytes);
}

export async function fileExists(files: DeviceFiles, filePath: string): Promise<boolean> {
  let fd: number;
  try {
    fd = await files.open(filePath, "r");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return false;
    throw ioError(`checking ${filePath}`, error);
  }
  await files.close(fd);
  return true;
}

/** One positioned read as a Promise of the bytes read. */
export function readAt(files: DeviceFiles, fd: number, into: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    files.read(fd, into, offset, length, position, (error, bytes) => { if (error === null) resolve(bytes); else reject(error); });
  });
}

/**
 * Fills `into` from `positionBytes`; returns the bytes read, fewer only at
 * the end of the file, where the rest of `into` is zero-filled.
 */
export async function readFully(files: DeviceFiles, fd: number, into: Buffer, positionBytes: number): Promise<number> {
  for (let doneBytes = 0; doneBytes < into.length;) {
    const bytesRead = await readAt(files, fd, into, doneBytes, into.length - doneBytes, positionBytes + doneBytes);
    if (bytesRead === 0) {
      into.fill(0, doneBytes);
      return doneBytes;
    }
    doneBytes += bytesRead;
  }
  return into.length;
}

/** Writes all of `data` at `positionBytes`, looping over short writes. */
export async function writeFully(files: DeviceFiles, fd: number, data: Buffer, positionBytes: number): Promise<void> {
  for (let doneBytes = 0; doneBytes < data.length;) {
    const bytesWritten = await new Promise<number>((resolve, reject) => {
      files.write(fd, data, doneBytes, data.length - doneBytes, positionBytes + doneBytes, (error, bytes) => {
        if (error === null) resolve(bytes);
        else reject(error);
      });
    });
    assert.ok(bytesWritten > 0, "a positioned write to a regular file wrote nothing");
    doneBytes += bytesWritten;
  }
}

/** fdatasync as a Promise. */
export function datasync(files: DeviceFiles, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    files.fdatasync(fd, (error) => { if (error === null) resolve(); else reject(error); });
  });
}
