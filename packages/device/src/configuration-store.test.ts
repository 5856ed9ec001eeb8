// Goal: the configuration store never loses an acknowledged state and never
// silently resets: a torn or corrupt newest slot brings back the older state,
// two bad slots are an error, and refused writes change nothing.
// Method: real store files with small slots in a temporary folder; damage is
// done to the file's bytes between close and reopen, at many positions.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import type { StoreState } from "@switchyard/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigurationStore, slotHeaderSizeBytes } from "./configuration-store.js";
import { nodeFiles } from "./device-files.js";
import { temporaryFolder, type TemporaryFolder } from "./testing.js";
import { DiskFaults } from "./testing/disk-faults.js";

const slotSizeBytes = 16 * 1024;
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

function stateOf(generation: number): StoreState {
  return {
    generation,
    volumes: [{ name: `v${generation}`, size_bytes: 8 << 20, extent_size_bytes: 4 << 20, extents: { lu_index: [0, 0], area_index: [generation, generation + 1] } }],
  };
}

/** The sequence number in each slot's header, as written on disk. */
function sequencesOnDisk(): bigint[] {
  const bytes = fs.readFileSync(storePath);
  return [bytes.readBigUInt64LE(16), bytes.readBigUInt64LE(slotSizeBytes + 16)];
}

/** A store whose slot 0 holds generation 1 (sequence 2) and slot 1 generation 2 (sequence 3, the newest). */
async function storeWithTwoStates(): Promise<void> {
  const store = await open();
  await store.write(stateOf(0), 0);
  await store.write(stateOf(1), 1);
  await store.write(stateOf(2), 2);
  await store.close();
  expect(sequencesOnDisk()).toEqual([2n, 3n]);
}

