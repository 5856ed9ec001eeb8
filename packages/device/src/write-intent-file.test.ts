// Goal: the write-intent record's file keeps every mark a write waited for
// across a power cut, even one that tears the record's own write; it stays
// two slots of a fixed size however many regions are marked; a full record
// makes a write wait for a clearing pass, and refuses it only when every
// marked region is busy; marks clear after a pass, and a stream of writes
// to marked regions costs the file nothing.
// Method: WriteIntents on the power-loss model (testing/power-loss-files.ts)
// with a counting stand-in for the mirrors' flush; the torn write is a power
// cut at the record's own write, settled with many seeds; corruption is
// written into the slots by hand.
import { describe, expect, it } from "vitest";
import { LimitExceededError } from "./errors.js";
import { PowerLossFiles } from "./testing/power-loss-files.js";
import {
  encodeIntentPayload, mirrorIdentityOf, mirrorIntentId, parseIntentPayload, readIntentFile, writeIntentFileName, writeIntentFullWaitsMax,
  WriteIntents, writeIntentSlotBytes, type MirrorIdentity,
} from "./write-intent-file.js";
import { writeIntentPremarkRegionsMax, writeIntentRegionsMax } from "./write-intent.js";

const dir = "/intent";
const filePath = `${dir}/${writeIntentFileName}`;
const identity: MirrorIdentity = { volume: "v", extentIndex: 7, sourceLuId: "lu0", sourceAreaIndex: 1, destinationLuId: "lu1", destinationAreaIndex: 2 };
const mirror = mirrorIntentId(identity);
const tornSeeds = 60;
/** Regions marked before the torn write: some 2.5 KiB listed, five sectors, so the cut can tear between them. */
const markedBefore = 600;

async function openIntents(files: PowerLossFiles, flushes = { count: 0 }): Promise<{ intents: WriteIntents; unreadable: string | undefined }> {
  await files.mkdir(dir);
  return WriteIntents.open(files, dir, () => {
    flushes.count += 1;
    return Promise.resolve();
  });
}

/** The regions the file lists now, read as open reads them. */
async function listed(files: PowerLossFiles): Promise<number[] | string> {
  const fd = await files.open(filePath, "r");
  try {
    const reading = await readIntentFile(files, fd, filePath);
    return typeof reading === "string" ? reading : reading.regions.map((region) => region.regionIndex).sort((left, right) => left - right);
  } finally {
    await files.close(fd);
  }
}

describe("the write-intent record's payload", () => {
  it("names mirrors reversibly and parses back what it encodes, and nothing else", () => {
    expect(mirrorIdentityOf(mirror)).toEqual(identity);
    expect(mirrorIdentityOf("[1,2]")).toBeUndefined();
    const regions = [{ mirrorId: mirror, regionIndex: 3 }, { mirrorId: mirror, regionIndex: 0 }, { mirrorId: mirrorIntentId({ ...identity, extentIndex: 8 }), regionIndex: 1 }];
    expect(parseIntentPayload(encodeIntentPayload(regions))).toEqual(expect.arrayContaining(regions));
    expect(parseIntentPayload(Buffer.alloc(0))).toEqual([]);
    for (const bad of ["{", "{\"formatVersion\":2,\"mirrors\":[]}", "{\"formatVersion\":1,\"mirrors\":[{\"mirror\":\"x\",\"regions\":[1]}]}"]) {
      expect(parseIntentPayload(Buffer.from(bad))).toBeUndefined();
    }
  });

  it("refuses a list that would not fit a slot", () => {
    const long = "x".repeat(writeIntentSlotBytes);
    expect(() => encodeIntentPayload([{ mirrorId: mirrorIntentId({ ...identity, volume: long }), regionIndex: 0 }])).toThrow(LimitExceededError);
  });
});

