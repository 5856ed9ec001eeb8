// Goal: a power cut loses nothing the device acknowledged as durable. Every
// host write acknowledged with FUA, or acknowledged before a FLUSH that was
// acknowledged, reads back after the restart; the configuration store opens
// at the last committed generation (or the one in flight); registrations
// and fences answered stay; the arbiter never grants an epoch twice.
// Method: per seed, a device on the power-loss model (PowerLossFiles) runs a
// seeded workload through its NBD export (writes with and without FUA, one
// at a time and several in flight with a FLUSH among them), its store (log appends and checkpoints), its registrations and its
// arbiter. Power goes off a seeded number of file operations into a seeded
// step (mid-LU-write, mid-store-write, mid-registration, ...), the model
// cuts with the same seed, the device is
// opened again on what survived, and everything acknowledged is checked,
// sector by sector for the LU. On failure the seed is printed; replay it
// with SWITCHYARD_POWER_LOSS_SEED=<seed>. SWITCHYARD_POWER_LOSS_SEEDS=<n>
// runs more seeds than CI's.
import assert from "node:assert/strict";
import { describe, expect, it } from "vitest";
import { logicalUnitExports } from "../lu-exports.js";
import { StorageDevice } from "../storage-device.js";
import type { DeviceFiles } from "../device-files.js";
import { lyingSyncs } from "./lying-syncs.js";
import { PowerLossFiles, sectorSizeBytes } from "./power-loss-files.js";
import { SeededRandom } from "./seeded-random.js";

/** CI's seeds: about two hundred cuts in a few seconds. */
const seedsDefault = 200;
const seedCount = Number(process.env.SWITCHYARD_POWER_LOSS_SEEDS ?? seedsDefault);
const replaySeed = process.env.SWITCHYARD_POWER_LOSS_SEED;
/** Seeds a planted bug may take to be caught; each is caught within a few dozen. */
const plantedSeedsMax = 200;
/** Steps of one workload: enough to mix every kind of step a few times. */
const stepsPerWorkload = 24;
/** A host write: 1 to 8 pages of 4 KiB, page aligned. */
const pageSizeBytes = 4096;
const writePagesMax = 8;
/** Writes in flight at once in a burst step, as several host connections send them. */
const burstWritesMax = 6;
const luSizeBytes = 2 << 20;
const leaseMs = 10_000;
/** A step does 1 to about 8 file operations (a checkpoint: slot write, fsync, log zeroing, datasync); cut within them. */
const cutOperationsIntoMax = 8;
/** The cut point draws from its own stream, so it does not shift the workload's. */
const cutSeedMask = 0x5eed;
const dir = "/power-loss/device";
const sectorsPerLu = luSizeBytes / sectorSizeBytes;
const zeroSector = Buffer.alloc(sectorSizeBytes);

type StepKind = "lu-write" | "burst" | "flush" | "store-append" | "store-checkpoint" | "registration" | "epoch";
const stepKinds: readonly StepKind[] = ["lu-write", "lu-write", "lu-write", "burst", "burst", "flush", "store-append", "store-checkpoint", "registration", "epoch"];

/** What was acknowledged, and what might have become durable without an answer. */
class History {
  /** Per LU sector, every content written there, in issue order. */
  readonly versions: Buffer[][] = Array.from({ length: sectorsPerLu }, () => []);
  /** Per LU sector, the index in `versions` that must survive at least (-1: nothing, zeroes allowed). */
  readonly floors = new Int32Array(sectorsPerLu).fill(-1);
  /** Writes answered since the last FLUSH was issued: (sector, version index) pairs. */
  answeredSinceFlush: [number, number][] = [];
  generationAnswered = 0;
  generationInFlight = false;
  epochAnswered = 0;
  readonly registrationsAnswered = new Map<string, "granted" | "fenced">();
  /** A registration or fence saved but not answered: after a cut it may or may not be there. */
  registrationInFlight: { readonly apparatusId: string; readonly status: "granted" | "fenced" } | undefined;
  /** The step that was running when power went off. */
  stepAtCut: StepKind | "none" = "none";

