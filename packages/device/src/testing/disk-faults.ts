/**
 * A failing disk at the device's file-I/O seam (DeviceFiles,
 * device-files.ts), for tests only: reads or writes of a byte range of a
 * file fail with an errno (EIO: a bad sector; ENOSPC: a full file system),
 * or a file's fsync and fdatasync fail (a store whose disk dies under a
 * commit). Everything else passes through to the files underneath, so the
 * bytes really are on a real file system; tests that need a really full one
 * use a small tmpfs instead.
 *
 * The faults are switched while the device runs: a test in the same
 * process calls `set` and `clear`; a test driving a real `switchyard up`
 * process of the test build (@switchyard/console testing/cli.ts,
 * `--test-disk-faults FILE`) writes the list as JSON into a control file,
 * read again at the next I/O after the file changed. A request touching
 * a faulty range fails whole, as a disk fails a request it cannot complete,
 * and nothing of it reaches the file.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { DeviceFiles, DoneCallback, FileStatus, OpenFlags, TransferCallback } from "../device-files.js";

export type DiskFaultOperation = "read" | "write" | "sync";
export const diskFaultOperations: readonly DiskFaultOperation[] = ["read", "write", "sync"];
/** The errnos a disk or file system gives that the device must map: EIO (media) and ENOSPC (space). */
export type DiskFaultErrno = "EIO" | "ENOSPC";

export interface DiskFault {
  /** The file's name in the device folder: "lu0.img", "store.slots", "store.slots.log". */
  readonly file: string;
  readonly operations: readonly DiskFaultOperation[];
  /** Reads and writes touching [offsetBytes, offsetBytes + lengthBytes) fail; the whole file if absent. */
  readonly offsetBytes?: number;
  readonly lengthBytes?: number;
  readonly errno: DiskFaultErrno;
}

/** The most faults one list may hold: a test names a handful; more is a broken control file. */
export const diskFaultsMax = 64;

/** Checks a list read from a test or a control file; throws naming what is wrong. */
export function checkDiskFaults(value: unknown): readonly DiskFault[] {
  assert.ok(Array.isArray(value) && value.length <= diskFaultsMax, `disk faults must be a list of at most ${diskFaultsMax}`);
  return value.map((entry: unknown, index) => {
    const fault = entry as Partial<DiskFault>;
    const where = `disk fault ${index}`;
    assert.ok(typeof fault.file === "string" && fault.file !== "" && !fault.file.includes("/"), `${where}: file must be a file name`);
    const operations: unknown = fault.operations;
    assert.ok(Array.isArray(operations) && operations.every((operation: unknown) => diskFaultOperations.some((known) => known === operation)), `${where}: operations must be of ${diskFaultOperations.join(", ")}`);
    assert.ok(fault.errno === "EIO" || fault.errno === "ENOSPC", `${where}: errno must be EIO or ENOSPC`);
    assert.ok((fault.offsetBytes === undefined) === (fault.lengthBytes === undefined), `${where}: give offsetBytes and lengthBytes together`);
    if (fault.offsetBytes !== undefined) {
      assert.ok(Number.isSafeInteger(fault.offsetBytes) && fault.offsetBytes >= 0 && Number.isSafeInteger(fault.lengthBytes) && (fault.lengthBytes ?? 0) > 0, `${where}: a range of whole bytes`);
    }
    return fault as DiskFault;
  });
}

/** An error as node:fs gives one: `code` is the errno's name, `errno` its negative number. */
function errnoError(errno: DiskFaultErrno, syscall: string, filePath: string): NodeJS.ErrnoException {
  const text = errno === "EIO" ? "i/o error" : "no space left on device";
  return Object.assign(new Error(`${errno}: ${text}, ${syscall} '${filePath}'`), { code: errno, errno: -os.constants.errno[errno], syscall, path: filePath });
}

export class DiskFaults {
  private faults: readonly DiskFault[] = [];
  /** Operations failed so far: a test asserts that its fault was hit, not skipped. */
  failedCount = 0;

  set(faults: readonly DiskFault[]): void {
    this.faults = checkDiskFaults(faults);
  }

  clear(): void {
    this.faults = [];
  }

  /** The faults in force now; a control file's are read again here when it changed. */
  protected current(): readonly DiskFault[] {
    return this.faults;
  }

  /** The error `operation` on `filePath` fails with now, or undefined to let it through. */
  failure(filePath: string, operation: DiskFaultOperation, positionBytes: number, lengthBytes: number): NodeJS.ErrnoException | undefined {
    const name = path.basename(filePath);
    const fault = this.current().find((candidate) => candidate.file === name && candidate.operations.includes(operation) &&
      (operation === "sync" || touches(candidate, positionBytes, lengthBytes)));
    if (fault === undefined) return undefined;
    this.failedCount += 1;
    return errnoError(fault.errno, operation === "sync" ? "fsync" : operation, filePath);
  }

