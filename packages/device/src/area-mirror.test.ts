// Goal: once hosts write to a mirror's area, the regions copied and some
// ahead of the copy are marked in the write-intent record, durably before
// the copy passes them, so that a host write landing behind the copy finds
// its region marked; a copy no host writes to marks only its first regions,
// when it is set up. A host write into the chunk being copied does not wait
// for that copy: the copy reads the chunk again, and after
// chunkCopyPassesMax passes such writes wait; however writes and the copy's
// reads and writes land, the destination equals the source below the
// watermark.
// Method: one AreaMirror over two real LU files, its chunks copied by hand,
// with a write-intent port that records what the mirror asks of it (the
// record itself, and what a mark costs, are write-intent-file.test.ts's).
// The interleavings come from a file port that holds a read's answer until
// the test lets it go, or delays each call and answer by a seeded number of
// event-loop turns.
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AreaMirror, chunkCopyPassesMax, premarkAheadRegions, type WriteIntentPort } from "./area-mirror.js";
import { nodeFiles, type DeviceFiles, type TransferCallback } from "./device-files.js";
import { LogicalUnit, type LuAreas } from "./logical-unit.js";
import { SeededRandom, temporaryFolder, type TemporaryFolder } from "./testing.js";
import { writeIntentRegionBytes } from "./write-intent.js";

/** Room for several batches of marks ahead (an extent is a power of two). */
const regionsPerArea = 2 * premarkAheadRegions;
const areaBytes = regionsPerArea * writeIntentRegionBytes;
const chunkBytes = writeIntentRegionBytes;
const writeBytes = 4096;

/** The calls a mirror makes on the write-intent record, as region ranges [first, last]. */
class RecordedIntents implements WriteIntentPort {
  readonly begun: [number, number][] = [];
  readonly premarked: [number, number][] = [];
  /** What each premark's promise waits for: resolved at once unless a test holds it. */
  durable: Promise<void> = Promise.resolve();

  begin(_mirrorId: string, firstRegion: number, lastRegion: number): undefined {
    this.begun.push([firstRegion, lastRegion]);
    return undefined;
  }

  end(): void {}

  recopied(): void {}

  premark(_mirrorId: string, firstRegion: number, lastRegion: number): Promise<void> {
    this.premarked.push([firstRegion, lastRegion]);
    return this.durable;
  }
}

let folder: TemporaryFolder;
const opened: LogicalUnit[] = [];

beforeEach(async () => {
  folder = await temporaryFolder();
});

afterEach(async () => {
  for (const lu of opened.splice(0)) await lu.close();
  await folder.remove();
});

async function openLu(id: string, files: DeviceFiles = nodeFiles): Promise<LogicalUnit> {
  // syncIo off: every read and write goes through the file port's callbacks, which the tests below hold or delay.
  const lu = await LogicalUnit.create({ id, path: path.join(folder.path, `${id}.img`), sizeBytes: 2 * areaBytes, extentSizeBytes: areaBytes, syncIo: false, files });
  opened.push(lu);
  return lu;
}

async function mirrorFromArea0(intents: WriteIntentPort, sourceFiles: DeviceFiles = nodeFiles, destinationFiles: DeviceFiles = nodeFiles): Promise<AreaMirror> {
  const source = await openLu("lu0", sourceFiles);
  const destination = await openLu("lu1", destinationFiles);
  const spec = { volume: "v", extentIndex: 0, sourceLuId: "lu0", sourceAreaIndex: 0, destinationLuId: "lu1", destinationAreaIndex: 1, watermarkBytes: 0 };
  return new AreaMirror(spec, source, destination, source, intents, () => Promise.resolve());
}

