// Goal: a device on a failing disk fails only what touches the fault, with
// the errno a host must get, names the LU that failed, loses nothing it
// acknowledged, and goes on once the fault clears; a store whose fsync fails
// refuses the write, keeps serving its last committed state, and takes the
// next write once the fault clears, across a reopen.
// Method: a real device in a temporary folder, its file port decorated with
// DiskFaults (the same decorator `switchyard up --test-disk-faults` runs),
// switched from the test.
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { nodeFiles } from "../device-files.js";
import { toNbdError, logicalUnitBlockIo } from "../lu-exports.js";
import { StorageDevice } from "../storage-device.js";
import { openTestDevice, temporaryFolder, type TemporaryFolder } from "../testing.js";
import { ControlledDiskFaults, DiskFaults } from "./disk-faults.js";

const blockBytes = 4096;
const badOffsetBytes = 3 << 20;
const badLengthBytes = 64 * 1024;

let folder: TemporaryFolder;
let device: StorageDevice | undefined;
beforeEach(async () => { folder = await temporaryFolder(); });
afterEach(async () => {
  await device?.close();
  device = undefined;
  await folder.remove();
});

function block(fill: number): Buffer {
  return Buffer.alloc(blockBytes, fill);
}

describe("DiskFaults", () => {
  it("fails LU reads and writes touching the range with EIO, counts them on the LU, and loses nothing acknowledged", async () => {
    const faults = new DiskFaults();
    await (await openTestDevice(folder.path, { luCount: 1 })).close();
    device = await StorageDevice.open({ dir: folder.path, files: faults.decorate(nodeFiles) });
    const lu = device.lus[0];
    if (lu === undefined) throw new Error("no lu0");
    const io = logicalUnitBlockIo(lu);
    await io.write(badOffsetBytes, block(0x11), true);
    await io.write(badOffsetBytes + badLengthBytes, block(0x22), true);
    faults.set([{ file: "lu0.img", operations: ["read", "write"], offsetBytes: badOffsetBytes, lengthBytes: badLengthBytes, errno: "EIO" }]);

    await expect(io.read(badOffsetBytes, Buffer.alloc(blockBytes))).rejects.toMatchObject({ code: "EIO" });
    // A request straddling the range's end fails whole.
    await expect(io.write(badOffsetBytes + badLengthBytes - 512, block(0x33), false)).rejects.toMatchObject({ code: "EIO" });
    const outside = Buffer.alloc(blockBytes);
    await io.read(badOffsetBytes + badLengthBytes, outside);
    expect(outside.equals(block(0x22))).toBe(true);
    expect(lu.ioErrors).toMatchObject({ readErrors: 1, writeErrors: 1, flushErrors: 0 });
    expect(lu.ioErrors.lastError).toMatch(/^IO_FAILED: writing lu0 at \d+ failed: EIO/);

    faults.clear();
    const again = Buffer.alloc(blockBytes);
    await io.read(badOffsetBytes, again);
    expect(again.equals(block(0x11)), "the acknowledged write in the range is intact").toBe(true);
    await io.write(badOffsetBytes, block(0x44), true);
    expect(faults.failedCount).toBe(2);
  });

  it("gives ENOSPC as the device's NO_SPACE, which a host gets as ENOSPC", async () => {
    const faults = new DiskFaults();
    await (await openTestDevice(folder.path, { luCount: 1 })).close();
    device = await StorageDevice.open({ dir: folder.path, files: faults.decorate(nodeFiles) });
    const lu = device.lus[0];
    if (lu === undefined) throw new Error("no lu0");
    faults.set([{ file: "lu0.img", operations: ["write"], errno: "ENOSPC" }]);
    const failure = await lu.write(0, block(1), false).then(() => undefined, (error: unknown) => error);
    expect(failure).toMatchObject({ code: "NO_SPACE" });
    expect(toNbdError(failure).code).toBe("ENOSPC");
    await expect(logicalUnitBlockIo(lu).write(0, block(1), false)).rejects.toMatchObject({ code: "ENOSPC" });
  });

  it("a store whose fsync fails refuses the write, keeps its last committed state, and takes the next write once it clears", async () => {
    const faults = new DiskFaults();
    await (await openTestDevice(folder.path, { luCount: 1 })).close();
    device = await StorageDevice.open({ dir: folder.path, files: faults.decorate(nodeFiles) });
    const { epoch } = await device.arbiter.acquire("controller", "", 60_000, 0);
    const committed = device.readStore();
    const generation = committed.state.generation;
    const next = { ...committed.state, generation: generation + 1 };

    faults.set([{ file: "store.slots", operations: ["sync"], errno: "EIO" }, { file: "store.slots.log", operations: ["sync"], errno: "EIO" }]);
    await expect(device.writeStore(next, committed.sequence, epoch)).rejects.toMatchObject({ code: "IO_FAILED", message: expect.stringMatching(/store\.slots failed: EIO/) as unknown });
    expect(device.readStore().state.generation, "reads serve the last committed generation").toBe(generation);
    // While the fault lasts, every write fails again (in the recovery that comes first), and nothing crashes.
    await expect(device.writeStore(next, device.readStore().sequence, epoch)).rejects.toMatchObject({ code: "IO_FAILED" });
    expect(device.store.writeErrors).toBe(2);

    faults.clear();
    const snapshot = device.readStore();
    expect(snapshot.state.generation).toBe(generation);
    await device.writeStore({ ...snapshot.state, generation: generation + 1 }, snapshot.sequence, epoch);
    await device.close();
    device = await StorageDevice.open({ dir: folder.path });
    expect(device.readStore().state.generation, "the write after the fault is durable").toBe(generation + 1);
  });

  it("reads its faults from a control file, again whenever the file is replaced", async () => {
    const controlPath = path.join(folder.path, "faults.json");
    const faults = new ControlledDiskFaults(controlPath);
    expect(faults.failure("/x/lu0.img", "read", 0, 512)).toBeUndefined();
    await fs.writeFile(`${controlPath}.new`, JSON.stringify([{ file: "lu0.img", operations: ["read"], offsetBytes: 0, lengthBytes: 512, errno: "EIO" }]));
    await fs.rename(`${controlPath}.new`, controlPath);
    expect(faults.failure("/x/lu0.img", "read", 256, 512)?.code).toBe("EIO");
    expect(faults.failure("/x/lu0.img", "read", 512, 512)).toBeUndefined();
    expect(faults.failure("/x/lu0.img", "write", 0, 512)).toBeUndefined();
    await fs.rm(controlPath);
    expect(faults.failure("/x/lu0.img", "read", 0, 512)).toBeUndefined();
  });
});
