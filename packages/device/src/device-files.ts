/**
 * The device's file-I/O port: every byte the device keeps (LU files, the
 * store's slots and log, arbiter.json, registrations.json, mirrors.json,
 * the write-intent record, device.json) goes through one `DeviceFiles`. Production runs on
 * `nodeFiles`, a thin pass-through to node:fs; tests may pass another
 * implementation (from the "./testing" subpath) to
 * StorageDevice.open, ConfigurationStore.open, Arbiter.open or LogicalUnit.
 *
 * The port is as small as what the device does: files opened by path and
 * addressed by descriptor, positioned reads and writes, fdatasync and
 * fsync, ftruncate and fstat, rename, making a folder's entries durable,
 * creating a folder. The LU hot path (read, write, their synchronous
 * forms, fdatasync) keeps node:fs's callback shape, so a request costs no
 * Promise or closure more than it did on node:fs directly (lu-request.ts);
 * the rest, off the hot path, returns Promises.
 *
 * Durability contract every implementation honours, and the device relies
 * on: a write is durable after an fdatasync or fsync of its file has
 * succeeded; a created or renamed name is durable after `syncFolder` of its
 * folder has succeeded; nothing else promises anything.
 */
import fs from "node:fs";
import fsPromises from "node:fs/promises";

/**
 * The opening modes the device uses, in node:fs's spelling: "r" read only,
 * "r+" read and write an existing file, "w" and "w+" create or empty,
 * "wx+" create a new file and refuse an existing one (EEXIST).
 */
export type OpenFlags = "r" | "r+" | "w" | "w+" | "wx+";

/** A read or write's end: an errno-carrying error, or the bytes moved. */
export type TransferCallback = (error: NodeJS.ErrnoException | null, bytes: number) => void;
export type DoneCallback = (error: NodeJS.ErrnoException | null) => void;

/** What the device asks of an open file's metadata. */
export interface FileStatus {
  readonly sizeBytes: number;
  /** 512-byte blocks allocated (st_blocks): 0 means the file holds no data at all. */
  readonly blockCount: number;
}

export interface DeviceFiles {
  /**
   * Opens `path`; fails with an error whose `code` is the errno (ENOENT,
   * EEXIST, ...). `modeBits` are a created file's permissions (default 0o666
   * less the umask).
   */
  open(path: string, flags: OpenFlags, modeBits?: number): Promise<number>;
  close(fd: number): Promise<void>;
  /** pread: up to `length` bytes into `buffer` at `offset`, from `position` of the file. */
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number, callback: TransferCallback): void;
  /** pwrite: up to `length` bytes of `buffer` from `offset`, at `position` of the file. */
  write(fd: number, buffer: Buffer, offset: number, length: number, position: number, callback: TransferCallback): void;
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  writeSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  /** Makes the file's written data (and its size) durable. */
  fdatasync(fd: number, callback: DoneCallback): void;
  /** fdatasync, and the file's other metadata too. */
  fsync(fd: number): Promise<void>;
  ftruncate(fd: number, sizeBytes: number): Promise<void>;
  fstat(fd: number): Promise<FileStatus>;
  /** Replaces `toPath` by `fromPath` atomically (both in one folder); durable after syncFolder. */
  rename(fromPath: string, toPath: string): Promise<void>;
  /** Makes the folder's entries (files created, renamed into or out of it) durable. */
  syncFolder(folderPath: string): Promise<void>;
  /** Creates the folder and its missing parents; an existing folder is fine. */
  mkdir(folderPath: string): Promise<void>;
}

/** The production driver: node:fs, nothing added. */
export const nodeFiles: DeviceFiles = {
  open: (path, flags, modeBits) => new Promise((resolve, reject) => {
    fs.open(path, flags, modeBits, (error, fd) => { if (error === null) resolve(fd); else reject(error); });
  }),
  close: (fd) => new Promise((resolve, reject) => {
    fs.close(fd, (error) => { if (error === null) resolve(); else reject(error); });
  }),
  read(fd, buffer, offset, length, position, callback) {
    fs.read(fd, buffer, offset, length, position, callback);
  },
  write(fd, buffer, offset, length, position, callback) {
    fs.write(fd, buffer, offset, length, position, callback);
  },
  readSync: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  writeSync: (fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, length, position),
  fdatasync(fd, callback) {
    fs.fdatasync(fd, callback);
  },
  fsync: (fd) => new Promise((resolve, reject) => {
    fs.fsync(fd, (error) => { if (error === null) resolve(); else reject(error); });
  }),
  ftruncate: (fd, sizeBytes) => new Promise((resolve, reject) => {
    fs.ftruncate(fd, sizeBytes, (error) => { if (error === null) resolve(); else reject(error); });
  }),
  fstat: (fd) => new Promise((resolve, reject) => {
    fs.fstat(fd, (error, stats) => {
      if (error === null) resolve({ sizeBytes: stats.size, blockCount: stats.blocks });
      else reject(error);
    });
  }),
  rename: (fromPath, toPath) => fsPromises.rename(fromPath, toPath),
  async syncFolder(folderPath) {
    const handle = await fsPromises.open(folderPath, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  mkdir: async (folderPath) => { await fsPromises.mkdir(folderPath, { recursive: true }); },
};