  raiseFloors(pairs: readonly [number, number][]): void {
    for (const [sector, version] of pairs) this.floors[sector] = Math.max(this.floors[sector] ?? -1, version);
  }
}

interface Workload {
  readonly device: StorageDevice;
  readonly random: SeededRandom;
  readonly history: History;
  nowMs: number;
  epoch: number;
  controller: number;
}

async function openDevice(files: DeviceFiles, create: boolean): Promise<StorageDevice> {
  return StorageDevice.open({
    dir, files,
    create: create ? { deviceId: "power-loss", luCount: 1, luSizeBytes, extentSizeBytes: 1 << 20, storeSlotSizeBytes: 64 * 1024 } : undefined,
  });
}

/** One host write of `pages` pages at `offsetBytes`, FUA by chance, recorded in the history as issued and as answered. */
async function hostWrite(workload: Workload, offsetBytes: number, pages: number): Promise<void> {
  const { random, history } = workload;
  const fua = random.chance(0.3);
  const data = Buffer.alloc(pages * pageSizeBytes);
  const written: [number, number][] = [];
  for (let index = 0; index < data.length / sectorSizeBytes; index += 1) {
    // Each sector its own seeded bytes, so a sector from the wrong write shows.
    const sector = data.subarray(index * sectorSizeBytes, (index + 1) * sectorSizeBytes);
    for (let byte = 0; byte < sector.length; byte += 4) sector.writeUInt32LE(random.nextUint32(), byte);
    const sectorIndex = offsetBytes / sectorSizeBytes + index;
    const versions = history.versions[sectorIndex];
    assert.ok(versions !== undefined);
    versions.push(Buffer.from(sector));
    written.push([sectorIndex, versions.length - 1]);
  }
  const nbdExport = logicalUnitExports(workload.device).open("lu0");
  assert.ok(nbdExport !== undefined);
  await nbdExport.write(offsetBytes, data, fua);
  // NBD proto.md: FUA = durable before the reply; otherwise durable once a FLUSH issued after the reply is answered.
  if (fua) history.raiseFloors(written);
  history.answeredSinceFlush.push(...written);
}

async function randomHostWrite(workload: Workload): Promise<void> {
  const pages = 1 + workload.random.below(writePagesMax);
  const offsetBytes = workload.random.below(luSizeBytes / pageSizeBytes - pages + 1) * pageSizeBytes;
  await hostWrite(workload, offsetBytes, pages);
}

/**
 * Writes in flight together, each in its own slice of the LU (so their
 * order on a sector is never in question), with a FLUSH issued among them:
 * it covers only the writes answered before it was issued.
 */
async function hostBurst(workload: Workload): Promise<void> {
  const { random } = workload;
  const count = 2 + random.below(burstWritesMax - 1);
  const slicePages = Math.floor(luSizeBytes / pageSizeBytes / count);
  const flushAfter = random.below(count + 1);
  const running: Promise<void>[] = [];
  for (let index = 0; index < count; index += 1) {
    if (index === flushAfter) running.push(hostFlush(workload));
    const pages = 1 + random.below(Math.min(writePagesMax, slicePages));
    const offsetBytes = (index * slicePages + random.below(slicePages - pages + 1)) * pageSizeBytes;
    running.push(hostWrite(workload, offsetBytes, pages));
  }
  if (flushAfter === count) running.push(hostFlush(workload));
  await Promise.all(running);
}

async function hostFlush(workload: Workload): Promise<void> {
  const covered = workload.history.answeredSinceFlush;
  workload.history.answeredSinceFlush = [];
  const nbdExport = logicalUnitExports(workload.device).open("lu0");
  assert.ok(nbdExport !== undefined);
  await nbdExport.flush();
  workload.history.raiseFloors(covered);
}

async function storeStep(workload: Workload, delta: boolean): Promise<void> {
  const { device, history } = workload;
  const { state, sequence } = device.readStore();
  const generation = state.generation;
  history.generationInFlight = true;
  if (delta) {
    await device.commitDelta({ diff: { base_generation: generation, generation: generation + 1, rows: [] } }, workload.epoch);
  } else {
    await device.writeStore({ ...state, generation: generation + 1 }, sequence, workload.epoch);
  }
  history.generationAnswered = generation + 1;
  history.generationInFlight = false;
}

