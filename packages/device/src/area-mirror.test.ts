// Goal: a copy marks the regions ahead of it in the write-intent record once
// hosts write to its area, so that a host write landing behind the copy
// finds its region marked; a copy no host writes to marks nothing.
// Method: one AreaMirror over two real LU files, its chunks copied by hand,
// with a write-intent port that records what the mirror asks of it (the
// record itself, and what a mark costs, are write-intent-file.test.ts's).
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AreaMirror, premarkAheadRegions, type WriteIntentPort } from "./area-mirror.js";
import { LogicalUnit } from "./logical-unit.js";
import { temporaryFolder, type TemporaryFolder } from "./testing.js";
import { writeIntentRegionBytes } from "./write-intent.js";

const regionsPerArea = 8;
const areaBytes = regionsPerArea * writeIntentRegionBytes;
const chunkBytes = writeIntentRegionBytes;
const writeBytes = 4096;

/** The calls a mirror makes on the write-intent record, as region ranges [first, last]. */
class RecordedIntents implements WriteIntentPort {
  readonly begun: [number, number][] = [];
  readonly premarked: [number, number][] = [];

  begin(_mirrorId: string, firstRegion: number, lastRegion: number): undefined {
    this.begun.push([firstRegion, lastRegion]);
    return undefined;
  }

  end(): void {}

  recopied(): void {}

  premark(_mirrorId: string, firstRegion: number, lastRegion: number): void {
    this.premarked.push([firstRegion, lastRegion]);
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
  it("marks each chunk's regions and some after them once a host has written, and the write behind the copy still asks for its own", async () => {
    const intents = new RecordedIntents();
    const mirror = await mirrorFromArea0(intents);
    const buffer = Buffer.alloc(chunkBytes);
    await mirror.copyNextChunk(chunkBytes, buffer);
    expect(intents.premarked, "no host has written yet").toEqual([]);
    // Above the watermark: the source alone, no mark.
    await mirror.write(6 * writeIntentRegionBytes + 100, Buffer.alloc(writeBytes, 1), false);
    expect(intents.begun).toEqual([]);
    for (let chunk = 1; chunk < regionsPerArea; chunk += 1) await mirror.copyNextChunk(chunkBytes, buffer);
    // Each chunk's regions and premarkAheadRegions after it, up to the area's end.
    expect(intents.premarked).toEqual([1, 2, 3, 4, 5, 6, 7].map((chunk) => [chunk, Math.min(regionsPerArea - 1, chunk + premarkAheadRegions)]));
    expect(mirror.copied).toBe(true);
    // Behind the copy: the write still takes its mark (found durable, in the record, when premarked).
    await mirror.write(writeIntentRegionBytes + 100, Buffer.alloc(writeBytes, 2), false);
    expect(intents.begun).toEqual([[1, 1]]);
  });

  it("marks nothing for a copy no host writes to", async () => {
    const intents = new RecordedIntents();
    const mirror = await mirrorFromArea0(intents);
    const buffer = Buffer.alloc(chunkBytes);
    while (!mirror.copied) await mirror.copyNextChunk(chunkBytes, buffer);
    expect(intents.premarked).toEqual([]);
  });
});
