// Goal: a migration survives a power cut: after the restart its copy
// resumes (from the durable watermark, or from the start) and ends with the
// destination area equal to the source everywhere, even in the sectors of a
// host write cut in flight (issue 19: torn differently on the two files, it
// is copied again from the regions the write-intent record marked), and no
// host write acknowledged with FUA to the migrating area is lost on the
// source or the destination.
// Method: per seed, a device on the power-loss model with the table's extent
// in mirror state (lu0 area 1 to lu1 area 2), the copy started while a host
// writes into the area with FUA; power goes off at a seeded file operation,
// the model cuts with the seed, the device reopens, a new controller epoch
// starts the mirror again as a controller would, and the areas are compared
// once it is in sync. The checker is checked: with the record's marks lost
// at the cut (the file emptied before the reopen), some seed must end with
// the areas differing. Replay: SWITCHYARD_POWER_LOSS_SEED=<seed> (the copy
// races the host writes, so a replay may interleave them a little
// differently); more seeds: SWITCHYARD_MIRROR_POWER_LOSS_SEEDS=<n>.
import assert from "node:assert/strict";
import type { StoreState } from "@switchyard/proto";
import { describe, expect, it } from "vitest";
import { mirrorChunkBytes } from "../device-mirrors.js";
import { createStoreFile } from "../store-slots.js";
import { readIntentFile, writeIntentFileName, writeIntentSlotBytes } from "../write-intent-file.js";
import type { StartMirrorRequest } from "../mirror-records.js";
import { logicalUnitExports } from "../lu-exports.js";
import { StorageDevice } from "../storage-device.js";
import { PowerLossFiles, sectorSizeBytes } from "./power-loss-files.js";
import { SeededRandom } from "./seeded-random.js";

/** CI's seeds: each copies a 2 MiB area once or twice, so fewer than the device test's. */
const seedsDefault = 40;
const seedCount = Number(process.env.SWITCHYARD_MIRROR_POWER_LOSS_SEEDS ?? seedsDefault);
const replaySeed = process.env.SWITCHYARD_POWER_LOSS_SEED;
const extentSizeBytes = 2 << 20;
const luSizeBytes = 4 * extentSizeBytes;
/** Host writes into the migrating area during the copy. */
const hostWritesPerSeed = 12;
const hostWriteBytes = 8 * 1024;
/**
 * Power goes off within this many file operations of the copy's start: a
 * chunk costs a few (read, write, fdatasync, a mirrors.json save), a FUA
 * host write two or four, and a region's first mirrored write two more for
 * its write-intent mark; from the start to in sync took 67 to 71 (61 to 67
 * before the record), so this spans the whole copy of two chunks, the host
 * writes among them, and those after it is in sync.
 */
const cutOperationsMax = 75;
/** Seeds the planted bug (marks lost) may pass before the checker is said to miss it: the gap showed in about one seed in five (33 of 150). */
const plantedSeedsMax = 40;
/** How long the resumed copy may take to be in sync. */
const syncWaitMaxMs = 20_000;
const pollMs = 2;
const leaseMs = 10_000;
const dir = "/power-loss/mirror";
const intentPath = `${dir}/${writeIntentFileName}`;
const sectorsPerArea = extentSizeBytes / sectorSizeBytes;
const zeroSector = Buffer.alloc(sectorSizeBytes);

const request: StartMirrorRequest = {
  volume: "v", extentIndex: 0, sourceLuId: "lu0", sourceAreaIndex: 1, destinationLuId: "lu1", destinationAreaIndex: 2,
  watermarkBytes: 0, group: "migration", rateBytesPerSecond: 0,
};

assert.ok(extentSizeBytes % mirrorChunkBytes === 0 && extentSizeBytes / mirrorChunkBytes >= 2, "a copy of several chunks");

function openDevice(files: PowerLossFiles, create: boolean): Promise<StorageDevice> {
  return StorageDevice.open({
    dir, files,
    create: create ? { deviceId: "mirror-power-loss", luCount: 2, luSizeBytes, extentSizeBytes, storeSlotSizeBytes: 64 * 1024 } : undefined,
  });
}

async function newEpoch(device: StorageDevice, nowMs: number): Promise<number> {
  const lease = await device.arbiter.acquire(`controller-${nowMs}`, "", leaseMs, nowMs);
  assert.ok(lease.granted);
  return lease.epoch;
}