describe("AreaMirror's marks ahead of the copy", () => {
  it("marks what it copied at the first host write and then keeps ahead of the copy, and the write behind the copy still asks for its own", async () => {
    const intents = new RecordedIntents();
    const mirror = await mirrorFromArea0(intents);
    const buffer = Buffer.alloc(chunkBytes);
    await mirror.copyNextChunk(chunkBytes, buffer);
    expect(intents.premarked, "no host has written yet").toEqual([]);
    // Above the watermark: the source alone, no mark.
    await mirror.write((regionsPerArea - 1) * writeIntentRegionBytes + 100, Buffer.alloc(writeBytes, 1), false);
    expect(intents.begun).toEqual([]);
    for (let chunk = 1; chunk < regionsPerArea; chunk += 1) await mirror.copyNextChunk(chunkBytes, buffer);
    // At the first write, what is copied and premarkAheadRegions past it; then on to the area's end, in batches one after another.
    expect(intents.premarked[0]).toEqual([0, premarkAheadRegions]);
    expect(intents.premarked.length).toBeGreaterThan(2);
    intents.premarked.forEach(([first, last], at) => {
      expect(first).toBe(at === 0 ? 0 : (intents.premarked[at - 1]?.[1] ?? 0) + 1);
      expect(last - first).toBeLessThanOrEqual(premarkAheadRegions);
    });
    expect(intents.premarked.at(-1)?.[1]).toBe(regionsPerArea - 1);
    expect(mirror.copied).toBe(true);
    // Behind the copy: the write still takes its mark (found durable, in the record, when premarked).
    await mirror.write(writeIntentRegionBytes + 100, Buffer.alloc(writeBytes, 2), false);
    expect(intents.begun).toEqual([[1, 1]]);
  });

  it("copies a chunk only once its regions' marks are durable", async () => {
    const intents = new RecordedIntents();
    let markDurable = (): void => undefined;
    intents.durable = new Promise<void>((resolve) => { markDurable = resolve; });
    const mirror = await mirrorFromArea0(intents);
    await mirror.write(5 * writeIntentRegionBytes, Buffer.alloc(writeBytes, 1), false);
    const copying = mirror.copyNextChunk(chunkBytes, Buffer.alloc(chunkBytes));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(mirror.copiedBytes, "waiting for the marks").toBe(0);
    markDurable();
    await copying;
    expect(mirror.copiedBytes).toBe(chunkBytes);
  });

  it("marks the first regions it will copy when set up, and nothing more for a copy no host writes to", async () => {
    const intents = new RecordedIntents();
    const mirror = await mirrorFromArea0(intents);
    mirror.premarkStart();
    expect(intents.premarked).toEqual([[0, premarkAheadRegions - 1]]);
    const buffer = Buffer.alloc(chunkBytes);
    while (!mirror.copied) await mirror.copyNextChunk(chunkBytes, buffer);
    expect(intents.premarked).toHaveLength(1);
  });
});

/** A file port whose reads, while `holding`, keep their answer until the test lets it go: the read has happened, its data is not back. */
class HeldReads {
  holding = false;
  reads = 0;
  private readonly answers: (() => void)[] = [];
  private onHeld: (() => void) | undefined = undefined;

  readonly files: DeviceFiles = {
    ...nodeFiles,
    read: (fd, buffer, offset, length, position, callback) => {
      this.reads += 1;
      nodeFiles.read(fd, buffer, offset, length, position, (error, bytes) => {
        if (!this.holding) { callback(error, bytes); return; }
        this.answers.push(() => { callback(error, bytes); });
        this.onHeld?.();
      });
    },
  };

  /** Resolves once a read's answer is held. */
  held(): Promise<void> {
    if (this.answers.length > 0) return Promise.resolve();
    return new Promise((resolve) => { this.onHeld = resolve; });
  }

  release(): void {
    this.onHeld = undefined;
    for (const answer of this.answers.splice(0)) answer();
  }
}

/** How long a write that should not wait may take on a busy machine; one that waits for a held copy never ends. */
const unheldWriteMs = 5_000;
/** How long a write that should wait for the held copy is watched to stay unfinished. */
const heldWriteWatchMs = 100;

function settledWithin(promise: Promise<void>, withinMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(false); }, withinMs); });
  return Promise.race([promise.then(() => true), late]).finally(() => { clearTimeout(timer); });
}

async function areaBytesOf(lu: LuAreas, areaIndex: number, lengthBytes: number): Promise<Buffer> {
  const into = Buffer.alloc(lengthBytes);
  await lu.direct.read(lu.areaOffsetBytes(areaIndex), into);
  return into;
}