async function registrationStep(workload: Workload): Promise<void> {
  const apparatusId = `apparatus-${workload.random.below(4)}`;
  const fence = workload.random.chance(0.3);
  const status = fence ? "fenced" : "granted";
  if (fence) workload.device.fence(apparatusId, workload.epoch);
  else workload.device.registerKey(apparatusId, `key-${apparatusId}`, workload.epoch);
  workload.history.registrationInFlight = { apparatusId, status };
  // The service answers only after this save (storage-device.ts saveRegistrations).
  await workload.device.saveRegistrations();
  workload.history.registrationsAnswered.set(apparatusId, status);
  workload.history.registrationInFlight = undefined;
}

async function epochStep(workload: Workload): Promise<void> {
  // The old lease lapses; a new controller takes a new epoch.
  workload.nowMs += leaseMs + 1;
  workload.controller += 1;
  const lease = await workload.device.arbiter.acquire(`controller-${workload.controller}`, "", leaseMs, workload.nowMs);
  assert.ok(lease.granted);
  workload.epoch = lease.epoch;
  workload.history.epochAnswered = lease.epoch;
}

async function runStep(workload: Workload, kind: StepKind): Promise<void> {
  switch (kind) {
    case "lu-write": return randomHostWrite(workload);
    case "burst": return hostBurst(workload);
    case "flush": return hostFlush(workload);
    case "store-append": return storeStep(workload, true);
    case "store-checkpoint": return storeStep(workload, false);
    case "registration": return registrationStep(workload);
    case "epoch": return epochStep(workload);
  }
}

/** Where power goes off: `operationsInto` file operations into step `stepIndex`. */
interface CutPoint {
  readonly stepIndex: number;
  readonly operationsInto: number;
}

async function runWorkload(workload: Workload, files: PowerLossFiles, cutPoint: CutPoint): Promise<void> {
  await epochStep(workload);
  for (let step = 0; step < stepsPerWorkload; step += 1) {
    const kind = stepKinds[workload.random.below(stepKinds.length)];
    assert.ok(kind !== undefined);
    // A step shorter than the offset passes the cut on to the steps after it.
    if (step === cutPoint.stepIndex) files.powerOffAtOperation(files.operations + cutPoint.operationsInto);
    workload.history.stepAtCut = kind;
    await runStep(workload, kind);
  }
  workload.history.stepAtCut = "none";
}

/**
 * A device created on a fresh model, and the workload for `seed` ready to
 * run on it; with `planted`, the device's syncs of those files do nothing.
 */
async function prepare(seed: number, planted?: (filePath: string) => boolean): Promise<{ files: PowerLossFiles; workload: Workload }> {
  const files = new PowerLossFiles();
  const device = await openDevice(planted === undefined ? files : lyingSyncs(files, planted), true);
  const history = new History();
  history.generationAnswered = device.readStore().state.generation;
  return { files, workload: { device, random: new SeededRandom(seed), history, nowMs: 1_000, epoch: 0, controller: 0 } };
}

async function checkAfterRestart(device: StorageDevice, history: History): Promise<void> {
  const { state } = device.readStore();
  const allowed = [history.generationAnswered, ...(history.generationInFlight ? [history.generationAnswered + 1] : [])];
  expect(allowed, "the store opens at the last committed generation").toContain(state.generation);
  expect(device.arbiter.highestEpoch, "no epoch is granted twice").toBeGreaterThanOrEqual(history.epochAnswered);
  const inFlight = history.registrationInFlight;
  for (const [apparatusId, status] of history.registrationsAnswered) {
    const allowed = [status, ...(inFlight?.apparatusId === apparatusId ? [inFlight.status] : [])];
    expect(allowed, `registration of ${apparatusId}`).toContain(device.registrationStatus(apparatusId, `key-${apparatusId}`));
  }
  const bytes = Buffer.alloc(luSizeBytes);
  await device.lu("lu0").read(0, bytes);
  const lost: string[] = [];
  for (let sector = 0; sector < sectorsPerLu; sector += 1) {
    const found = bytes.subarray(sector * sectorSizeBytes, (sector + 1) * sectorSizeBytes);
    const floor = history.floors[sector] ?? -1;
    const versions = history.versions[sector] ?? [];
    // The durable version or any later one (an unanswered write may have landed); zeroes only if nothing was durable.
    const matches = (floor < 0 && found.equals(zeroSector)) || versions.slice(Math.max(floor, 0)).some((version) => version.equals(found));
    if (!matches) lost.push(`sector ${sector} (durable version ${floor} of ${versions.length})`);
  }
  expect(lost, "LU sectors that lost an acknowledged write").toEqual([]);
}

