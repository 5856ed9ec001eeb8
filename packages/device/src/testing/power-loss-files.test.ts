// Goal: the power-loss model keeps exactly what a real power cut may keep:
// everything made durable (fdatasync, fsync, folder sync) always; of the
// rest, seeded subsets torn at 512-byte sectors, never inside a sector;
// names as a prefix of each folder's changes, a rename whole or not at all.
// And it is strict enough to catch a store that skips its fsync.
// Method: small files on the model, cut over a range of seeds, each outcome
// checked sector by sector; the planted bug (lyingSyncs) must be caught
// within the seeds tried, and the same run without it must pass.
import type { StoreState } from "@switchyard/proto";
import { describe, expect, it } from "vitest";
import { ConfigurationStore } from "../configuration-store.js";
import { datasync, readFileIfExists, writeFileDurably, writeFully } from "../durable-file.js";
import { lyingSyncs } from "./lying-syncs.js";
import { PowerLossFiles, sectorSizeBytes } from "./power-loss-files.js";

const folder = "/model";
const seedsTried = 64;

function pattern(lengthBytes: number, fill: number): Buffer {
  return Buffer.alloc(lengthBytes, fill);
}

async function modelWithFile(name: string, contents: Buffer): Promise<{ files: PowerLossFiles; fd: number; filePath: string }> {
  const files = new PowerLossFiles();
  await files.mkdir(folder);
  const filePath = `${folder}/${name}`;
  const fd = await files.open(filePath, "wx+");
  await writeFully(files, fd, contents, 0);
  await datasync(files, fd);
  await files.syncFolder(folder);
  return { files, fd, filePath };
}

/** Per sector of `bytes`: "old", "new", or "mixed" (a sector torn inside, which must never happen). */
function sectorStates(bytes: Buffer, oldFill: number, newFill: number): string[] {
  const states: string[] = [];
  for (let start = 0; start < bytes.length; start += sectorSizeBytes) {
    const sector = bytes.subarray(start, start + sectorSizeBytes);
    states.push(sector.every((byte) => byte === oldFill) ? "old" : sector.every((byte) => byte === newFill) ? "new" : "mixed");
  }
  return states;
}

