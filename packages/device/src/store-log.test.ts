// Goal: commits sent as deltas (the store's log) are as safe as whole-state
// writes: every acknowledged delta survives reopening, a torn last record
// brings back the state before it, a torn checkpoint falls back to the older
// slot plus the log, bad deltas change nothing, and the log is folded into a
// slot every checkpointLogRecordsMax records. Method: real store files in a
// temporary folder, damaged between close and reopen.
import fs from "node:fs";
import path from "node:path";
import { encodeStoreDelta, type StoreDelta, type StoreState } from "@switchyard/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigurationStore, checkpointLogRecordsMax, logPathOf } from "./configuration-store.js";
import { encodeLogRecord, logRecordHeaderSizeBytes } from "./store-log.js";
import { temporaryFolder, type TemporaryFolder } from "./testing.js";

const slotSizeBytes = 64 * 1024;
const extentCount = 8;
let folder: TemporaryFolder;
let storePath: string;
const opened: ConfigurationStore[] = [];

beforeEach(async () => {
  folder = await temporaryFolder();
  storePath = path.join(folder.path, "store.slots");
});

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((store) => store.close()));
  await folder.remove();
});

async function open(): Promise<ConfigurationStore> {
  const store = await ConfigurationStore.open(storePath, { slotSizeBytes });
  opened.push(store);
  return store;
}

/** Generation 1: volume v on LU 0, areas 0..7. */
const base: StoreState = {
  generation: 1,
  lus: [{ index: 0, id: "lu0" }, { index: 1, id: "lu1" }],
  volumes: [{ name: "v", size_bytes: extentCount << 20, extent_size_bytes: 1 << 20, extents: { lu_index: Array<number>(extentCount).fill(0), area_index: [0, 1, 2, 3, 4, 5, 6, 7] } }],
};

/** Moves extent `extentIndex` to area `areaIndex` of LU 1: generation g to g + 1, with its journal entry. */
function move(generation: number, extentIndex: number, areaIndex: number): StoreDelta {
  return {
    diff: { base_generation: generation, generation: generation + 1, rows: [{ volume: "v", extent_index: extentIndex, lu_index: 1, area_index: areaIndex }] },
    journal_entry: { change_id: `move-${generation + 1}`, kind: "move", state: "CHANGE_STATE_COMMITTED" },
  };
}

const logMagic = Buffer.from("SWYDLOG1", "latin1");

/** Where each record of the log starts, and the end of the last one; the zeroes after them are not records. */
function recordStarts(bytes: Buffer): number[] {
  const starts = [0];
  for (let offset = 0; bytes.subarray(offset, offset + logMagic.length).equals(logMagic); starts.push(offset)) {
    offset += logRecordHeaderSizeBytes + bytes.readUInt32LE(offset + 16);
  }
  return starts;
}

function logRecordCount(): number {
  return recordStarts(fs.readFileSync(logPathOf(storePath))).length - 1;
}

async function storeWithMoves(count: number): Promise<void> {
  const store = await open();
  await store.write(base, 0);
  for (let index = 0; index < count; index += 1) await store.append(move(1 + index, index, 10 + index));
  await store.close();
}

