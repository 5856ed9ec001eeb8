// Goal: readStoppedDevice finds what opening the device would find (the
// store's checkpoint with the log replayed on it, the arbiter's highest
// epoch, the device's id) and changes no byte, no size and no mtime of any
// file in the folder; a folder without a device is NOT_FOUND.
// Method: a real device (small LUs) in a temporary folder, with a whole
// store write (a checkpoint) and a delta (a log record) under the second
// epoch granted, closed, then read and every file compared before and after.
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readStoppedDevice } from "./device-reading.js";
import { openTestDevice, temporaryFolder, type TemporaryFolder } from "./testing.js";

const mebibyte = 1 << 20;
let folder: TemporaryFolder;

beforeEach(async () => {
  folder = await temporaryFolder();
});

afterEach(async () => {
  await folder.remove();
});

/** Each file's bytes, size and mtime: what "changes nothing" is checked against. */
function folderPrint(dir: string): Record<string, string> {
  const print: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const stats = fs.statSync(path.join(dir, name));
    print[name] = `${stats.size} ${stats.mtimeMs} ${fs.readFileSync(path.join(dir, name)).toString("base64")}`;
  }
  return print;
}

describe("readStoppedDevice", () => {
  it("reads the store (checkpoint and log), the highest epoch and the id, and writes nothing", async () => {
    const device = await openTestDevice(folder.path);
    await device.arbiter.acquire("c1", "", 1000, 0);
    const lease = await device.arbiter.acquire("c2", "", 1000, 5000);
    const { state, sequence } = device.readStore();
    await device.writeStore({
      ...state,
      generation: 1,
      volumes: [{ name: "v", size_bytes: 2 * mebibyte, extent_size_bytes: mebibyte, extents: { lu_index: [0, 0], area_index: [0, 1] } }],
    }, sequence, lease.epoch);
    await device.commitDelta({ journal_entry: { change_id: "c-1" } }, lease.epoch);
    const expected = device.readStore();
    await device.close();
    const before = folderPrint(folder.path);

    const reading = await readStoppedDevice(folder.path);

    expect(reading).toEqual({ deviceId: device.id, extentSizeBytes: device.extentSizeBytes, state: expected.state, sequence: expected.sequence, highestEpoch: lease.epoch });
    expect(reading.state.journal.map((entry) => entry.change_id)).toEqual(["c-1"]);
    expect(folderPrint(folder.path)).toEqual(before);
  });

  it("refuses a folder without a device as NOT_FOUND, creating nothing", async () => {
    await expect(readStoppedDevice(folder.path)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(fs.readdirSync(folder.path)).toEqual([]);
  });
});
