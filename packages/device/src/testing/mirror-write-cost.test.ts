// Goal: show what mirroring costs a host's stream of 4 KiB writes, and what
// the write-intent record (write-intent.ts) adds to it: a figure in the
// log, not a timed assertion (benchmarks are not tests; this one is small
// enough to run with them and keeps the figure next to the code).
// Method: real LU files in a temporary folder; one area in mirror state and
// in sync; the areas written whole first, so no stream pays for allocating
// blocks; 4 KiB writes, sequential then scattered over the area, first
// without FUA, then with FUA, timed per write against the same writes to an
// area in no mirror, alternating, the median of a few rounds.
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeviceMirrors } from "../device-mirrors.js";
import { LogicalUnit } from "../logical-unit.js";
import { temporaryFolder, type TemporaryFolder } from "../testing.js";
import { SeededRandom } from "./seeded-random.js";

const areaBytes = 16 << 20;
const luBytes = 4 * areaBytes;
const writeBytes = 4096;
/** Writes per stream without FUA: a few regions of the intent record, sequentially. */
const writesPlain = 4096;
/** Writes per stream with FUA: each waits for two fdatasyncs, so fewer. */
const writesFua = 256;
/** Rounds of each pair of streams; the median is logged, as the disk's sync time varies a lot. */
const rounds = 5;

let folder: TemporaryFolder;
const opened: { close(): Promise<void> }[] = [];

beforeEach(async () => {
  folder = await temporaryFolder();
});

afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
  await folder.remove();
});

async function openLu(id: string): Promise<LogicalUnit> {
  const lu = await LogicalUnit.create({ id, path: path.join(folder.path, `${id}.img`), sizeBytes: luBytes, extentSizeBytes: areaBytes });
  opened.push(lu);
  return lu;
}

/** Microseconds per write of `count` 4 KiB writes into area `areaIndex` of `lu`. */
async function stream(lu: LogicalUnit, areaIndex: number, count: number, fua: boolean, scattered: boolean, seed: number): Promise<number> {
  const data = Buffer.alloc(writeBytes, 0x5a);
  const random = new SeededRandom(seed);
  const base = lu.areaOffsetBytes(areaIndex);
  const startMs = performance.now();
  for (let write = 0; write < count; write += 1) {
    const slot = scattered ? random.below(areaBytes / writeBytes) : write % (areaBytes / writeBytes);
    await lu.write(base + slot * writeBytes, data, fua);
  }
  return ((performance.now() - startMs) * 1000) / count;
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

describe("the cost of a mirrored 4 KiB write", () => {
  it("is logged for sequential and scattered streams, with and without FUA", async () => {
    const lu0 = await openLu("lu0");
    const lu1 = await openLu("lu1");
    const mirrors = await DeviceMirrors.open(folder.path, {
      own: (id) => (id === "lu0" ? lu0 : id === "lu1" ? lu1 : undefined),
      external: (id) => { throw new Error(`no external LU ${id} here`); },
    });
    opened.push(mirrors);
    await mirrors.start({
      volume: "v", extentIndex: 0, sourceLuId: "lu0", sourceAreaIndex: 1, destinationLuId: "lu1", destinationAreaIndex: 2,
      watermarkBytes: areaBytes, group: "cost", rateBytesPerSecond: 0,
    });
    expect(mirrors.list()[0]?.synced).toBe(true);
    const whole = Buffer.alloc(areaBytes, 0xa5);
    for (const [lu, areaIndex] of [[lu0, 1], [lu0, 3], [lu1, 2]] as const) await lu.writeDirect(lu.areaOffsetBytes(areaIndex), whole, true);
    const rows: string[] = [];
    for (const [fua, count] of [[false, writesPlain], [true, writesFua]] as const) {
      for (const scattered of [false, true]) {
        const plain: number[] = [];
        const mirrored: number[] = [];
        for (let round = 0; round < rounds; round += 1) {
          plain.push(await stream(lu0, 3, count, fua, scattered, round));
          mirrored.push(await stream(lu0, 1, count, fua, scattered, round));
        }
        const plainUs = median(plain);
        const mirroredUs = median(mirrored);
        rows.push(`${fua ? "FUA" : "no FUA"}, ${scattered ? "scattered" : "sequential"}: ${plainUs.toFixed(1)} us unmirrored, ${mirroredUs.toFixed(1)} us mirrored (x${(mirroredUs / plainUs).toFixed(2)})`);
      }
    }
    console.log(`mirrored 4 KiB writes, ${areaBytes >> 20} MiB area:\n  ${rows.join("\n  ")}`);
  }, 120_000);
});