describe("the write-intent record", () => {
  it("marks before a write, not again for the next writes there, and clears after a pass", async () => {
    const files = new PowerLossFiles();
    const flushes = { count: 0 };
    const { intents, unreadable } = await openIntents(files, flushes);
    expect(unreadable).toBeUndefined();
    await intents.begin(mirror, 2, 3);
    expect(await listed(files)).toEqual([2, 3]);
    intents.end(mirror, 2, 3);
    const operations = files.operations;
    for (let write = 0; write < 100; write += 1) {
      expect(intents.begin(mirror, 2, 2)).toBeUndefined();
      intents.end(mirror, 2, 2);
    }
    expect(files.operations, "writes to marked regions cost the file nothing").toBe(operations);
    await intents.clearNow();
    expect(flushes.count).toBe(1);
    expect(await listed(files)).toEqual([]);
    await intents.close();
  });

  it("marks ahead for a copy without anyone waiting, so that a write there after needs no write of the file, and leaves host writes half the record", async () => {
    const files = new PowerLossFiles();
    const { intents } = await openIntents(files);
    const premarked = intents.premark(mirror, 4, 5);
    expect(intents.markedCount).toBe(2);
    await premarked;
    expect(await listed(files)).toEqual([4, 5]);
    const operations = files.operations;
    expect(intents.begin(mirror, 5, 5), "premarked: durable already").toBeUndefined();
    intents.end(mirror, 5, 5);
    expect(files.operations).toBe(operations);
    // Premarks are let go at once: the next pass clears them.
    await intents.clearNow();
    expect(await listed(files)).toEqual([]);

    // Host writes hold all but one region of the premarks' share: a premark of two is skipped, of one taken.
    await intents.begin(mirror, 100, 100 + writeIntentPremarkRegionsMax - 2);
    await intents.premark(mirror, 0, 1);
    expect(intents.markedCount).toBe(writeIntentPremarkRegionsMax - 1);
    await intents.premark(mirror, 0, 0);
    expect(intents.markedCount).toBe(writeIntentPremarkRegionsMax);
    intents.end(mirror, 100, 100 + writeIntentPremarkRegionsMax - 2);
    await intents.close();
  });

  it("has a write to a region whose version is being written wait for that write alone", async () => {
    const files = new PowerLossFiles();
    const { intents } = await openIntents(files);
    // What one version costs the file: a write to a region not marked yet.
    let operations = files.operations;
    await intents.begin(mirror, 9, 9);
    intents.end(mirror, 9, 9);
    const oneVersion = files.operations - operations;
    operations = files.operations;
    const premarked = intents.premark(mirror, 4, 4);
    // Once the premark's version is on its way.
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = intents.begin(mirror, 4, 4);
    expect(waiting, "not durable yet").toBeInstanceOf(Promise);
    await waiting;
    intents.end(mirror, 4, 4);
    await premarked;
    expect(files.operations - operations, "the premark's version only").toBe(oneVersion);
    expect(await listed(files)).toEqual([4, 9]);
    await intents.close();
  });

  it("keeps the marks written before a power cut that tears its next write, over many seeds", async () => {
    const outcomes = { fellBack: 0, kept: 0 };
    for (let seed = 0; seed < tornSeeds; seed += 1) {
      const files = new PowerLossFiles();
      const { intents } = await openIntents(files);
      // Enough regions that a version spans many sectors, so the cut can tear it.
      await intents.begin(mirror, 0, markedBefore - 1);
      files.powerOffAtOperation(files.operations + 1 + (seed % 2));
      void intents.begin(mirror, markedBefore, markedBefore);
      await files.whenPoweredOff();
      files.cut(seed);
      const after = await listed(files);
      expect(after, `seed ${seed}: a readable version`).not.toBeTypeOf("string");
      const regions = after as number[];
      expect(regions.slice(0, markedBefore), `seed ${seed}: the marks written before the cut`).toEqual(Array.from({ length: markedBefore }, (_, index) => index));
      const reopened = await openIntents(files);
      expect(reopened.unreadable).toBeUndefined();
      expect(reopened.intents.pendingRecopies(mirror).length).toBe(regions.length);
      if (regions.length === markedBefore) outcomes.fellBack += 1;
      else outcomes.kept += 1;
    }
    // Both sides of the cut were seen: versions torn (read from the other slot) and versions kept whole.
    expect(outcomes.fellBack).toBeGreaterThan(0);
    expect(outcomes.kept).toBeGreaterThan(0);
  });

  it("falls back to the other slot when one is damaged, and starts empty (reported) when both are", async () => {
    const files = new PowerLossFiles();
    const { intents } = await openIntents(files);
    await intents.begin(mirror, 4, 4);
    await intents.begin(mirror, 5, 5);
    // Versions 1 (region 4) in slot 1, 2 (regions 4, 5) in slot 0.
    await damage(files, 0);
    files.cut(0);
    expect(await listed(files)).toEqual([4]);
    await damage(files, 1);
    files.cut(0);
    const reopened = await openIntents(files);
    expect(reopened.unreadable).toMatch(/no valid slot/);
    expect(await listed(files)).toEqual([]);
  });

  it("stays two slots however many regions are marked, waits for a pass when full, and refuses only when all are busy", async () => {
    const files = new PowerLossFiles();
    const flushes = { count: 0 };
    const { intents } = await openIntents(files, flushes);
    await intents.begin(mirror, 0, writeIntentRegionsMax - 1);
    expect(intents.markedCount).toBe(writeIntentRegionsMax);
    expect(files.contents(filePath)?.length).toBe(2 * writeIntentSlotBytes);
    await expect(intents.begin(mirror, writeIntentRegionsMax, writeIntentRegionsMax)).rejects.toThrow(LimitExceededError);
    expect(flushes.count).toBe(writeIntentFullWaitsMax);
    // With the writes ended, a pass makes room for the next one.
    intents.end(mirror, 0, writeIntentRegionsMax - 1);
    await intents.begin(mirror, writeIntentRegionsMax, writeIntentRegionsMax);
    expect(intents.markedCount).toBe(1);
    expect(await listed(files)).toEqual([writeIntentRegionsMax]);
    expect(files.contents(filePath)?.length).toBe(2 * writeIntentSlotBytes);
    intents.end(mirror, writeIntentRegionsMax, writeIntentRegionsMax);
    await intents.close();
  });
});

/** Overwrites slot `slotIndex`'s header with garbage, durably. */
async function damage(files: PowerLossFiles, slotIndex: number): Promise<void> {
  const fd = await files.open(filePath, "r+");
  await new Promise<void>((resolve, reject) => {
    files.write(fd, Buffer.alloc(16, 0xee), 0, 16, slotIndex * writeIntentSlotBytes + 8, (error) => { if (error === null) resolve(); else reject(error); });
  });
  await files.fsync(fd);
  await files.close(fd);
}
