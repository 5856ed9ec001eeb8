/**
 * One machine's view of the power-loss model (device's PowerLossFiles):
 * the appliance opened before a power cut is a machine that died with it.
 * In one test process its objects live on, and after the cut the model is
 * powered again for the restarted appliance, so anything the old one still
 * tried (its close, a timer's save) would write into the new one's files.
 * This view answers nothing once the machine's power period is over: calls
 * never complete, as on a machine that is off, and synchronous ones fail.
 */
import type { DeviceFiles } from "@switchyard/device";
import type { PowerLossFiles } from "@switchyard/device/testing";

export function machineFiles(files: PowerLossFiles): DeviceFiles {
  const cutsAtStart = files.cuts;
  const alive = (): boolean => files.cuts === cutsAtStart && files.poweredOn;
  const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
  const off = (what: string): Error => Object.assign(new Error(`${what}: this machine lost its power`), { code: "EIO" });
  return {
    open: (filePath, flags) => (alive() ? files.open(filePath, flags) : never()),
    close: (fd) => (alive() ? files.close(fd) : never()),
    read: (fd, buffer, offset, length, position, callback) => { if (alive()) files.read(fd, buffer, offset, length, position, callback); },
    write: (fd, buffer, offset, length, position, callback) => { if (alive()) files.write(fd, buffer, offset, length, position, callback); },
    readSync: (fd, buffer, offset, length, position) => {
      if (!alive()) throw off("read");
      return files.readSync(fd, buffer, offset, length, position);
    },
    writeSync: (fd, buffer, offset, length, position) => {
      if (!alive()) throw off("write");
      return files.writeSync(fd, buffer, offset, length, position);
    },
    fdatasync: (fd, callback) => { if (alive()) files.fdatasync(fd, callback); },
    fsync: (fd) => (alive() ? files.fsync(fd) : never()),
    ftruncate: (fd, sizeBytes) => (alive() ? files.ftruncate(fd, sizeBytes) : never()),
    fstat: (fd) => (alive() ? files.fstat(fd) : never()),
    rename: (fromPath, toPath) => (alive() ? files.rename(fromPath, toPath) : never()),
    syncFolder: (folderPath) => (alive() ? files.syncFolder(folderPath) : never()),
    mkdir: (folderPath) => (alive() ? files.mkdir(folderPath) : never()),
  };
}