describe("AreaMirror's copy under host writes into its chunk", () => {
  it("lets a write into the chunk being copied go to the source at once, and copies the chunk again, so the destination has it", async () => {
    const sourceReads = new HeldReads();
    const mirror = await mirrorFromArea0(new RecordedIntents(), sourceReads.files);
    await mirror.source.direct.write(0, Buffer.alloc(chunkBytes, 0xaa), false);
    sourceReads.holding = true;
    const copy = mirror.copyNextChunk(chunkBytes, Buffer.alloc(chunkBytes));
    await sourceReads.held();
    sourceReads.holding = false;

    expect(await settledWithin(mirror.write(writeBytes, Buffer.alloc(writeBytes, 0xbb), false), unheldWriteMs), "the write waited for the chunk's copy").toBe(true);
    sourceReads.release();

    expect(await copy, "copies of the chunk").toBe(2);
    expect(sourceReads.reads).toBe(2);
    expect(mirror.copiedBytes).toBe(chunkBytes);
    const expected = Buffer.alloc(chunkBytes, 0xaa).fill(0xbb, writeBytes, 2 * writeBytes);
    expect((await areaBytesOf(mirror.destination, 1, chunkBytes)).equals(expected), "the destination has the write").toBe(true);
  });

  it(`makes writes into the chunk wait for its copy's pass ${chunkCopyPassesMax}, so a host that keeps writing there cannot stall the copy`, async () => {
    const sourceReads = new HeldReads();
    const mirror = await mirrorFromArea0(new RecordedIntents(), sourceReads.files);
    sourceReads.holding = true;
    const copy = mirror.copyNextChunk(chunkBytes, Buffer.alloc(chunkBytes));
    let waited: Promise<void> = Promise.resolve();
    for (let pass = 1; pass <= chunkCopyPassesMax; pass += 1) {
      await sourceReads.held();
      const write = mirror.write(pass * writeBytes, Buffer.alloc(writeBytes, pass), false);
      if (pass < chunkCopyPassesMax) {
        expect(await settledWithin(write, unheldWriteMs), `pass ${pass}'s write waited`).toBe(true);
      } else {
        expect(await settledWithin(write, heldWriteWatchMs), `pass ${pass}'s write did not wait`).toBe(false);
        waited = write;
      }
      sourceReads.release();
    }
    expect(await copy, "copies of the chunk").toBe(chunkCopyPassesMax);
    await waited;
    expect(sourceReads.reads).toBe(chunkCopyPassesMax);
    const expected = Buffer.alloc(chunkBytes);
    for (let pass = 1; pass <= chunkCopyPassesMax; pass += 1) expected.fill(pass, pass * writeBytes, (pass + 1) * writeBytes);
    expect((await areaBytesOf(mirror.destination, 1, chunkBytes)).equals(expected)).toBe(true);
  });

  /** Seeds of the interleaving sweep, each a fresh pair of LU files: about 20 ms each. */
  const interleavingSeeds = 40;
  /** Each seed copies this many small chunks while four writers write over them and past them. */
  const sweepChunkBytes = 16 * 1024;
  const sweepChunks = 8;

  it.each(Array.from({ length: interleavingSeeds }, (_, index) => index + 1))("keeps the destination equal to the source below the watermark however writes and the copy land (seed %i)", async (seed) => {
    const random = new SeededRandom(seed);
    const mirror = await mirrorFromArea0(new RecordedIntents(), delayedFiles(random), delayedFiles(random));
    const spanBytes = (sweepChunks + 2) * sweepChunkBytes;
    let copying = true;
    const writer = async (): Promise<void> => {
      for (let writes = 0; copying || writes < 4; writes += 1) {
        const lengthBytes = 512 * (1 + random.below(32));
        const offsetBytes = 512 * random.below((spanBytes - lengthBytes) / 512);
        await mirror.write(offsetBytes, Buffer.alloc(lengthBytes, 1 + random.below(255)), false);
      }
    };
    const copy = async (): Promise<void> => {
      const buffer = Buffer.alloc(sweepChunkBytes);
      for (let chunk = 0; chunk < sweepChunks; chunk += 1) await mirror.copyNextChunk(sweepChunkBytes, buffer);
      copying = false;
    };
    await Promise.all([copy(), writer(), writer(), writer(), writer()]);

    const copiedBytes = mirror.copiedBytes;
    expect(copiedBytes).toBe(sweepChunks * sweepChunkBytes);
    const source = await areaBytesOf(mirror.source, 0, copiedBytes);
    const destination = await areaBytesOf(mirror.destination, 1, copiedBytes);
    expect(firstDifference(source, destination), "first byte where the destination differs").toBe(-1);
  });
});

/** Node's files, with each read and write sent and answered a seeded 0-2 event-loop turns late. */
function delayedFiles(random: SeededRandom): DeviceFiles {
  const later = (then: () => void): void => {
    const turns = random.below(3);
    if (turns === 0) { then(); return; }
    let left = turns;
    const step = (): void => { left -= 1; if (left === 0) then(); else setImmediate(step); };
    setImmediate(step);
  };
  const answerLater = (callback: TransferCallback): TransferCallback => (error, bytes) => { later(() => { callback(error, bytes); }); };
  return {
    ...nodeFiles,
    read: (fd, buffer, offset, length, position, callback) => { later(() => { nodeFiles.read(fd, buffer, offset, length, position, answerLater(callback)); }); },
    write: (fd, buffer, offset, length, position, callback) => { later(() => { nodeFiles.write(fd, buffer, offset, length, position, answerLater(callback)); }); },
  };
}

function firstDifference(left: Buffer, right: Buffer): number {
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) return index;
  return -1;
}