describe("ConfigurationStore log", () => {
  it("replays every appended delta after reopening", async () => {
    await storeWithMoves(3);
    const { state, sequence } = (await open()).read();
    expect(sequence).toBe(4);
    expect(state.generation).toBe(4);
    expect(state.volumes[0]?.extents?.lu_index).toEqual([1, 1, 1, 0, 0, 0, 0, 0]);
    expect(state.volumes[0]?.extents?.area_index).toEqual([10, 11, 12, 3, 4, 5, 6, 7]);
    expect(state.journal.map((entry) => entry.change_id)).toEqual(["move-2", "move-3", "move-4"]);
  });

  it("updates a journal entry in place without a diff", async () => {
    const store = await open();
    await store.write(base, 0);
    await store.append(move(1, 0, 10));
    await store.append({ journal_entry: { change_id: "move-2", kind: "move", summary: "final", state: "CHANGE_STATE_COMMITTED" } });
    const { state } = store.read();
    expect(state.generation).toBe(2);
    expect(state.journal.map((entry) => [entry.change_id, entry.summary])).toEqual([["move-2", "final"]]);
  });

  it("refuses a diff from another generation, or of a missing extent, and changes nothing", async () => {
    const store = await open();
    await store.write(base, 0);
    const before = store.read();
    await expect(store.append(move(5, 0, 10))).rejects.toMatchObject({ code: "STALE_GENERATION" });
    await expect(store.append(move(1, extentCount, 10))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(store.read()).toEqual(before);
    expect(logRecordCount()).toBe(0);
  });

  it("drops a torn last record, and only it, wherever it was cut", async () => {
    await storeWithMoves(3);
    const pristine = fs.readFileSync(logPathOf(storePath));
    const starts = recordStarts(pristine);
    expect(starts).toHaveLength(4);
    for (let cut = starts[2] ?? 0; cut < (starts[3] ?? 0); cut += 5) {
      fs.writeFileSync(logPathOf(storePath), pristine.subarray(0, cut));
      const store = await ConfigurationStore.open(storePath);
      const { state, sequence } = store.read();
      await store.append(move(3, 7, 20));
      await store.close();
      expect({ cut, sequence, generation: state.generation }).toEqual({ cut, sequence: 3, generation: 3 });
      const reopened = await ConfigurationStore.open(storePath);
      expect(reopened.read().state.volumes[0]?.extents?.area_index[7]).toBe(20);
      await reopened.close();
    }
  });

  it("keeps the log's preallocated size, and never reads what a longer torn record left behind the next one", async () => {
    await storeWithMoves(1);
    expect(fs.statSync(logPathOf(storePath)).size).toBe(slotSizeBytes);
    const bytes = fs.readFileSync(logPathOf(storePath));
    const [, end = 0] = recordStarts(bytes);
    // A torn append of a big record, with a valid record of the next sequence inside it exactly where the next small append ends.
    const small: StoreDelta = { journal_entry: { change_id: "small", kind: "test" } };
    const smallBytes = encodeLogRecord(3, Buffer.from(encodeStoreDelta(small))).length;
    const planted = encodeLogRecord(4, Buffer.from(encodeStoreDelta(move(3, 5, 30))));
    bytes.fill(0x77, end, end + smallBytes + planted.length + 100);
    planted.copy(bytes, end + smallBytes);
    fs.writeFileSync(logPathOf(storePath), bytes);
    const store = await open();
    expect(store.read().sequence).toBe(2);
    await store.append(small);
    await store.close();
    const { state, sequence } = (await open()).read();
    expect(sequence).toBe(3);
    expect(state.volumes[0]?.extents?.area_index[5]).toBe(5);
  });

  it("refuses a log with a gap in its sequence instead of skipping records", async () => {
    await storeWithMoves(3);
    const bytes = fs.readFileSync(logPathOf(storePath));
    const [, second = 0, third = 0] = recordStarts(bytes);
    fs.writeFileSync(logPathOf(storePath), Buffer.concat([bytes.subarray(0, second), bytes.subarray(third)]));
    await expect(open()).rejects.toMatchObject({ code: "STORE_CORRUPT" });
  });

  it("folds the log into a slot every checkpointLogRecordsMax records; a checkpoint torn before the log was emptied falls back to slot and log", async () => {
    const store = await open();
    await store.write(base, 0);
    const entry = (index: number): StoreDelta => ({ journal_entry: { change_id: `c${index}`, kind: "test" } });
    for (let index = 0; index < checkpointLogRecordsMax - 1; index += 1) await store.append(entry(index));
    const logBeforeCheckpoint = fs.readFileSync(logPathOf(storePath));
    await store.append(entry(checkpointLogRecordsMax - 1));
    await store.close();
    expect(logRecordCount()).toBe(0);
    const lastSequence = checkpointLogRecordsMax + 1;
    const checkpointed = await open();
    expect(checkpointed.read().sequence).toBe(lastSequence);
    await checkpointed.close();
    // The crash: the checkpoint's slot (slot 0; the whole write went to slot 1) torn, the log not yet emptied.
    const lastRecord = encodeLogRecord(lastSequence, Buffer.from(encodeStoreDelta(entry(checkpointLogRecordsMax - 1))));
    const recordsBeforeCheckpoint = logBeforeCheckpoint.subarray(0, recordStarts(logBeforeCheckpoint).at(-1));
    fs.writeFileSync(logPathOf(storePath), Buffer.concat([recordsBeforeCheckpoint, lastRecord]));
    const slots = fs.readFileSync(storePath);
    slots.fill(0, 100, slotSizeBytes);
    fs.writeFileSync(storePath, slots);
    const recovered = (await open()).read();
    expect(recovered.sequence).toBe(lastSequence);
    expect(recovered.state.journal.map((journalEntry) => journalEntry.change_id)).toEqual(
      Array.from({ length: checkpointLogRecordsMax }, (_, index) => `c${index}`),
    );
  });
});
