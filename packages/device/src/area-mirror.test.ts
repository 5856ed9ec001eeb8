// Goal: once hosts write to a mirror's area, the regions copied and some
// ahead of the copy are marked in the write-intent record, durably before
// the copy passes them, so that a host write landing behind the copy finds
// its region marked; a copy no host writes to marks only its first regions,
// when it is set up.
// Method: one AreaMirror over two real LU files, its chunks copied by hand,
// with a write-intent port that records what the mirror asks of it (the
// record itself, and what a mark costs, are write-intent-file.test.ts's).
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AreaMirror, premarkAheadRegions, type WriteIntentPort } from "./area-mirror.js";
import { LogicalUnit } from "./logical-unit.js";
import { temporaryFolder, type TemporaryFolder } from "./testing.js";
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

async function openLu(id: string): Promise<LogicalUnit> {
  const lu = await LogicalUnit.create({ id, path: path.join(folder.path, `${id}.img`), sizeBytes: 2 * areaBytes, extentSizeBytes: areaBytes });
  opened.push(lu);
  return lu;
}

async function mirrorFromArea0(intents: WriteIntentPort): Promise<AreaMirror> {
  const source = await openLu("lu0");
  const destination = await openLu("lu1");
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
