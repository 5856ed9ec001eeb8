// Goal: an area in mirror state ends byte-identical to its source however
// host writes race the chunked copy; the copy resumes from its saved
// watermark after a reopen; a commit that remaps the extent ends the mirror;
// writes elsewhere are not mirrored; holes are not copied; after an unclean
// stop the regions the write-intent record marked are copied again.
// Method: real LU files in a temporary folder; seeded random writes of mixed
// sizes, some across chunk boundaries and the area's edges, through
// LogicalUnit.write while the device copies.
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StoreState__Output } from "@switchyard/proto";
import { nodeFiles, type DeviceFiles } from "./device-files.js";
import { DeviceMirrors, mirrorChunkBytes, mirrorListWaitMaxMs } from "./device-mirrors.js";
import type { StartMirrorRequest } from "./mirror-records.js";
import { ExternalLus } from "./external-lu.js";
import { LogicalUnit } from "./logical-unit.js";
import { NbdError, NbdServer } from "@switchyard/nbd";
import { MemoryExportProvider, type MemoryOperationGate } from "@switchyard/nbd/testing";
import { temporaryFolder, type TemporaryFolder } from "./testing.js";
import { writeIntentRegionBytes } from "./write-intent.js";

const areaBytes = 8 << 20;
const luBytes = 4 * areaBytes;
let folder: TemporaryFolder;
const opened: { close(): Promise<void> }[] = [];

beforeEach(async () => {
  folder = await temporaryFolder();
});

afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close().catch(() => undefined);
  await folder.remove();
});

async function openLus(files: DeviceFiles = nodeFiles): Promise<{ lu0: LogicalUnit; lu1: LogicalUnit; byId: (id: string) => LogicalUnit }> {
  const open = async (id: string): Promise<LogicalUnit> => {
    // syncIo off: every write is in flight for a while, so copies and writes overlap.
    const options = { id, path: path.join(folder.path, `${id}.img`), sizeBytes: luBytes, extentSizeBytes: areaBytes, syncIo: false, files };
    const lu = await LogicalUnit.open(options).catch(() => LogicalUnit.create(options));
    opened.push(lu);
    return lu;
  };
  const lu0 = await open("lu0");
  const lu1 = await open("lu1");
  return { lu0, lu1, byId: (id) => (id === "lu0" ? lu0 : lu1) };
}

/** The mirrors, reopened against a committed table that has `request`'s mirror unless another is given. */
async function openMirrors(byId: (id: string) => LogicalUnit, committed = tableWith({ luIndex: 0, areaIndex: 1, mirrorLuPlusOne: 2 })): Promise<DeviceMirrors> {
  const mirrors = await DeviceMirrors.open(folder.path, {
    own: byId,
    external: (id) => { throw new Error(`no external LU ${id} here`); },
  }, committed);
  opened.push(mirrors);
  return mirrors;
}

/** A small deterministic generator, so a failure replays. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function filled(lengthBytes: number, next: () => number): Buffer {
  const buffer = Buffer.allocUnsafe(lengthBytes);
  for (let index = 0; index < lengthBytes; index += 1) buffer[index] = Math.floor(next() * 256);
  return buffer;
}

async function readArea(lu: LogicalUnit, areaIndex: number): Promise<Buffer> {
  const buffer = Buffer.alloc(areaBytes);
  await lu.read(lu.areaOffsetBytes(areaIndex), buffer);
  return buffer;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Volume v, extent 0, from lu0 area 1 to lu1 area 2. */
const request: StartMirrorRequest = {
  volume: "v", extentIndex: 0, sourceLuId: "lu0", sourceAreaIndex: 1, destinationLuId: "lu1", destinationAreaIndex: 2,
  watermarkBytes: 0, group: "m1", rateBytesPerSecond: 0,
};

/** The committed table of volume v's one extent: its LU and area, and its mirror's LU plus one (0: none) to area 2. */
function tableWith(extent: { luIndex: number; areaIndex: number; mirrorLuPlusOne: number }): StoreState__Output {
  return {
    lus: [{ id: "lu0", index: 0 }, { id: "lu1", index: 1 }],
    volumes: [{ name: "v", extents: { lu_index: [extent.luIndex], area_index: [extent.areaIndex], mirror_lu_index_plus_one: [extent.mirrorLuPlusOne], mirror_area_index: [2] } }],
  } as unknown as StoreState__Output;
}

