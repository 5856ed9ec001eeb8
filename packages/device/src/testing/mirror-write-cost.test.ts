// Goal: show what mirroring costs a host's stream of 4 KiB writes, and what
// the write-intent record (write-intent.ts) adds to it: a figure in the
// log, not a timed assertion (benchmarks are not tests; this one is small
// enough to run with them and keeps the figure next to the code).
// Method: real LU files in a temporary folder; one area in mirror state and
// in sync; the areas written whole first, so no stream pays for allocating
// blocks; 4 KiB writes, sequential then scattered over the area, first
// without FUA, then with FUA, timed per write against the same writes to an
// area in no mirror, alternating, the median of a few rounds; and, as wall
// time on a shared machine is noisy, the file operations (pwrites and
// syncs) per write, counted at the file-I/O port, which do not vary.
import path from "node:path";
import type { StoreState__Output } from "@switchyard/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeviceFiles } from "../device-files.js";
import { nodeFiles } from "../device-files.js";
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

/** Writes and syncs through the port since the test began: what a stream costs in I/O, not in time. */
const counted = { operations: 0 };
const countingFiles: DeviceFiles = {
  ...nodeFiles,
  write(fd, buffer, offset, length, position, callback) {
    counted.operations += 1;
    nodeFiles.write(fd, buffer, offset, length, position, callback);
  },
  writeSync: (fd, buffer, offset, length, position) => {
    counted.operations += 1;
    return nodeFiles.writeSync(fd, buffer, offset, length, position);
  },
  fdatasync(fd, callback) {
    counted.operations += 1;
    nodeFiles.fdatasync(fd, callback);
  },
  fsync: (fd) => {
    counted.operations += 1;
    return nodeFiles.fsync(fd);
  },
};

let folder: TemporaryFolder;
const opened: { close(): Promise<void> }[] = [];
/** The committed table the mirrors open against: nothing saved is reopened here. */
const emptyTable = { lus: [], volumes: [] } as unknown as StoreState__Output;

beforeEach(async () => {
  folder = await temporaryFolder();
});

afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
  await folder.remove();
});

async function openLu(id: string): Promise<LogicalUnit> {
  const lu = await LogicalUnit.create({ id, path: path.join(folder.path, `${id}.img`), sizeBytes: luBytes, extentSizeBytes: areaBytes, files: countingFiles });
  opened.push(lu);
  return lu;
}

interface StreamCost {
  readonly wallUs: number;
  readonly operations: number;
}

/** Microseconds and file operations per write of `count` 4 KiB writes into area `areaIndex` of `lu`. */
async function stream(lu: LogicalUnit, areaIndex: number, count: number, fua: boolean, scattered: boolean, seed: number): Promise<StreamCost> {
  const data = Buffer.alloc(writeBytes, 0x5a);
  const random = new SeededRandom(seed);
  const base = lu.areaOffsetBytes(areaIndex);
  const startMs = performance.now();
  const operationsBefore = counted.operations;
  for (let write = 0; write < count; write += 1) {
    const slot = scattered ? random.below(areaBytes / writeBytes) : write % (areaBytes / writeBytes);
    await lu.write(base + slot * writeBytes, data, fua);
  }
  return { wallUs: ((performance.now() - startMs) * 1000) / count, operations: (counted.operations - operationsBefore) / count };
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
    }, emptyTable, countingFiles);
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
        const plain: StreamCost[] = [];
        const mirrored: StreamCost[] = [];
        for (let round = 0; round < rounds; round += 1) {
          plain.push(await stream(lu0, 3, count, fua, scattered, round));
          mirrored.push(await stream(lu0, 1, count, fua, scattered, round));
        }
        const plainUs = median(plain.map((cost) => cost.wallUs));
        const mirroredUs = median(mirrored.map((cost) => cost.wallUs));
        const operations = (costs: StreamCost[]): string => (costs.reduce((sum, cost) => sum + cost.operations, 0) / costs.length).toFixed(3);
        rows.push(`${fua ? "FUA" : "no FUA"}, ${scattered ? "scattered" : "sequential"}: ${plainUs.toFixed(1)} us unmirrored, ${mirroredUs.toFixed(1)} us mirrored `
          + `(x${(mirroredUs / plainUs).toFixed(2)}); file operations per write ${operations(plain)} unmirrored, ${operations(mirrored)} mirrored`);
      }
    }
    console.log(`mirrored 4 KiB writes, ${areaBytes >> 20} MiB area:\n  ${rows.join("\n  ")}`);
  }, 120_000);
});
