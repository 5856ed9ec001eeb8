/**
 * A planted bug for proving the power-loss harness: a DeviceFiles decorator
 * whose fdatasync and fsync of chosen files succeed without doing anything,
 * as a store that forgot to sync (or a disk that lies) would. A harness that
 * does not catch this cannot be trusted to catch a real missing sync.
 */
import type { DeviceFiles, DoneCallback } from "../device-files.js";

/** `files`, except that syncs of files whose path `skips` are answered at once and do nothing. */
export function lyingSyncs(files: DeviceFiles, skips: (filePath: string) => boolean): DeviceFiles {
  const pathByDescriptor = new Map<number, string>();
  const skipped = (fd: number): boolean => {
    const filePath = pathByDescriptor.get(fd);
    return filePath !== undefined && skips(filePath);
  };
  return {
    ...bindAll(files),
    open: async (filePath, flags, modeBits) => {
      const fd = await files.open(filePath, flags, modeBits);
      pathByDescriptor.set(fd, filePath);
      return fd;
    },
    fdatasync(fd: number, callback: DoneCallback): void {
      if (skipped(fd)) setImmediate(() => { callback(null); });
      else files.fdatasync(fd, callback);
    },
    fsync: (fd) => (skipped(fd) ? Promise.resolve() : files.fsync(fd)),
  };
}

/** The port's methods bound to `files`, so that a decorator can spread them. */
function bindAll(files: DeviceFiles): DeviceFiles {
  return {
    open: (filePath, flags, modeBits) => files.open(filePath, flags, modeBits),
    close: (fd) => files.close(fd),
    read: (fd, buffer, offset, length, position, callback) => { files.read(fd, buffer, offset, length, position, callback); },
    write: (fd, buffer, offset, length, position, callback) => { files.write(fd, buffer, offset, length, position, callback); },
    readSync: (fd, buffer, offset, length, position) => files.readSync(fd, buffer, offset, length, position),
    writeSync: (fd, buffer, offset, length, position) => files.writeSync(fd, buffer, offset, length, position),
    fdatasync: (fd, callback) => { files.fdatasync(fd, callback); },
    fsync: (fd) => files.fsync(fd),
    ftruncate: (fd, sizeBytes) => files.ftruncate(fd, sizeBytes),
    fstat: (fd) => files.fstat(fd),
    rename: (fromPath, toPath) => files.rename(fromPath, toPath),
    syncFolder: (folderPath) => files.syncFolder(folderPath),
    mkdir: (folderPath) => files.mkdir(folderPath),
  };
}