  /** `files`, with this object's faults in force. */
  decorate(files: DeviceFiles): DeviceFiles {
    return new FaultyFiles(files, this);
  }
}

function touches(fault: DiskFault, positionBytes: number, lengthBytes: number): boolean {
  if (fault.offsetBytes === undefined || fault.lengthBytes === undefined) return true;
  return positionBytes < fault.offsetBytes + fault.lengthBytes && fault.offsetBytes < positionBytes + lengthBytes;
}

/**
 * Faults listed in a control file (a JSON array of DiskFault; no file, no
 * faults). A test replaces the file by a rename, so the next I/O sees either
 * list whole; the file's identity and time are checked at every I/O, which
 * costs a stat: the test build pays it, production never runs this.
 */
export class ControlledDiskFaults extends DiskFaults {
  private seen = "";

  constructor(readonly controlPath: string) {
    super();
  }

  protected override current(): readonly DiskFault[] {
    const status = fs.statSync(this.controlPath, { throwIfNoEntry: false });
    const identity = status === undefined ? "" : `${status.ino}:${status.mtimeMs}:${status.size}`;
    if (identity !== this.seen) {
      this.seen = identity;
      if (status === undefined) this.clear();
      else this.set(checkDiskFaults(JSON.parse(fs.readFileSync(this.controlPath, "utf8"))));
    }
    return super.current();
  }
}

/** The port with faults in front: each call asks `faults` first, by the path its descriptor was opened with. */
class FaultyFiles implements DeviceFiles {
  private readonly pathByDescriptor = new Map<number, string>();

  constructor(private readonly files: DeviceFiles, private readonly faults: DiskFaults) {}

  private failure(fd: number, operation: DiskFaultOperation, positionBytes: number, lengthBytes: number): NodeJS.ErrnoException | undefined {
    const filePath = this.pathByDescriptor.get(fd);
    return filePath === undefined ? undefined : this.faults.failure(filePath, operation, positionBytes, lengthBytes);
  }

  async open(filePath: string, flags: OpenFlags, modeBits?: number): Promise<number> {
    const fd = await this.files.open(filePath, flags, modeBits);
    this.pathByDescriptor.set(fd, filePath);
    return fd;
  }

  async close(fd: number): Promise<void> {
    this.pathByDescriptor.delete(fd);
    await this.files.close(fd);
  }

  read(fd: number, buffer: Buffer, offset: number, length: number, position: number, callback: TransferCallback): void {
    const failure = this.failure(fd, "read", position, length);
    if (failure === undefined) this.files.read(fd, buffer, offset, length, position, callback);
    else setImmediate(() => { callback(failure, 0); });
  }

  write(fd: number, buffer: Buffer, offset: number, length: number, position: number, callback: TransferCallback): void {
    const failure = this.failure(fd, "write", position, length);
    if (failure === undefined) this.files.write(fd, buffer, offset, length, position, callback);
    else setImmediate(() => { callback(failure, 0); });
  }

  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    const failure = this.failure(fd, "read", position, length);
    if (failure !== undefined) throw failure;
    return this.files.readSync(fd, buffer, offset, length, position);
  }

  writeSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    const failure = this.failure(fd, "write", position, length);
    if (failure !== undefined) throw failure;
    return this.files.writeSync(fd, buffer, offset, length, position);
  }

  fdatasync(fd: number, callback: DoneCallback): void {
    const failure = this.failure(fd, "sync", 0, 0);
    if (failure === undefined) this.files.fdatasync(fd, callback);
    else setImmediate(() => { callback(failure); });
  }

  async fsync(fd: number): Promise<void> {
    const failure = this.failure(fd, "sync", 0, 0);
    if (failure !== undefined) throw failure;
    await this.files.fsync(fd);
  }

  ftruncate(fd: number, sizeBytes: number): Promise<void> {
    return this.files.ftruncate(fd, sizeBytes);
  }

  fstat(fd: number): Promise<FileStatus> {
    return this.files.fstat(fd);
  }

  rename(fromPath: string, toPath: string): Promise<void> {
    return this.files.rename(fromPath, toPath);
  }

  syncFolder(folderPath: string): Promise<void> {
    return this.files.syncFolder(folderPath);
  }

  mkdir(folderPath: string): Promise<void> {
    return this.files.mkdir(folderPath);
  }
}
