// Goal: the I/O path maps host requests through the active face to the right
// storage areas, splits requests that span extents, refuses what it must, and
// a face flip is seen by the next request. Method: two in-memory LUs as
// backends, a table loaded through ConfigurationFaces, bytes checked in the LUs.
import { describe, expect, it } from "vitest";
import { NbdError, type BlockIo, type WriteZeroesFlags } from "@switchyard/nbd";
import type { ConfigurationTable__Output } from "@switchyard/proto";
import { LocalBackendSet } from "./backend.js";
import { ConfigurationFaces } from "./configuration-faces.js";
import { IoPath, partsInFlightMax } from "./io-path.js";
import { MemoryLu } from "./testing.js";

const extentSizeBytes = 1 << 20;
const areasPerLu = 8;

function lu(index: number): ConfigurationTable__Output["lus"][number] {
  const size = extentSizeBytes * areasPerLu;
  return { index, id: `lu${index}`, device_id: "dev0", size_bytes: size, extent_size_bytes: extentSizeBytes, nbd_uri: "", external: false };
}

function table(generation: number, luIndex: number[], areaIndex: number[]): ConfigurationTable__Output {
  const columns = { lu_index: luIndex, area_index: areaIndex, mirror_lu_index_plus_one: [], mirror_area_index: [], mirror_watermark_bytes: [] };
  return {
    generation,
    lus: [lu(0), lu(1)],
    volumes: [{ name: "v", size_bytes: luIndex.length * extentSizeBytes, extent_size_bytes: extentSizeBytes, extents: columns }],
  };
}

function setup(): { io: IoPath; faces: ConfigurationFaces; lus: MemoryLu[] } {
  const lus = [new MemoryLu(extentSizeBytes * areasPerLu), new MemoryLu(extentSizeBytes * areasPerLu)];
  const faces = new ConfigurationFaces();
  faces.load(table(1, [0, 1, 0], [5, 2, 7]));
  const io = new IoPath(faces, new LocalBackendSet(new Map(lus.map((memory, index) => [`lu${index}`, memory]))));
  return { io, faces, lus };
}

