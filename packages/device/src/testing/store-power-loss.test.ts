// Goal: the configuration store's own crash windows hold under power loss:
// a log append, the checkpoint the store folds in after
// checkpointLogRecordsMax appends (written to the other slot, then the log
// zeroed), and a whole-state write. After any cut it opens at the last
// answered sequence, or at the one in flight, with that sequence's state.
// Method: per seed, a store on the power-loss model takes appends (and now
// and then a whole write) past one scheduled checkpoint; power goes off at a
// seeded file operation among them; the model cuts with the seed; the store
// opens again. Replay: SWITCHYARD_POWER_LOSS_SEED=<seed>; more seeds:
// SWITCHYARD_STORE_POWER_LOSS_SEEDS=<n>.
import type { StoreDelta, StoreState } from "@switchyard/proto";
import { describe, expect, it } from "vitest";
import { ConfigurationStore, checkpointLogRecordsMax } from "../configuration-store.js";
import { lyingSyncs } from "./lying-syncs.js";
import { PowerLossFiles } from "./power-loss-files.js";
import { SeededRandom } from "./seeded-random.js";

const seedsDefault = 40;
const seedCount = Number(process.env.SWITCHYARD_STORE_POWER_LOSS_SEEDS ?? seedsDefault);
const replaySeed = process.env.SWITCHYARD_POWER_LOSS_SEED;
/** Past one scheduled checkpoint, and a little beyond. */
const commitsPerSeed = checkpointLogRecordsMax + 20;
/** An append costs a write and an fdatasync; a checkpoint a few more: about two operations per commit. */
const operationsPerCommit = 2;
const storePath = "/power-loss/store/store.slots";

function delta(generation: number): StoreDelta {
  return { diff: { base_generation: generation, generation: generation + 1, rows: [] } };
}

function whole(generation: number): StoreState {
  return { generation, volumes: [{ name: `v${generation}`, size_bytes: 1 << 20, extent_size_bytes: 1 << 20 }] };
}

/** One seed: commits cut at a seeded operation, then the store opens at what was answered (or in flight). */
async function powerCut(seed: number, planted?: (filePath: string) => boolean): Promise<void> {
  const files = new PowerLossFiles();
  await files.mkdir("/power-loss/store");
  const store = await ConfigurationStore.open(storePath, { slotSizeBytes: 64 * 1024, files: planted === undefined ? files : lyingSyncs(files, planted) });
  const random = new SeededRandom(seed);
  files.powerOffAtOperation(files.operations + 1 + random.below(commitsPerSeed * operationsPerCommit));
  let answered = store.sequence;
  const running = (async () => {
    for (let commit = 0; commit < commitsPerSeed; commit += 1) {
      const generation = store.view().state.generation;
      answered = random.chance(0.05) ? await store.write(whole(generation + 1), answered) : await store.append(delta(generation));
    }
  })();
  const cutsBefore = files.cuts;
  running.catch((error: unknown) => { if (files.poweredOn && files.cuts === cutsBefore) throw error; });
  await Promise.race([running, files.whenPoweredOff()]);
  files.cut(seed);
  const reopened = await ConfigurationStore.open(storePath, { files });
  try {
    expect([answered, answered + 1], "the store opens at the last answered sequence or the one in flight").toContain(reopened.sequence);
    // Every commit here raises the generation by one from 0: the state is the sequence's own.
    expect(reopened.view().state.generation).toBe(reopened.sequence);
  } finally {
    await reopened.close();
  }
}

describe("the configuration store losing power", () => {
  const seeds = replaySeed === undefined ? Array.from({ length: seedCount }, (_, index) => index) : [Number(replaySeed)];

  it(`opens at the last committed sequence across ${seeds.length} seeded power cuts, checkpoints included`, async () => {
    for (const seed of seeds) {
      try {
        await powerCut(seed);
      } catch (error) {
        throw new Error(`store power cut seed ${seed} failed (replay: SWITCHYARD_POWER_LOSS_SEED=${seed}): ${String(error)}`, { cause: error });
      }
    }
  }, 120_000);

  // The test is itself tested: each planted missing sync fails some seed.
  const plantedBugs: readonly [string, (filePath: string) => boolean][] = [
    ["log appends answered without fdatasync", (filePath) => filePath.endsWith(".log")],
    ["checkpoint slots written without fsync", (filePath) => filePath.endsWith(".slots")],
  ];
  for (const [bug, planted] of plantedBugs) {
    it(`catches a planted bug: ${bug}`, async () => {
      const caughtBy: number[] = [];
      for (let seed = 0; seed < seeds.length * 5 && caughtBy.length === 0; seed += 1) {
        await powerCut(seed, planted).catch(() => { caughtBy.push(seed); });
      }
      expect(caughtBy.length).toBeGreaterThan(0);
    }, 120_000);
  }
});