describe("PowerLossFiles", () => {
  it("keeps every write made durable by fdatasync, whatever the seed", async () => {
    for (let seed = 0; seed < seedsTried; seed += 1) {
      const { files, fd, filePath } = await modelWithFile("data", pattern(8 * sectorSizeBytes, 1));
      await writeFully(files, fd, pattern(3 * sectorSizeBytes, 2), sectorSizeBytes);
      await datasync(files, fd);
      files.cut(seed);
      expect(sectorStates(files.contents(filePath) ?? Buffer.alloc(0), 1, 2), `seed ${seed}`)
        .toEqual(["old", "new", "new", "new", "old", "old", "old", "old"]);
    }
  });

  it("keeps a seeded subset of unsynced writes, torn between sectors and never inside one", async () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < seedsTried; seed += 1) {
      const { files, fd, filePath } = await modelWithFile("data", pattern(8 * sectorSizeBytes, 1));
      await writeFully(files, fd, pattern(8 * sectorSizeBytes, 2), 0);
      const report = files.cut(seed);
      const states = sectorStates(files.contents(filePath) ?? Buffer.alloc(0), 1, 2);
      expect(states, `seed ${seed}`).not.toContain("mixed");
      expect(report.sectorsKept + report.sectorsDropped).toBe(8);
      outcomes.add(states.every((state) => state === "new") ? "all" : states.every((state) => state === "old") ? "none" : "torn");
    }
    expect([...outcomes].sort()).toEqual(["all", "none", "torn"]);
  });

  it("tears a write that covers part of a sector at that sector, keeping the rest of the sector", async () => {
    const written = pattern(2 * sectorSizeBytes, 1).fill(2, sectorSizeBytes - 50, sectorSizeBytes + 50);
    for (let seed = 0; seed < seedsTried; seed += 1) {
      const { files, fd, filePath } = await modelWithFile("data", pattern(2 * sectorSizeBytes, 1));
      await writeFully(files, fd, pattern(100, 2), sectorSizeBytes - 50);
      files.cut(seed);
      const bytes = files.contents(filePath) ?? Buffer.alloc(0);
      expect(bytes.length).toBe(2 * sectorSizeBytes);
      for (let start = 0; start < bytes.length; start += sectorSizeBytes) {
        const sector = bytes.subarray(start, start + sectorSizeBytes);
        const whole = sector.every((byte) => byte === 1) || sector.equals(written.subarray(start, start + sectorSizeBytes));
        expect(whole, `seed ${seed}, sector ${start / sectorSizeBytes}`).toBe(true);
      }
    }
  });

  it("loses a created file whose folder was not synced on some seeds, even when the file was fsynced", async () => {
    const survived = new Set<boolean>();
    for (let seed = 0; seed < seedsTried; seed += 1) {
      const files = new PowerLossFiles();
      await files.mkdir(folder);
      const fd = await files.open(`${folder}/new`, "w");
      await writeFully(files, fd, pattern(10, 3), 0);
      await files.fsync(fd);
      files.cut(seed);
      const bytes = await readFileIfExists(files, `${folder}/new`);
      if (bytes !== undefined) expect(bytes).toEqual(pattern(10, 3));
      survived.add(bytes !== undefined);
    }
    expect([...survived].sort()).toEqual([false, true]);
  });

  it("keeps a durable write-and-rename whole: the old or the new file, never a torn or missing one", async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < seedsTried; seed += 1) {
      const files = new PowerLossFiles();
      await files.mkdir(folder);
      await writeFileDurably(files, `${folder}/small.json`, "old");
      // Create, write, fsync, rename, folder sync: power goes off as the folder sync (the fifth) starts.
      files.powerOffAtOperation(files.operations + 5);
      void writeFileDurably(files, `${folder}/small.json`, "new");
      await files.whenPoweredOff();
      files.cut(seed);
      const text = (await readFileIfExists(files, `${folder}/small.json`))?.toString("utf8");
      expect(["old", "new"], `seed ${seed}`).toContain(text);
      seen.add(text ?? "missing");
    }
    expect([...seen].sort()).toEqual(["new", "old"]);
  });

  it("completes nothing once the power is off, and refuses descriptors from before the cut", async () => {
    const { files, fd, filePath } = await modelWithFile("data", pattern(sectorSizeBytes, 1));
    files.powerOffAtOperation(files.operations + 1);
    let answered = false;
    files.write(fd, pattern(sectorSizeBytes, 2), 0, sectorSizeBytes, 0, () => { answered = true; });
    await files.whenPoweredOff();
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    expect(() => files.readSync(fd, Buffer.alloc(1), 0, 1, 0)).toThrow(/EIO/);
    files.cut(1);
    expect(() => files.readSync(fd, Buffer.alloc(1), 0, 1, 0)).toThrow(/EBADF/);
    expect(files.contents(filePath)?.length).toBe(sectorSizeBytes);
  });

  describe("the planted bug: a store that skips its fsyncs", () => {
    const commitsMax = 6;

    /** Commits states 1..commitsMax, cuts power at `seed`, and says whether the store came back at the last acknowledged one. */
    async function storeSurvives(seed: number, planted: boolean): Promise<boolean> {
      const model = new PowerLossFiles();
      await model.mkdir(folder);
      const files = planted ? lyingSyncs(model, (filePath) => filePath.includes("store")) : model;
      const store = await ConfigurationStore.open(`${folder}/store.slots`, { slotSizeBytes: 16 * 1024, files });
      // Create is made durable by the store's own folder sync; the bug is in the writes after.
      let acknowledged = store.sequence;
      for (let commit = 1; commit <= commitsMax; commit += 1) {
        acknowledged = await store.write(stateOf(commit), acknowledged);
      }
      model.cut(seed);
      const reopened = await ConfigurationStore.open(`${folder}/store.slots`, { files: model }).catch(() => undefined);
      return reopened?.sequence === acknowledged;
    }

    it("passes every seed without the bug", async () => {
      for (let seed = 0; seed < seedsTried; seed += 1) expect(await storeSurvives(seed, false), `seed ${seed}`).toBe(true);
    });

    it("is caught within the seeds tried", async () => {
      const caughtAt: number[] = [];
      for (let seed = 0; seed < seedsTried; seed += 1) if (!(await storeSurvives(seed, true))) caughtAt.push(seed);
      expect(caughtAt.length).toBeGreaterThan(0);
    });
  });
});

function stateOf(generation: number): StoreState {
  return { generation, volumes: [{ name: `v${generation}`, size_bytes: 8 << 20, extent_size_bytes: 4 << 20 }] };
}
