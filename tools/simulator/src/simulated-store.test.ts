// Goal: the simulated disk and store under the cluster simulation keep
// what store-log.ts promises and nothing more: a commit is answered only
// once its record has landed, a power cut keeps the writes in flight in
// order up to the first that did not land, the store reopens at the last
// record on disk, and a failing disk crashes the device instead of
// answering; and the planted store-ack-before-sync is seen losing an
// acknowledged commit.
// Method: a DeviceDisk and a DurableStore on a VirtualWorld with no other
// events, driven by hand; the coin's seed is searched for the outcome a
// case needs, so each case shows the branch it names.
import type { StoreState__Output } from "@switchyard/proto";
import { describe, expect, it } from "vitest";
import { Random } from "./prng.js";
import { DeviceDisk, DurableStore, startingStore } from "./simulated-store.js";
import { VirtualWorld } from "./virtual-world.js";

const layout = { volumeName: "v", volumeExtentCount: 4, luCount: 2, luSizeBytes: 8 * 4_096, extentSizeBytes: 4_096 };
const disk = { syncMinMs: 1, syncMaxMs: 2 };
/** Seeds tried for a coin outcome: each outcome comes up about one seed in two. */
const seedsMax = 64;

interface Rig {
  readonly world: VirtualWorld;
  readonly disk: DeviceDisk;
  readonly store: DurableStore;
  readonly failures: string[];
}

function rig(seed: number, acksBeforeSync: boolean): Rig {
  const world = new VirtualWorld();
  const failures: string[] = [];
  const simulatedDisk = new DeviceDisk(world, new Random(seed), disk, (what) => { failures.push(what); });
  const store = new DurableStore(startingStore(layout), simulatedDisk, acksBeforeSync, () => undefined);
  return { world, disk: simulatedDisk, store, failures };
}

/** The next generation of the store, as a commit would make it. */
const nextGeneration = (current: StoreState__Output): StoreState__Output => ({ ...current, generation: current.generation + 1 });

/** Starts `count` commits, cuts power at `cutAtMs`, and reopens. */
async function cutAt(seed: number, count: number, acksBeforeSync: boolean, cutAtMs: number): Promise<{ rig: Rig; acknowledged: number[]; lost: string | undefined }> {
  const setup = rig(seed, acksBeforeSync);
  const acknowledged: number[] = [];
  for (let index = 0; index < count; index += 1) void setup.store.write(nextGeneration).then((sequence) => { acknowledged.push(sequence); });
  setup.world.schedule(cutAtMs, () => { setup.disk.powerCut(); });
  await setup.world.runUntilIdle();
  return { rig: setup, acknowledged, lost: setup.store.reopen() };
}

describe("the cluster device's simulated disk and store", () => {
  it("answers a commit once its record has landed, and a cut loses none that was answered", async () => {
    for (let seed = 1; seed <= seedsMax; seed += 1) {
      // Once the first has landed: the store writes one record at a time, so the second is on the disk, the third queued.
      const { rig: setup, acknowledged, lost } = await cutAt(seed, 3, false, disk.syncMaxMs + 0.5);
      expect(lost).toBeUndefined();
      expect(setup.store.sequence).toBeGreaterThanOrEqual(1 + acknowledged.length);
      expect(setup.store.state.generation).toBe(setup.store.sequence);
    }
  });

  it("keeps the writes in flight at a cut in order, up to the first that did not land", async () => {
    const outcomes = new Set<number>();
    for (let seed = 1; seed <= seedsMax; seed += 1) {
      // Answered before the disk (the planted bug) puts all three on the disk at once; cut before any lands.
      const { rig: setup } = await cutAt(seed, 3, true, disk.syncMinMs / 2);
      const { landedAtCut, lostAtCut } = setup.disk.stats;
      expect(landedAtCut + lostAtCut).toBe(3);
      // The store reopens at the last record that landed, with none after a lost one.
      expect(setup.store.sequence).toBe(1 + landedAtCut);
      outcomes.add(landedAtCut);
    }
    expect([0, 1, 2].every((landed) => outcomes.has(landed))).toBe(true);
  });

  it("crashes instead of answering when the disk fails a write", async () => {
    const setup = rig(1, false);
    setup.disk.failFor(10);
    let answered = false;
    void setup.store.write(nextGeneration).then(() => { answered = true; });
    await setup.world.runUntilIdle();
    expect(answered).toBe(false);
    expect(setup.failures).toEqual(["store record 2"]);
    expect(setup.store.reopen()).toBeUndefined();
    expect(setup.store.sequence).toBe(1);
  });

  it("sees the planted store-ack-before-sync lose an acknowledged commit", async () => {
    let lost: string | undefined;
    for (let seed = 1; seed <= seedsMax && lost === undefined; seed += 1) lost = (await cutAt(seed, 3, true, disk.syncMaxMs + 0.5)).lost;
    expect(lost).toMatch(/acknowledged at sequence 4/);
  });
});