/** Commits a table with volume v's one extent on lu0 area 1, mirrored to lu1 area 2. */
async function commitMirrorTable(device: StorageDevice, epoch: number): Promise<void> {
  const { state, sequence } = device.readStore();
  const indexOf = (id: string): number => state.lus.find((lu) => lu.id === id)?.index ?? -1;
  const table: StoreState = {
    ...state,
    generation: state.generation + 1,
    volumes: [{
      name: "v", size_bytes: extentSizeBytes, extent_size_bytes: extentSizeBytes,
      extents: { lu_index: [indexOf("lu0")], area_index: [1], mirror_lu_index_plus_one: [indexOf("lu1") + 1], mirror_area_index: [2] },
    }],
  };
  await device.writeStore(table, sequence, epoch);
}

/** Per sector of the source area: every version written, and the one that must survive at least. */
interface AreaHistory {
  readonly versions: Buffer[][];
  readonly floors: Int32Array;
  /** Sectors of the host write not yet answered: after a cut they may differ between source and destination (see below). */
  inFlight: ReadonlySet<number>;
}

async function hostWriteFua(device: StorageDevice, random: SeededRandom, history: AreaHistory): Promise<void> {
  const offsetInArea = random.below((extentSizeBytes - hostWriteBytes) / sectorSizeBytes) * sectorSizeBytes;
  const data = Buffer.alloc(hostWriteBytes);
  for (let byte = 0; byte < data.length; byte += 4) data.writeUInt32LE(random.nextUint32(), byte);
  const firstSector = offsetInArea / sectorSizeBytes;
  const written: [number, number][] = [];
  for (let index = 0; index < hostWriteBytes / sectorSizeBytes; index += 1) {
    const versions = history.versions[firstSector + index];
    assert.ok(versions !== undefined);
    versions.push(Buffer.from(data.subarray(index * sectorSizeBytes, (index + 1) * sectorSizeBytes)));
    written.push([firstSector + index, versions.length - 1]);
  }
  const nbdExport = logicalUnitExports(device).open("lu0");
  assert.ok(nbdExport !== undefined);
  history.inFlight = new Set(written.map(([sector]) => sector));
  await nbdExport.write(extentSizeBytes + offsetInArea, data, true);
  history.inFlight = new Set();
  for (const [sector, version] of written) history.floors[sector] = Math.max(history.floors[sector] ?? -1, version);
}