describe("ConfigurationStore", () => {
  it("starts a new file with the empty state at sequence 0", async () => {
    const store = await open();
    const { state, sequence } = store.read();
    expect(sequence).toBe(0);
    expect(state.generation).toBe(0);
    expect(state.volumes).toEqual([]);
    expect(fs.statSync(storePath).size).toBe(2 * slotSizeBytes);
  });

  it("writes slots alternately and survives reopening", async () => {
    const store = await open();
    expect(await store.write(stateOf(1), 0)).toBe(1);
    expect(sequencesOnDisk()).toEqual([0n, 1n]);
    expect(await store.write(stateOf(2), 1)).toBe(2);
    expect(sequencesOnDisk()).toEqual([2n, 1n]);
    await store.close();
    const reopened = await open();
    expect(reopened.read().sequence).toBe(2);
    expect(reopened.read().state.volumes[0]?.name).toBe("v2");
  });

  it("counts a failed write of its file (an fsync failing with EIO) for /metrics, refuses it, and takes the next once the fault clears", async () => {
    const faults = new DiskFaults();
    const store = await ConfigurationStore.open(storePath, { slotSizeBytes, files: faults.decorate(nodeFiles) });
    opened.push(store);
    await store.write(stateOf(1), 0);
    await store.append({ diff: { base_generation: 1, generation: 2, rows: [] } });
    expect(store.writeErrors).toBe(0);
    // A dying disk: the log's fdatasync and the slots' fsync fail.
    faults.set([{ file: "store.slots.log", operations: ["sync"], errno: "EIO" }, { file: "store.slots", operations: ["sync"], errno: "EIO" }]);
    await expect(store.append({ diff: { base_generation: 2, generation: 3, rows: [] } })).rejects.toMatchObject({ code: "IO_FAILED" });
    expect(store.read(), "reads serve the last committed state").toMatchObject({ sequence: 2, state: { generation: 2 } });
    await expect(store.write(stateOf(9), 2)).rejects.toMatchObject({ code: "IO_FAILED" });
    expect(store.writeErrors).toBe(2);

    faults.clear();
    // The recovery first rewrites the same state whole as sequence 3, so a writer that read sequence 2 still writes.
    expect(await store.append({ diff: { base_generation: 2, generation: 3, rows: [] } })).toBe(4);
    await expect(store.write(stateOf(9), 3), "a write based on a state that did change is still stale").rejects.toMatchObject({ code: "STALE_SEQUENCE" });
    await store.close();
    // The failed append's record may be in the file (its bytes were written, only the sync failed): it must stay dead.
    const reopened = await open();
    expect(reopened.read()).toMatchObject({ sequence: 4, state: { generation: 3 } });
  });

  it("leaves a write whose sync failed invalid in the file, so a restart before any recovery does not find it committed", async () => {
    const faults = new DiskFaults();
    const store = await ConfigurationStore.open(storePath, { slotSizeBytes, files: faults.decorate(nodeFiles) });
    opened.push(store);
    await store.write(stateOf(1), 0);
    faults.set([{ file: "store.slots.log", operations: ["sync"], errno: "EIO" }, { file: "store.slots", operations: ["sync"], errno: "EIO" }]);
    await expect(store.append({ diff: { base_generation: 1, generation: 2, rows: [] } })).rejects.toMatchObject({ code: "IO_FAILED" });
    await expect(store.write(stateOf(7), 1)).rejects.toMatchObject({ code: "IO_FAILED" });
    await store.close();
    // The page cache (what a restarted process reads) holds neither the record nor the slot.
    const reopened = await open();
    expect(reopened.read()).toMatchObject({ sequence: 1, state: { generation: 1 } });
  });

  it("refuses a stale expected sequence, and serialises writes that chain", async () => {
    const store = await open();
    await expect(Promise.all([store.write(stateOf(1), 0), store.write(stateOf(2), 1), store.write(stateOf(3), 2)]))
      .resolves.toEqual([1, 2, 3]);
    const racing = await Promise.allSettled([store.write(stateOf(4), 3), store.write(stateOf(5), 3)]);
    expect(racing[0]).toEqual({ status: "fulfilled", value: 4 });
    expect(racing[1]).toMatchObject({ status: "rejected", reason: { code: "STALE_SEQUENCE", currentSequence: 4 } });
    expect(store.read().state.generation).toBe(4);
  });

  it("never shows a reader a write's sequence with the state before it, so a read-modify-write cannot undo another", async () => {
    // Three apparatuses enrolling at once lost one record this way: a reader
    // between the new slot's fsync and the log's emptying saw the new
    // sequence with the old state, and its write over that state was taken.
    const store = await open();
    const seen: { sequence: number; generation: number }[] = [];
    const write = { running: true };
    const written = store.write(stateOf(1), 0).finally(() => { write.running = false; });
    while (write.running) {
      const { state, sequence } = store.read();
      seen.push({ sequence, generation: state.generation });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await written;
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.filter(({ sequence, generation }) => sequence !== generation)).toEqual([]);
  });

  it("applies racing updates each to the state its turn finds: none lost, none refused as stale", async () => {
    const store = await open();
    const names = Array.from({ length: 20 }, (_, index) => `v${index}`);
    const sequences = await Promise.all(names.map((name) => store.update((current) => ({
      ...current, volumes: [...current.volumes, { name, size_bytes: 4 << 20, extent_size_bytes: 4 << 20 }],
    }))));
    expect(sequences.toSorted((left, right) => left - right)).toEqual(names.map((_, index) => index + 1));
    expect(store.read().state.volumes.map((volume) => volume.name).toSorted()).toEqual(names.toSorted());
    // Nothing to change writes nothing; a change that throws refuses, and the state stays.
    await expect(store.update(() => undefined)).resolves.toBe(20);
    await expect(store.update(() => { throw new Error("refused by the change"); })).rejects.toThrow("refused by the change");
    expect(store.read().sequence).toBe(20);
  });

  it("returns the older state when the newest slot is torn or corrupt anywhere", async () => {
    await storeWithTwoStates();
    const pristine = fs.readFileSync(storePath);
    const payloadLengthBytes = pristine.readUInt32LE(slotSizeBytes + 24);
    const damagedBytes = slotHeaderSizeBytes + payloadLengthBytes;
    const damages: [string, (bytes: Buffer) => void][] = [];
    for (let offset = 0; offset < damagedBytes; offset += 3) {
      damages.push([`byte ${offset} flipped`, (bytes) => { bytes[slotSizeBytes + offset] = (bytes[slotSizeBytes + offset] ?? 0) ^ 0x5a; }]);
      damages.push([`torn from ${offset}`, (bytes) => { bytes.fill(0, slotSizeBytes + offset, 2 * slotSizeBytes); }]);
    }
    for (const [name, damage] of damages) {
      const bytes = Buffer.from(pristine);
      damage(bytes);
      fs.writeFileSync(storePath, bytes);
      const store = await ConfigurationStore.open(storePath);
      const { state, sequence } = store.read();
      await store.close();
      expect({ name, sequence, generation: state.generation }).toEqual({ name, sequence: 2, generation: 1 });
    }
  });

  it("writes over the torn slot next, and then uses it", async () => {
    await storeWithTwoStates();
    const bytes = fs.readFileSync(storePath);
    bytes.fill(0, slotSizeBytes + 30, 2 * slotSizeBytes);
    fs.writeFileSync(storePath, bytes);
    const store = await open();
    expect(await store.write(stateOf(9), 2)).toBe(3);
    expect(sequencesOnDisk()).toEqual([2n, 3n]);
    await store.close();
    expect((await open()).read().state.generation).toBe(9);
  });

  it("refuses to open when both slots are corrupt, instead of starting empty", async () => {
    await storeWithTwoStates();
    const bytes = fs.readFileSync(storePath);
    bytes[slotHeaderSizeBytes + 2] = (bytes[slotHeaderSizeBytes + 2] ?? 0) ^ 1;
    bytes[slotSizeBytes + 5] = (bytes[slotSizeBytes + 5] ?? 0) ^ 1;
    fs.writeFileSync(storePath, bytes);
    await expect(open()).rejects.toMatchObject({ name: "StoreCorruptError", code: "STORE_CORRUPT" });
    fs.writeFileSync(storePath, Buffer.alloc(2 * slotSizeBytes));
    await expect(open()).rejects.toMatchObject({ code: "STORE_CORRUPT" });
    fs.writeFileSync(storePath, Buffer.alloc(1000));
    await expect(open()).rejects.toMatchObject({ code: "STORE_CORRUPT" });
  });

  it("refuses a valid slot in an unknown format rather than falling back over it", async () => {
    await storeWithTwoStates();
    const bytes = fs.readFileSync(storePath);
    const header = bytes.subarray(slotSizeBytes, slotSizeBytes + slotHeaderSizeBytes);
    header.writeUInt32LE(2, 8);
    header.writeUInt32LE(zlib.crc32(header.subarray(0, slotHeaderSizeBytes - 4)), slotHeaderSizeBytes - 4);
    fs.writeFileSync(storePath, bytes);
    await expect(open()).rejects.toThrow(/format version 2/);
  });

  it("refuses a state over the slot size, and nothing changes", async () => {
    const store = await open();
    await store.write(stateOf(1), 0);
    const huge: StoreState = { generation: 2, volumes: [{ name: "x".repeat(slotSizeBytes), size_bytes: 1 }] };
    await expect(store.write(huge, 1)).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
    expect(store.read()).toMatchObject({ sequence: 1, state: { generation: 1 } });
    expect(sequencesOnDisk()).toEqual([0n, 1n]);
    await store.close();
    expect((await open()).read()).toMatchObject({ sequence: 1, state: { generation: 1 } });
  });

  it("refuses states that do not fit the schema, and a guard that throws, changing nothing", async () => {
    const store = await open();
    await expect(store.write({ generation: "many" }, 0)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const guard = (): void => { throw new Error("refused by guard"); };
    await expect(store.write(stateOf(1), 0, { guard })).rejects.toThrow("refused by guard");
    expect(store.read().sequence).toBe(0);
    expect(sequencesOnDisk()).toEqual([0n, 0n]);
  });

  it("gives each reader its own copy of the state", async () => {
    const store = await open();
    await store.write(stateOf(1), 0);
    store.read().state.volumes.length = 0;
    expect(store.read().state.volumes).toHaveLength(1);
  });

  it("refuses calls after close", async () => {
    const store = await open();
    await store.close();
    expect(() => store.read()).toThrow(expect.objectContaining({ code: "CLOSED" }));
    await expect(store.write(stateOf(1), 0)).rejects.toMatchObject({ code: "CLOSED" });
  });
});