/** Writes at random places of lu0 areas 0-2 (the mirrored one, its neighbours, across their edges) until `stop`. */
async function writeLoad(lu0: LogicalUnit, seed: number, stop: () => boolean): Promise<number> {
  const next = random(seed);
  let writes = 0;
  const writer = async (): Promise<void> => {
    while (!stop()) {
      const lengthBytes = [512, 4096, 65536, mirrorChunkBytes + 4096][Math.floor(next() * 4)] ?? 4096;
      const offsetBytes = Math.floor(next() * (3 * areaBytes - lengthBytes) / 512) * 512;
      await lu0.write(offsetBytes, filled(lengthBytes, next), next() < 0.1);
      writes += 1;
    }
  };
  await Promise.all([writer(), writer(), writer(), writer()]);
  return writes;
}

/** How late the slow file's writes land: far longer than starting a mirror takes. */
const slowWriteMs = 300;

/** A mirror of `request` in sync over LU files whose writes land slowWriteMs late once `slow.on` is set. */
async function syncedOverSlowFiles(): Promise<{ slow: { on: boolean }; lu0: LogicalUnit; lu1: LogicalUnit; mirrors: DeviceMirrors }> {
  const { slow, files } = sometimesSlowFiles();
  const { lu0, lu1, byId } = await openLus(files);
  const mirrors = await openMirrors(byId);
  await mirrors.start(request);
  await until(() => mirrors.list()[0]?.synced === true, "the mirror to be in sync");
  return { slow, lu0, lu1, mirrors };
}

/** LU files whose writes land slowWriteMs late while `slow.on`. */
function sometimesSlowFiles(): { slow: { on: boolean }; files: DeviceFiles } {
  const slow = { on: false };
  const files: DeviceFiles = {
    ...nodeFiles,
    write: (fd, buffer, offset, length, position, callback) => {
      if (!slow.on) { nodeFiles.write(fd, buffer, offset, length, position, callback); return; }
      setTimeout(() => { nodeFiles.write(fd, buffer, offset, length, position, callback); }, slowWriteMs);
    },
  };
  return { slow, files };
}
/** How long writes outside the chunk being copied may take on a busy machine, in milliseconds. */
const otherWritesWaitMs = 5_000;
/** Vitest's limit per test, in real milliseconds: a copy under racing writes took over 5 s on a busy shared machine. */
const mirrorTestTimeoutMs = 30_000;