/** Until the mirror is in sync; gives up (returns false) when the power goes off or the wait runs out. */
async function untilSynced(device: StorageDevice, files: PowerLossFiles): Promise<boolean> {
  const startMs = performance.now();
  while (files.poweredOn && performance.now() - startMs < syncWaitMaxMs) {
    if (device.mirrors.list().some((status) => status.synced)) return true;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return false;
}

/** The source area written (durably) with seeded bytes, and a table that puts it in mirror state. */
async function prepare(seed: number): Promise<{ files: PowerLossFiles; device: StorageDevice; history: AreaHistory; random: SeededRandom }> {
  const files = new PowerLossFiles();
  const device = await openDevice(files, true);
  const random = new SeededRandom(seed);
  const history: AreaHistory = {
    versions: Array.from({ length: sectorsPerArea }, () => []), floors: new Int32Array(sectorsPerArea).fill(-1), inFlight: new Set(),
  };
  for (let write = 0; write < hostWritesPerSeed; write += 1) await hostWriteFua(device, random, history);
  await commitMirrorTable(device, await newEpoch(device, 1_000));
  return { files, device, history, random };
}

/** Sectors of `area` that lost an acknowledged write. */
function lostSectors(area: Buffer, history: AreaHistory): number[] {
  const lost: number[] = [];
  for (let sector = 0; sector < sectorsPerArea; sector += 1) {
    const found = area.subarray(sector * sectorSizeBytes, (sector + 1) * sectorSizeBytes);
    const floor = history.floors[sector] ?? -1;
    const versions = history.versions[sector] ?? [];
    const matches = floor < 0 ? found.equals(zeroSector) || versions.some((version) => version.equals(found))
      : versions.slice(floor).some((version) => version.equals(found));
    if (!matches) lost.push(sector);
  }
  return lost;
}

/** Checks both areas once the mirror is in sync: no acknowledged write lost, and equal everywhere. */
async function checkAreas(device: StorageDevice, history: AreaHistory): Promise<void> {
  const source = Buffer.alloc(extentSizeBytes);
  const destination = Buffer.alloc(extentSizeBytes);
  await device.lu("lu0").readDirect(extentSizeBytes, source);
  await device.lu("lu1").readDirect(2 * extentSizeBytes, destination);
  expect(lostSectors(source, history), "source sectors that lost an acknowledged write").toEqual([]);
  expect(lostSectors(destination, history), "destination sectors that lost an acknowledged write").toEqual([]);
  const differing: number[] = [];
  for (let sector = 0; sector < sectorsPerArea; sector += 1) {
    const span = [sector * sectorSizeBytes, (sector + 1) * sectorSizeBytes] as const;
    if (!source.subarray(...span).equals(destination.subarray(...span))) differing.push(sector);
  }
  expect(differing, "sectors where the destination differs from the source once in sync (in flight at the cut: "
    + `${differing.filter((sector) => history.inFlight.has(sector)).length})`).toEqual([]);
}

/** Regions the write-intent record holds after the cut, read as the reopen will. */
async function marksAfterCut(files: PowerLossFiles): Promise<number> {
  const fd = await files.open(intentPath, "r");
  try {
    const reading = await readIntentFile(files, fd, intentPath);
    if (typeof reading === "string") throw new Error(`the write-intent record is unreadable after a cut: ${reading}`);
    return reading.regions.length;
  } finally {
    await files.close(fd);
  }
}

/**
 * One seed: copy and host writes cut at a seeded operation, restart,
 * resume, check; returns the regions the record held at the restart.
 * `loseMarks` plants the bug the record fixes: it is emptied before the reopen.
 */
async function powerCut(seed: number, loseMarks: boolean): Promise<number> {
  const { files, device, history, random } = await prepare(seed);
  files.powerOffAtOperation(files.operations + 1 + random.below(cutOperationsMax));
  const running = (async () => {
    await device.startMirror(device.arbiter.highestEpoch, request);
    for (let write = 0; write < hostWritesPerSeed; write += 1) {
      await hostWriteFua(device, random, history);
      // Spread over the copy: host writes into the chunk being copied do not wait for it, so
      // back to back they would all land before the first chunk's copy, none of them mirrored.
      await new Promise((resolve) => setTimeout(resolve, random.below(2)));
    }
    await untilSynced(device, files);
  })();
  const cutsBefore = files.cuts;
  running.catch((error: unknown) => { if (files.poweredOn && files.cuts === cutsBefore) throw error; });
  await Promise.race([running, files.whenPoweredOff()]);
  files.cut(seed);
  const marks = await marksAfterCut(files);
  if (loseMarks) await createStoreFile(files, intentPath, writeIntentSlotBytes);
  const restarted = await openDevice(files, false);
  try {
    // A new controller takes over and starts the migration's mirror again.
    await restarted.startMirror(await newEpoch(restarted, 100_000), request);
    expect(await untilSynced(restarted, files), "the resumed mirror is in sync").toBe(true);
    await checkAreas(restarted, history);
  } finally {
    await restarted.close();
  }
  return marks;
}

describe("a migration losing power", () => {
  const seeds = replaySeed === undefined ? Array.from({ length: seedCount }, (_, index) => index) : [Number(replaySeed)];

  it(`resumes, loses no acknowledged write, and ends equal even where a write was cut, across ${seeds.length} seeded power cuts`, async () => {
    let seedsWithMarks = 0;
    let marksRecovered = 0;
    for (const seed of seeds) {
      try {
        const marks = await powerCut(seed, false);
        seedsWithMarks += marks > 0 ? 1 : 0;
        marksRecovered += marks;
      } catch (error) {
        throw new Error(`mirror power cut seed ${seed} failed (replay: SWITCHYARD_POWER_LOSS_SEED=${seed}): ${String(error)}`, { cause: error });
      }
    }
    console.log(`${seeds.length} mirror power cuts: ${seedsWithMarks} restarted with write-intent marks, ${marksRecovered} regions copied again or released`);
  }, 120_000);

  it("catches a restart that lost the write-intent record's marks (planted bug)", async () => {
    let caught: string | undefined;
    for (let seed = 0; seed < plantedSeedsMax && caught === undefined; seed += 1) {
      caught = await powerCut(seed, true).then(() => undefined, (error: unknown) => `seed ${seed}: ${String(error)}`);
    }
    expect(caught, `some seed below ${plantedSeedsMax} ends with the areas differing when the marks are lost`).toMatch(/differs from the source once in sync/);
  }, 120_000);
});