describe("IoPath", () => {
  it("writes each part of a spanning request to the area its extent maps to", async () => {
    const { io, lus } = setup();
    const data = Buffer.alloc(extentSizeBytes + 8192, 0xab);
    const offset = extentSizeBytes - 4096;
    await io.write("v", offset, data, false);
    // Extent 0 -> lu0 area 5, extent 1 -> lu1 area 2, extent 2 -> lu0 area 7.
    expect(lus[0]?.bytes.subarray(6 * extentSizeBytes - 4096, 6 * extentSizeBytes).every((byte) => byte === 0xab)).toBe(true);
    expect(lus[1]?.bytes.subarray(2 * extentSizeBytes, 3 * extentSizeBytes).every((byte) => byte === 0xab)).toBe(true);
    expect(lus[0]?.bytes.subarray(7 * extentSizeBytes, 7 * extentSizeBytes + 4096).every((byte) => byte === 0xab)).toBe(true);
    expect(lus[0]?.bytes[7 * extentSizeBytes + 4096]).toBe(0);
    const back = Buffer.alloc(data.length);
    await io.read("v", offset, back);
    expect(back.equals(data)).toBe(true);
  });

  it("sends I/O of an extent mirrored from an external device onto a device's own LU to that LU, and others to their source", async () => {
    const { io, faces, lus } = setup();
    // lu1 is an external device's; extent 0 is on it (area 3) in mirror state onto lu0 area 4;
    // extent 1 is on lu0 area 2 in mirror state onto lu1 area 6; extent 2 is on lu0 area 7.
    const mirrored = table(2, [1, 0, 0], [3, 2, 7]);
    mirrored.lus = [lu(0), { ...lu(1), external: true }];
    const columns = mirrored.volumes[0]?.extents;
    if (columns == null) throw new Error("no extents");
    Object.assign(columns, { mirror_lu_index_plus_one: [1, 2, 0], mirror_area_index: [4, 6, 0], mirror_watermark_bytes: [0, 0, 0] });
    faces.load(mirrored);
    await io.write("v", 4096, Buffer.alloc(4096, 0x21), false);
    await io.write("v", extentSizeBytes + 4096, Buffer.alloc(4096, 0x22), false);
    expect(lus[0]?.bytes[4 * extentSizeBytes + 4096]).toBe(0x21);
    expect(lus[1]?.bytes[3 * extentSizeBytes + 4096]).toBe(0);
    expect(lus[0]?.bytes[2 * extentSizeBytes + 4096]).toBe(0x22);
    expect(lus[1]?.bytes[6 * extentSizeBytes + 4096]).toBe(0);
    const back = Buffer.alloc(4096);
    await io.read("v", 4096, back);
    expect(back.every((byte) => byte === 0x21)).toBe(true);
  });

  it("refuses a range past the end with EINVAL and an unknown volume with ESHUTDOWN", async () => {
    const { io } = setup();
    await expect(io.read("v", 3 * extentSizeBytes - 1, Buffer.alloc(2))).rejects.toMatchObject({ code: "EINVAL" });
    await expect(io.read("gone", 0, Buffer.alloc(2))).rejects.toBeInstanceOf(NbdError);
    await expect(io.read("gone", 0, Buffer.alloc(2))).rejects.toMatchObject({ code: "ESHUTDOWN" });
  });

  it("maps the next request by the new face after a load", async () => {
    const { io, faces, lus } = setup();
    faces.load(table(2, [1, 1, 1], [0, 1, 3]));
    await io.write("v", 0, Buffer.alloc(512, 0x11), false);
    expect(lus[1]?.bytes[0]).toBe(0x11);
    expect(lus[0]?.bytes[5 * extentSizeBytes]).toBe(0);
    expect(faces.active.generation).toBe(2);
    expect(faces.standby.generation).toBe(2);
  });

  it("zeroes, flushes every LU, and fails everything once fenced", async () => {
    const { io, lus } = setup();
    await io.write("v", 0, Buffer.alloc(4096, 0x22), false);
    await io.writeZeroes("v", 0, 4096, { fua: true, noHole: false });
    expect(lus[0]?.bytes[5 * extentSizeBytes]).toBe(0);
    expect(lus.map((memory) => memory.flushes)).toEqual([1, 1]);
    io.fence("test");
    await expect(io.flush("v")).rejects.toMatchObject({ code: "ESHUTDOWN" });
    await expect(io.write("v", 0, Buffer.alloc(1), false)).rejects.toMatchObject({ code: "ESHUTDOWN" });
  });

  it("splits a WRITE_ZEROES of many extents into parts, at most partsInFlightMax at a time, and keeps NO_HOLE", async () => {
    // Small extents keep memory low: 2.5 waves of parts over two LUs.
    const smallExtentBytes = 64 * 1024;
    const extentCount = 2 * partsInFlightMax + partsInFlightMax / 2;
    const lus = [new MemoryLu(smallExtentBytes * extentCount), new MemoryLu(smallExtentBytes * extentCount)];
    let running = 0;
    let runningMax = 0;
    const noHoles: boolean[] = [];
    const counted = lus.map((memory) => ({
      sizeBytes: memory.sizeBytes,
      read: (offsetBytes: number, into: Buffer) => memory.read(offsetBytes, into),
      write: (offsetBytes: number, data: Buffer) => memory.write(offsetBytes, data),
      flush: () => memory.flush(),
      writeZeroes: async (offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags) => {
        running += 1;
        runningMax = Math.max(runningMax, running);
        noHoles.push(flags.noHole);
        await new Promise((resolve) => setImmediate(resolve));
        await memory.writeZeroes(offsetBytes, lengthBytes);
        running -= 1;
      },
    }));
    const faces = new ConfigurationFaces();
    const luIndex = Array.from({ length: extentCount }, (_, extent) => extent % 2);
    const areaIndex = Array.from({ length: extentCount }, (_, extent) => extentCount - 1 - extent);
    const loaded = table(1, luIndex, areaIndex);
    loaded.lus = loaded.lus.map((entry) => ({ ...entry, size_bytes: smallExtentBytes * extentCount, extent_size_bytes: smallExtentBytes }));
    loaded.volumes = loaded.volumes.map((volume) => ({ ...volume, size_bytes: extentCount * smallExtentBytes, extent_size_bytes: smallExtentBytes }));
    faces.load(loaded);
    const io = new IoPath(faces, new LocalBackendSet(new Map(counted.map((backend, index) => [`lu${index}`, backend]))));
    for (const memory of lus) memory.bytes.fill(0x33);
    // From the middle of the first extent to the middle of the last: a part at each end is partial.
    const offsetBytes = smallExtentBytes / 2;
    await io.writeZeroes("v", offsetBytes, (extentCount - 1) * smallExtentBytes, { fua: false, noHole: true });
    expect(runningMax).toBe(partsInFlightMax);
    expect(noHoles.length).toBe(extentCount);
    expect(noHoles.every((noHole) => noHole)).toBe(true);
    const back = Buffer.alloc(extentCount * smallExtentBytes);
    await io.read("v", 0, back.subarray(0, 32 * smallExtentBytes));
    await io.read("v", 32 * smallExtentBytes, back.subarray(32 * smallExtentBytes, 64 * smallExtentBytes));
    await io.read("v", (extentCount - 32) * smallExtentBytes, back.subarray((extentCount - 32) * smallExtentBytes));
    expect(back.subarray(0, offsetBytes).every((byte) => byte === 0x33)).toBe(true);
    expect(back.subarray(offsetBytes, 64 * smallExtentBytes).every((byte) => byte === 0)).toBe(true);
    const endBytes = offsetBytes + (extentCount - 1) * smallExtentBytes;
    expect(back.subarray((extentCount - 32) * smallExtentBytes, endBytes).every((byte) => byte === 0)).toBe(true);
    expect(back.subarray(endBytes).every((byte) => byte === 0x33)).toBe(true);
  });

  it("answers block status from each extent's backend in volume order, data where a backend cannot tell, up to a short answer", async () => {
    const { faces, lus } = setup();
    const asked: [number, number][] = [];
    // lu0 tells: a hole over the first half of what it is asked, data after; lu1 cannot tell.
    const telling = {
      sizeBytes: lus[0]?.sizeBytes ?? 0,
      read: (offsetBytes: number, into: Buffer) => lus[0]?.read(offsetBytes, into) ?? Promise.resolve(),
      write: (offsetBytes: number, data: Buffer) => lus[0]?.write(offsetBytes, data) ?? Promise.resolve(),
      writeZeroes: (offsetBytes: number, lengthBytes: number) => lus[0]?.writeZeroes(offsetBytes, lengthBytes) ?? Promise.resolve(),
      flush: () => Promise.resolve(),
      allocation: (offsetBytes: number, lengthBytes: number) => {
        asked.push([offsetBytes, lengthBytes]);
        return Promise.resolve([{ lengthBytes: lengthBytes / 2, state: 3 }, { lengthBytes: lengthBytes / 2, state: 0 }]);
      },
    };
    const io = new IoPath(faces, new LocalBackendSet(new Map<string, BlockIo>([["lu0", telling], ["lu1", lus[1] as MemoryLu]])));
    // Extent 0 -> lu0 area 5, extent 1 -> lu1 area 2, extent 2 -> lu0 area 7.
    const answer = await io.allocation("v", extentSizeBytes / 2, 2 * extentSizeBytes);
    expect(asked).toEqual([[5.5 * extentSizeBytes, extentSizeBytes / 2], [7 * extentSizeBytes, extentSizeBytes / 2]]);
    expect(answer).toEqual([
      { lengthBytes: extentSizeBytes / 4, state: 3 },
      // lu0's data quarter merges with lu1's whole extent of "data".
      { lengthBytes: extentSizeBytes / 4 + extentSizeBytes, state: 0 },
      { lengthBytes: extentSizeBytes / 4, state: 3 },
      { lengthBytes: extentSizeBytes / 4, state: 0 },
    ]);
    // A part answered short ends the answer there: the next part would not start where it stops.
    telling.allocation = (_offsetBytes: number, lengthBytes: number) => Promise.resolve([{ lengthBytes: lengthBytes / 4, state: 3 }]);
    expect(await io.allocation("v", 0, 3 * extentSizeBytes)).toEqual([{ lengthBytes: extentSizeBytes / 4, state: 3 }]);
    await expect(io.allocation("v", 3 * extentSizeBytes - 4096, 8192)).rejects.toMatchObject({ code: "EINVAL" });
  });

  it("counts requests, bytes, failures and latency per volume and operation", async () => {
    const { io } = setup();
    await io.write("v", 0, Buffer.alloc(4096), false);
    await io.read("v", 0, Buffer.alloc(512));
    await expect(io.read("v", 64 * extentSizeBytes, Buffer.alloc(512))).rejects.toMatchObject({ code: "EINVAL" });
    const [volume] = io.stats.snapshot();
    const [read, write] = volume?.operations ?? [];
    expect(volume?.volume).toBe("v");
    expect({ requests: write?.requests, bytes: write?.bytes, errors: write?.errors }).toEqual({ requests: 1, bytes: 4096, errors: 0 });
    expect({ requests: read?.requests, bytes: read?.bytes, errors: read?.errors }).toEqual({ requests: 2, bytes: 512, errors: 1 });
    expect(read?.latency.count).toBe(2);
    expect(Array.from(read?.latency.counts ?? []).reduce((sum, count) => sum + count, 0)).toBe(2);
  });

  it("counts requests in flight", async () => {
    const { io } = setup();
    const pending = io.read("v", 0, Buffer.alloc(16));
    expect(io.inFlight).toBe(1);
    await pending;
    expect(io.inFlight).toBe(0);
  });
});