/** One seed: a run cut at a seeded point, restart, check. Returns the step cut. */
async function powerCut(seed: number, planted?: (filePath: string) => boolean): Promise<StepKind | "none"> {
  const { files, workload } = await prepare(seed, planted);
  const choice = new SeededRandom(seed ^ cutSeedMask);
  const cutPoint = { stepIndex: choice.below(stepsPerWorkload), operationsInto: 1 + choice.below(cutOperationsIntoMax) };
  const running = runWorkload(workload, files, cutPoint);
  // Once the power is off the workload never ends (or fails on a synchronous call): either is fine then.
  const cutsBefore = files.cuts;
  running.catch((error: unknown) => { if (files.poweredOn && files.cuts === cutsBefore) throw error; });
  await Promise.race([running, files.whenPoweredOff()]);
  files.cut(seed);
  const device = await openDevice(files, false);
  try {
    await checkAfterRestart(device, workload.history);
  } finally {
    await device.close();
  }
  return workload.history.stepAtCut;
}

describe("a device losing power", () => {
  const seeds = replaySeed === undefined ? Array.from({ length: seedCount }, (_, index) => index) : [Number(replaySeed)];

  it(`keeps everything acknowledged across ${seeds.length} seeded power cuts`, async () => {
    const cutsByStep = new Map<string, number>();
    for (const seed of seeds) {
      let step: string;
      try {
        step = await powerCut(seed);
      } catch (error) {
        throw new Error(`power cut seed ${seed} failed (replay: SWITCHYARD_POWER_LOSS_SEED=${seed}): ${String(error)}`, { cause: error });
      }
      cutsByStep.set(step, (cutsByStep.get(step) ?? 0) + 1);
    }
    if (replaySeed === undefined && seeds.length >= seedsDefault) {
      // The cuts must land inside every kind of step, or the test proves less than it says.
      for (const kind of ["lu-write", "burst", "flush", "store-append", "store-checkpoint", "registration", "epoch"]) {
        expect(cutsByStep.get(kind) ?? 0, `cuts during ${kind}`).toBeGreaterThan(0);
      }
    }
    console.log(`power cuts by step: ${JSON.stringify(Object.fromEntries(cutsByStep))}`);
  }, 120_000);

  // The harness is itself tested: each planted missing sync must fail some seed.
  const plantedBugs: readonly [string, (filePath: string) => boolean][] = [
    ["an LU whose fdatasync does nothing (FLUSH and FUA lie)", (filePath) => filePath.endsWith(".img")],
    ["a store whose fsyncs do nothing", (filePath) => filePath.includes("store.slots")],
    ["registrations saved without fsync", (filePath) => filePath.includes("registrations.json")],
    ["the arbiter's epoch saved without fsync", (filePath) => filePath.includes("arbiter.json")],
  ];
  for (const [bug, planted] of plantedBugs) {
    it(`catches a planted bug: ${bug}`, async () => {
      const caughtBy: number[] = [];
      for (let seed = 0; seed < plantedSeedsMax && caughtBy.length === 0; seed += 1) {
        await powerCut(seed, planted).catch(() => { caughtBy.push(seed); });
      }
      expect(caughtBy.length, `no seed below ${plantedSeedsMax} caught it`).toBeGreaterThan(0);
    }, 60_000);
  }
});