describe("DeviceMirrors", { timeout: mirrorTestTimeoutMs }, () => {
  it("ends with the destination area equal to the source under racing writes, and mirrors nothing else", async () => {
    const { lu0, lu1, byId } = await openLus();
    await lu0.write(0, filled(3 * areaBytes, random(1)), false);
    const mirrors = await openMirrors(byId);
    let stop = false;
    const load = writeLoad(lu0, 2, () => stop);
    await mirrors.start(request);
    await until(() => mirrors.list()[0]?.synced === true, "the mirror to be in sync");
    // Writes go on to both areas once in sync.
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop = true;
    expect(await load).toBeGreaterThan(20);
    expect((await readArea(lu1, 2)).equals(await readArea(lu0, 1))).toBe(true);
    // Neighbouring areas of lu1 got nothing.
    expect((await readArea(lu1, 1)).equals(Buffer.alloc(areaBytes))).toBe(true);
    expect((await readArea(lu1, 3)).equals(Buffer.alloc(areaBytes))).toBe(true);
    expect(mirrors.list()[0]).toMatchObject({ watermarkBytes: areaBytes, failure: "" });
  });

  it("copies only the data of a mostly empty area: holes on both sides are not written, old data at the destination is zeroed", async () => {
    const { lu0, lu1, byId } = await openLus();
    const data = filled(mirrorChunkBytes / 2, random(3));
    await lu0.write(lu0.areaOffsetBytes(1) + 3 * mirrorChunkBytes, data, false);
    // Stale bytes in the destination area, where the source has a hole.
    await lu1.write(lu1.areaOffsetBytes(2) + 5 * mirrorChunkBytes, Buffer.alloc(4096, 0xee), true);
    const allocatedBefore = fs.statSync(lu1.path).blocks * 512;
    const mirrors = await openMirrors(byId);
    await mirrors.start(request);
    await until(() => mirrors.list()[0]?.synced === true, "the mirror to be in sync");
    expect((await readArea(lu1, 2)).equals(await readArea(lu0, 1))).toBe(true);
    // One chunk of data was written, and the stale chunk zeroed; the other six chunks stay holes.
    expect(fs.statSync(lu1.path).blocks * 512 - allocatedBefore).toBeLessThanOrEqual(2 * mirrorChunkBytes);
  });

  it("resumes a copy from its saved watermark after a reopen", async () => {
    const first = await openLus();
    await first.lu0.write(0, filled(3 * areaBytes, random(3)), false);
    const slow = await openMirrors(first.byId);
    // 4 chunks a second: a few chunks in, then stopped.
    await slow.start({ ...request, rateBytesPerSecond: 4 * mirrorChunkBytes });
    await until(() => (slow.list()[0]?.watermarkBytes ?? 0) >= 2 * mirrorChunkBytes, "two chunks copied");
    await slow.close();
    await Promise.all([first.lu0.close(), first.lu1.close()]);

    const second = await openLus();
    const mirrors = await openMirrors(second.byId);
    const resumed = mirrors.list()[0];
    expect(resumed?.watermarkBytes).toBeGreaterThanOrEqual(2 * mirrorChunkBytes);
    expect(resumed?.synced).toBe(false);
    expect(resumed?.rateBytesPerSecond).toBe(4 * mirrorChunkBytes);
    await second.lu0.write(second.lu0.areaOffsetBytes(1) + 100, filled(5000, random(4)), false);
    await mirrors.start({ ...request, rateBytesPerSecond: 4 * mirrorChunkBytes });
    await until(() => mirrors.list()[0]?.synced === true, "the resumed mirror to be in sync");
    expect((await readArea(second.lu1, 2)).equals(await readArea(second.lu0, 1))).toBe(true);
  });

  it("copies a region marked in the write-intent record again after an unclean stop, and is not in sync until it has", async () => {
    const first = await openLus();
    await first.lu0.write(first.lu0.areaOffsetBytes(1), filled(areaBytes, random(5)), false);
    const mirrors = await openMirrors(first.byId);
    await mirrors.start(request);
    await until(() => mirrors.list()[0]?.synced === true, "the mirror to be in sync");
    // A host write in region 3, then a torn copy of it on the destination: what a crash amid the two writes may leave.
    const atBytes = 3 * writeIntentRegionBytes + 4096;
    await first.lu0.write(first.lu0.areaOffsetBytes(1) + atBytes, filled(8192, random(6)), true);
    await first.lu1.writeDirect(first.lu1.areaOffsetBytes(2) + atBytes, filled(4096, random(7)), true);
    // Stopped without closing the mirrors, well within the second a mark outlives its last write.
    await Promise.all([first.lu0.close(), first.lu1.close()]);

    const second = await openLus();
    const reopened = await openMirrors(second.byId);
    expect(reopened.list()[0]?.synced).toBe(false);
    await until(() => reopened.list()[0]?.synced === true, "the region copied again");
    expect((await readArea(second.lu1, 2)).equals(await readArea(second.lu0, 1))).toBe(true);
  });

  it("copies nothing into the extent's new home after a reopen that finds a mirror the committed table has ended (a crash just after the switch)", async () => {
    const first = await openLus();
    await first.lu0.write(first.lu0.areaOffsetBytes(1), filled(areaBytes, random(9)), false);
    const mirrors = await openMirrors(first.byId);
    await mirrors.start(request);
    await until(() => mirrors.list()[0]?.synced === true, "the mirror to be in sync");
    // A mirrored write marks its region; the switch commits; a host write lands in the new home, lu1 area 2.
    await first.lu0.write(first.lu0.areaOffsetBytes(1) + 4096, filled(4096, random(10)), true);
    const afterSwitch = filled(8192, random(11));
    await first.lu1.write(first.lu1.areaOffsetBytes(2) + 4096, afterSwitch, true);
    // The crash: neither mirrors.json nor the write-intent record learnt of the switch.
    await Promise.all([first.lu0.close(), first.lu1.close()]);

    const second = await openLus();
    const reopened = await openMirrors(second.byId, tableWith({ luIndex: 1, areaIndex: 2, mirrorLuPlusOne: 0 }));
    expect(reopened.list()).toEqual([]);
    await reopened.close();
    const home = await readArea(second.lu1, 2);
    expect(home.subarray(4096, 4096 + afterSwitch.length).equals(afterSwitch)).toBe(true);
  });

  it("copies a write that was on its way to the source when the mirror started only once it has landed", async () => {
    // Every write to an LU file lands slowWriteMs late, as on a disk busy with writeback.
    const slowWrites: DeviceFiles = {
      ...nodeFiles,
      write: (fd, buffer, offset, length, position, callback) => { setTimeout(() => { nodeFiles.write(fd, buffer, offset, length, position, callback); }, slowWriteMs); },
    };
    const { lu0, lu1, byId } = await openLus(slowWrites);
    const mirrors = await openMirrors(byId);
    const data = filled(65536, random(12));
    const writing = lu0.write(lu0.areaOffsetBytes(1) + 4096, data, false);
    await mirrors.start(request);
    await writing;
    await until(() => mirrors.list()[0]?.synced === true, "the mirror to be in sync");
    expect((await readArea(lu1, 2)).equals(await readArea(lu0, 1))).toBe(true);
  });

  it("answers the commit that ends a mirror only once the mirrored writes under way have landed: nothing reaches the freed destination after", async () => {
    const { slow, lu0, lu1, mirrors } = await syncedOverSlowFiles();
    slow.on = true;
    const writing = lu0.write(lu0.areaOffsetBytes(1), filled(4096, random(13)), false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The volume deleted under I/O (a commit that holds no writes): the mirror ends, its destination is free.
    let answered = false;
    const deleted = { lus: [{ id: "lu0", index: 0 }, { id: "lu1", index: 1 }], volumes: [] } as unknown as StoreState__Output;
    const committing = mirrors.afterCommit(deleted).then(() => { answered = true; });
    await new Promise((resolve) => setTimeout(resolve, slowWriteMs / 2));
    expect(answered).toBe(false);
    await Promise.all([writing, committing]);
    slow.on = false;
    const destination = await readArea(lu1, 2);
    await lu0.write(lu0.areaOffsetBytes(1), filled(4096, random(14)), false);
    expect((await readArea(lu1, 2)).equals(destination)).toBe(true);
  });

  it("takes I/O addressed to the destination as the source's while it mirrors, racing the copy, and the destination's own once the switch ends it", async () => {
    const { lu0, lu1, byId } = await openLus();
    await lu0.write(lu0.areaOffsetBytes(1), filled(areaBytes, random(21)), false);
    const mirrors = await openMirrors(byId);
    const next = random(22);
    // Four writers, each write through either area, while the copy runs and after it is in sync.
    let stop = false;
    const writer = async (): Promise<void> => {
      while (!stop) {
        const lengthBytes = [512, 4096, 65536][Math.floor(next() * 3)] ?? 4096;
        const offsetBytes = Math.floor(next() * (areaBytes - lengthBytes) / 512) * 512;
        const [lu, areaIndex] = next() < 0.5 ? [lu0, 1] : [lu1, 2];
        await lu.write(lu.areaOffsetBytes(areaIndex) + offsetBytes, filled(lengthBytes, next), next() < 0.1);
      }
    };
    const load = Promise.all([writer(), writer(), writer(), writer()]);
    await mirrors.start(request);
    await until(() => mirrors.list()[0]?.synced === true, "the mirror to be in sync");
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop = true;
    await load;
    const source = await readArea(lu0, 1);
    // What each LU file holds, past the mirror: the same bytes.
    const direct = Buffer.alloc(areaBytes);
    await lu1.readDirect(lu1.areaOffsetBytes(2), direct);
    expect(direct.equals(source)).toBe(true);
    // A read of the destination comes from the source: a byte only the destination's file has is not seen.
    await lu1.writeDirect(lu1.areaOffsetBytes(2), Buffer.alloc(512, 0xd5), false);
    expect((await readArea(lu1, 2)).equals(source)).toBe(true);
    await lu1.write(lu1.areaOffsetBytes(2), Buffer.alloc(512, 0x5d), false);
    expect((await readArea(lu0, 1)).subarray(0, 512).every((byte) => byte === 0x5d)).toBe(true);
    // The switch: the extent lives on the destination, which takes its own I/O again; the old source none.
    await mirrors.afterCommit(tableWith({ luIndex: 1, areaIndex: 2, mirrorLuPlusOne: 0 }));
    await lu1.write(lu1.areaOffsetBytes(2) + 4096, Buffer.alloc(512, 0x7e), false);
    expect((await readArea(lu1, 2)).subarray(4096, 4608).every((byte) => byte === 0x7e)).toBe(true);
    expect((await readArea(lu0, 1)).subarray(4096, 4608).equals(source.subarray(4096, 4608))).toBe(true);
  });

  it("sends a write to the destination that waited behind another when the switch ended the mirror to the destination, not the old source", async () => {
    const { slow, lu0, lu1, mirrors } = await syncedOverSlowFiles();
    slow.on = true;
    const first = lu1.write(lu1.areaOffsetBytes(2), Buffer.alloc(4096, 0x11), false);
    const second = lu1.write(lu1.areaOffsetBytes(2), Buffer.alloc(4096, 0x22), false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await mirrors.afterCommit(tableWith({ luIndex: 1, areaIndex: 2, mirrorLuPlusOne: 0 }));
    await Promise.all([first, second]);
    slow.on = false;
    expect((await readArea(lu1, 2)).subarray(0, 4096).every((byte) => byte === 0x22)).toBe(true);
    expect((await readArea(lu0, 1)).subarray(0, 4096).every((byte) => byte === 0x11)).toBe(true);
  });

  it("refuses a mirrored write once the mirrors are closed, touching neither area", async () => {
    const { lu0, lu1, byId } = await openLus();
    const mirrors = await openMirrors(byId);
    await mirrors.start({ ...request, watermarkBytes: areaBytes });
    await mirrors.close();
    await expect(lu0.write(lu0.areaOffsetBytes(1), filled(4096, random(8)), false)).rejects.toMatchObject({ code: "CLOSED" });
    expect((await readArea(lu0, 1)).every((byte) => byte === 0)).toBe(true);
    expect((await readArea(lu1, 2)).every((byte) => byte === 0)).toBe(true);
  });

  it("ends a mirror when a commit takes its extent out of mirror state, and refuses a second one for the extent", async () => {
    const { lu0, byId } = await openLus();
    const mirrors = await openMirrors(byId);
    await mirrors.start(request);
    await expect(mirrors.start({ ...request, destinationAreaIndex: 3 })).rejects.toThrow(/being mirrored/);
    const state = (luIndex: number, areaIndex: number, mirrorLuPlusOne: number): StoreState__Output => ({
      lus: [{ id: "lu0", index: 0 }, { id: "lu1", index: 1 }],
      volumes: [{ name: "v", extents: { lu_index: [luIndex], area_index: [areaIndex], mirror_lu_index_plus_one: [mirrorLuPlusOne], mirror_area_index: [2] } }],
    }) as unknown as StoreState__Output;
    await mirrors.afterCommit(state(0, 1, 2));
    expect(mirrors.list()).toHaveLength(1);
    // The switch: on the destination, no mirror.
    await mirrors.afterCommit(state(1, 2, 0));
    expect(mirrors.list()).toHaveLength(0);
    // Writes to the old source go to the LU alone again.
    await lu0.write(lu0.areaOffsetBytes(1), Buffer.alloc(4096, 1), false);
  });

  it("answers a long poll when a copy's durable watermark moves, at once when it has moved already, and after the wait when nothing moves", async () => {
    const { byId } = await openLus();
    const mirrors = await openMirrors(byId);
    const before = mirrors.progress;
    // Nothing to copy yet: the wait runs out.
    const idleStartMs = performance.now();
    await mirrors.waitForProgress(before, 100);
    expect(performance.now() - idleStartMs).toBeGreaterThanOrEqual(95);
    expect(mirrors.progress).toBe(before);
    // A slow copy, 4 chunks a second: the poll is answered when the first flush moves the watermark.
    const waiting = mirrors.waitForProgress(before, mirrorListWaitMaxMs);
    await mirrors.start({ ...request, rateBytesPerSecond: 4 * mirrorChunkBytes });
    await waiting;
    const started = mirrors.progress;
    expect(started).toBeGreaterThan(before);
    await mirrors.waitForProgress(started, mirrorListWaitMaxMs);
    expect(mirrors.list()[0]?.watermarkBytes).toBeGreaterThan(0);
    const answeredStartMs = performance.now();
    await mirrors.waitForProgress(before, mirrorListWaitMaxMs);
    // At once, not after the 5 s wait: the bound leaves room for a busy CI machine, not for the wait.
    expect(performance.now() - answeredStartMs).toBeLessThan(mirrorListWaitMaxMs / 5);
    await expect(mirrors.waitForProgress(0, mirrorListWaitMaxMs + 1)).rejects.toThrow(/wait of 5001 ms/);
  });

  describe("onto an external device (a real NBD server, in memory)", () => {
    const externalId = "ext1:disk";

    /** The server's one export, "disk", as the store would list it; `gate` sees (and may fail) each request. */
    async function external(gate: MemoryOperationGate, contents?: Buffer): Promise<{ provider: MemoryExportProvider; lus: ExternalLus }> {
      const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: luBytes, ...(contents === undefined ? {} : { contents }) }], gate);
      const server = new NbdServer({ provider, port: 0 });
      const { port } = await server.listen();
      opened.push(server);
      const lus = new ExternalLus(() => [{
        index: 2, id: externalId, device_id: "ext1", nbd_uri: `nbd://127.0.0.1:${port}/disk`, size_bytes: luBytes, extent_size_bytes: areaBytes, external: true,
      }]);
      opened.push(lus);
      return { provider, lus };
    }

    async function mirrorsOnto(lus: ExternalLus, byId: (id: string) => LogicalUnit): Promise<DeviceMirrors> {
      const mirrors = await DeviceMirrors.open(folder.path, {
        own: (id) => (id === externalId ? undefined : byId(id)),
        external: (id) => lus.get(id),
      }, tableWith(0, 1));
      opened.push(mirrors);
      return mirrors;
    }

    const onto = { ...request, destinationLuId: externalId, destinationAreaIndex: 3 };
    const tableWith = (luIndex: number, areaIndex: number): StoreState__Output => ({
      lus: [{ id: "lu0", index: 0 }, { id: "lu1", index: 1 }, { id: externalId, index: 2 }],
      volumes: [{ name: "v", extents: { lu_index: [luIndex], area_index: [areaIndex], mirror_lu_index_plus_one: [3], mirror_area_index: [3] } }],
    }) as unknown as StoreState__Output;

    it("copies the area there under racing writes and lets the switch commit", async () => {
      const { lu0, byId } = await openLus();
      await lu0.write(0, filled(3 * areaBytes, random(5)), false);
      const { provider, lus } = await external(() => undefined);
      const mirrors = await mirrorsOnto(lus, byId);
      let stop = false;
      const load = writeLoad(lu0, 6, () => stop);
      await mirrors.start(onto);
      await until(() => mirrors.list()[0]?.synced === true, "the mirror to be in sync");
      await new Promise((resolve) => setTimeout(resolve, 100));
      stop = true;
      expect(await load).toBeGreaterThan(20);
      const copy = provider.dataOf("disk").subarray(3 * areaBytes, 4 * areaBytes);
      expect(copy.equals(await readArea(lu0, 1))).toBe(true);
      // The switch: the extent on the destination.
      expect(() => { mirrors.checkCommit(tableWith(0, 1), [{ volume: "v", extent_index: 0, lu_index: 2, area_index: 3 }]); }).not.toThrow();
    });

    it("holds no host write while a chunk is copied, in that chunk or elsewhere, and the destination has them all once in sync", async () => {
      const { lu0, byId } = await openLus();
      await lu0.write(lu0.areaOffsetBytes(1), filled(areaBytes, random(12)), false);
      // The copy's first chunk waits at the destination until released: a copy that takes as long as we like.
      let release = (): void => undefined;
      const released = new Promise<void>((resolve) => { release = resolve; });
      let copyArrived = (): void => undefined;
      const arrived = new Promise<void>((resolve) => { copyArrived = resolve; });
      const chunkAtDestination = 3 * areaBytes;
      const { lus, provider } = await external((info) => {
        if (info.operation !== "write" || info.offsetBytes !== chunkAtDestination) return undefined;
        copyArrived();
        return released;
      });
      const mirrors = await mirrorsOnto(lus, byId);
      await mirrors.start(onto);
      await arrived;
      const settled = new Set<string>();
      const write = (name: string, offsetBytes: number): Promise<void> =>
        lu0.write(offsetBytes, filled(4096, random(13)), false).then(() => { settled.add(name); });
      const writes = [
        write("in the chunk being copied", lu0.areaOffsetBytes(1) + 8192),
        write("a later chunk of the area", lu0.areaOffsetBytes(1) + 4 * mirrorChunkBytes),
        write("the last chunk of the area", lu0.areaOffsetBytes(2) - 4096),
        write("the area before", lu0.areaOffsetBytes(1) - 4096),
      ];
      // Bounded: a write held for the copy would keep it until the external client gives up on the copy.
      await Promise.race([Promise.all(writes), new Promise((resolve) => setTimeout(resolve, otherWritesWaitMs))]);
      expect([...settled].sort()).toEqual(["a later chunk of the area", "in the chunk being copied", "the area before", "the last chunk of the area"]);
      release();
      await until(() => mirrors.list()[0]?.synced === true, "the mirror to be in sync");
      // The chunk's first copy read it before the write: it was copied again, and the mirror says so once.
      expect(provider.dataOf("disk").subarray(3 * areaBytes, 4 * areaBytes).equals(await readArea(lu0, 1))).toBe(true);
      expect(mirrors.list()[0]?.chunksCopiedAgain).toBe(1);
    });

    it("keeps a host write whose mirror fails on the source, reports the failure, and refuses the switch", async () => {
      const { lu0, byId } = await openLus();
      let failing = false;
      const { lus } = await external((info) => (info.operation === "write" && failing ? Promise.reject(new NbdError("EIO", "injected write failure")) : undefined));
      const mirrors = await mirrorsOnto(lus, byId);
      await mirrors.start(onto);
      await until(() => mirrors.list()[0]?.synced === true, "the mirror to be in sync");
      failing = true;
      const data = filled(4096, random(7));
      await lu0.write(lu0.areaOffsetBytes(1) + 8192, data, true);
      const back = Buffer.alloc(4096);
      await lu0.read(lu0.areaOffsetBytes(1) + 8192, back);
      expect(back.equals(data)).toBe(true);
      expect(mirrors.list()[0]).toMatchObject({ synced: false, failure: expect.stringMatching(/external device ext1 \(nbd:\/\/127\.0\.0\.1:\d+\/disk\) failed a write: .*EIO/) as unknown });
      expect(() => { mirrors.checkCommit(tableWith(0, 1), [{ volume: "v", extent_index: 0, lu_index: 2, area_index: 3 }]); })
        .toThrow(/extent 0 of v cannot switch to ext1:disk area 3: its mirror is not in sync \(external device ext1 .* failed a write/);
      // Taking the extent out of mirror state, back on its source, is no switch.
      expect(() => { mirrors.checkCommit(tableWith(0, 1), [{ volume: "v", extent_index: 0, lu_index: 0, area_index: 1 }]); }).not.toThrow();
    });

    it("copies the whole area again after a reopen once the destination failed a write: the watermark no longer covers what it missed", async () => {
      const { lu0, byId } = await openLus();
      await lu0.write(lu0.areaOffsetBytes(1), filled(areaBytes, random(9)), false);
      let failing = false;
      const { provider, lus } = await external((info) => (info.operation === "write" && failing ? Promise.reject(new NbdError("EIO", "injected write failure")) : undefined));
      const mirrors = await mirrorsOnto(lus, byId);
      await mirrors.start(onto);
      await until(() => mirrors.list()[0]?.synced === true, "the mirror to be in sync");
      failing = true;
      await lu0.write(lu0.areaOffsetBytes(1) + 8192, filled(4096, random(10)), true);
      failing = false;
      // Below the watermark, on the source alone: the failed mirror sends nothing more to the destination.
      await lu0.write(lu0.areaOffsetBytes(1) + 2 * mirrorChunkBytes, filled(4096, random(11)), true);
      await mirrors.close();

      const reopened = await mirrorsOnto(lus, byId);
      expect(reopened.list()[0]).toMatchObject({ watermarkBytes: 0, synced: false, failure: "" });
      await until(() => reopened.list()[0]?.synced === true, "the area copied again");
      expect(provider.dataOf("disk").subarray(3 * areaBytes, 4 * areaBytes).equals(await readArea(lu0, 1))).toBe(true);
    });

    it("fills an area of its own from an external source: set up at the commit, it takes the extent's I/O, and copies once started", async () => {
      const { lu1, byId } = await openLus();
      const flushes: string[] = [];
      const { provider, lus } = await external((info) => {
        if (info.operation === "flush") flushes.push(info.exportName);
        return undefined;
      }, filled(luBytes, random(8)));
      const mirrors = await mirrorsOnto(lus, byId);
      // Extent 0 of v is on ext1:disk area 1, in mirror state onto lu1 area 2.
      const table = {
        lus: [{ id: "lu0", index: 0 }, { id: "lu1", index: 1 }, { id: externalId, index: 2, external: true }],
        volumes: [{ name: "v", extents: { lu_index: [2], area_index: [1], mirror_lu_index_plus_one: [2], mirror_area_index: [2] } }],
      } as unknown as StoreState__Output;
      const mirrorRow = { volume: "v", extent_index: 0, lu_index: 2, area_index: 1, mirror_lu_index_plus_one: 2, mirror_area_index: 2 };
      expect(() => { mirrors.checkCommit(table, [mirrorRow]); }).not.toThrow();
      expect(() => { mirrors.checkCommit({ ...table, lus: [...table.lus, { id: "ext2:disk", index: 3, external: true }] } as unknown as StoreState__Output, [{ ...mirrorRow, lu_index: 3 }]); })
        .toThrow(/no LU "ext2:disk"/);
      await mirrors.afterCommit(table, [mirrorRow]);
      // Not listed, not copying: the controller starts it.
      expect(mirrors.list()).toEqual([]);
      const source = (): Buffer => provider.dataOf("disk").subarray(areaBytes, 2 * areaBytes);
      const atDestination = lu1.areaOffsetBytes(2);
      const read = Buffer.alloc(65536);
      await lu1.read(atDestination + 4096, read);
      expect(read.equals(source().subarray(4096, 4096 + 65536))).toBe(true);
      const written = filled(8192, random(9));
      await lu1.write(atDestination + mirrorChunkBytes, written, false);
      expect(source().subarray(mirrorChunkBytes, mirrorChunkBytes + 8192).equals(written)).toBe(true);
      await lu1.flushForHost();
      expect(flushes).toContain("disk");

      const state = { stop: false };
      const load = (async (): Promise<number> => {
        const next = random(10);
        let writes = 0;
        // A field, not a local: the test sets it while this loop awaits.
        while (!state.stop) {
          const offsetBytes = Math.floor(next() * (areaBytes - 4096) / 512) * 512;
          await lu1.write(atDestination + offsetBytes, filled(4096, next), false);
          writes += 1;
        }
        return writes;
      })();
      await mirrors.start({ volume: "v", extentIndex: 0, sourceLuId: externalId, sourceAreaIndex: 1, destinationLuId: "lu1", destinationAreaIndex: 2, watermarkBytes: 0, group: "m", rateBytesPerSecond: 0 });
      await until(() => mirrors.list()[0]?.synced === true, "the mirror to be in sync");
      state.stop = true;
      expect(await load).toBeGreaterThan(5);
      expect((await readArea(lu1, 2)).equals(source())).toBe(true);
      // The switch: extent 0 on lu1 area 2, no mirror; I/O there is the LU's own again.
      await mirrors.afterCommit({ ...table, volumes: [{ name: "v", extents: { lu_index: [1], area_index: [2], mirror_lu_index_plus_one: [0], mirror_area_index: [0] } }] } as unknown as StoreState__Output,
        [{ volume: "v", extent_index: 0, lu_index: 1, area_index: 2, mirror_lu_index_plus_one: 0 }]);
      expect(mirrors.list()).toEqual([]);
      await lu1.write(atDestination, Buffer.alloc(4096, 3), false);
      expect(source().subarray(0, 4096).equals(Buffer.alloc(4096, 3))).toBe(false);
    });
  });
});
