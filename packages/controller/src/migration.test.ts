// Goal: a migration moves every extent in mirror state (mirror, device copy,
// switch) and ends committed with its rows on the target; between two
// external devices each extent goes in two hops through a device LU, as many
// at a time as that LU has room for, and a resumed migration goes on from the
// hop its rows show; with no device LU to stage through it fails saying so;
// cancelled, it says where the extents not moved are; a lost lease leaves it
// running for the next controller; a volume move (a migration of one extent)
// shows its changes as its phases.
// Method: MigrationRun over a table kept in memory whose changes commit at
// once and whose device reports every mirror in sync, on a fake clock.
import { describe, expect, it } from "vitest";
import type { ChangeInfo, CopyProgressRow, ExtentRow, JournalEntry } from "@switchyard/proto";
import { ControllerError } from "./errors.js";
import { MigrationRun, type DeviceMirrorEffects, type MigrationEffects, type StagingLu } from "./migration.js";
import type { Placement } from "./mirrored-copy.js";

const extentBytes = 4 * 1024 * 1024;
const externalLus: ReadonlySet<string> = new Set(["ext1:disk", "ext2:disk"]);

type MigrationEntry = JournalEntry & { copy_progress: CopyProgressRow[] };

function entry(count: number, from: string, to: string): MigrationEntry {
  const copyProgress = Array.from({ length: count }, (_, index) => ({
    volume: "v", extent_index: index, source_lu_id: from, source_area_index: index, destination_lu_id: to, destination_area_index: 0, watermark_bytes: 0, state: "pending",
  }));
  return { change_id: "migrate-1-abc", kind: "migrate", state: "CHANGE_STATE_RUNNING", copy_progress: copyProgress, target_lu_id: to, total_bytes: count * extentBytes };
}

/** The table as the store keeps it, and a device that copies every mirror at once. */
class World implements MigrationEffects {
  nowMs = 1_000;
  readonly changes: string[] = [];
  readonly persisted: MigrationEntry[] = [];
  stagingFreeAreas = 64;
  loseLeaseOn: string | undefined;
  onChange: ((kind: string) => void) | undefined;
  private readonly placements = new Map<number, Placement>();
  private readonly nextArea = new Map<string, number>();
  readonly mirrors: DeviceMirrorEffects;

  constructor(count: number, luId: string) {
    for (let extent = 0; extent < count; extent += 1) this.placements.set(extent, { luId, areaIndex: extent, mirror: undefined });
    this.mirrors = {
      change: (kind, volume, extents, toLuId) => this.change(kind, volume, extents, toLuId),
      startMirror: (row) => Promise.resolve({
        volume: row.volume ?? "", extentIndex: row.extent_index ?? 0, destination: { luId: row.destination_lu_id ?? "", areaIndex: row.destination_area_index ?? 0 },
        watermarkBytes: 0, synced: false, failure: "", holeBytesSkipped: 0, chunksCopiedAgain: 0,
      }),
      listMirrors: () => {
        this.nowMs += 30;
        const reports = [...this.placements].flatMap(([extentIndex, { mirror }]) =>
          mirror === undefined ? [] : [{ volume: "v", extentIndex, destination: mirror, watermarkBytes: extentBytes, synced: true, failure: "", holeBytesSkipped: 0, chunksCopiedAgain: 0 }]);
        return Promise.resolve({ reports, progress: this.nowMs });
      },
      placement: (_volume, extentIndex) => Promise.resolve(this.placementOf(extentIndex)),
    };
  }

  placementOf(extentIndex: number): Placement {
    const placement = this.placements.get(extentIndex);
    if (placement === undefined) throw new Error(`no extent ${extentIndex}`);
    return placement;
  }

  isExternal(luId: string): boolean {
    return externalLus.has(luId);
  }

  stagingLu(): Promise<StagingLu | undefined> {
    return Promise.resolve({ luId: "lu0", freeAreas: this.stagingFreeAreas });
  }

  persist(journaled: JournalEntry): Promise<void> {
    this.persisted.push(structuredClone(journaled) as MigrationEntry);
    return Promise.resolve();
  }

  sleep(ms: number): Promise<void> {
    this.nowMs += ms;
    return Promise.resolve();
  }

  now(): number {
    return this.nowMs;
  }

  private change(kind: "mirror" | "switch" | "unmirror", volume: string, extents: readonly number[], toLuId: string): Promise<{ info: ChangeInfo; rows: readonly ExtentRow[] }> {
    const label = kind === "mirror" ? `mirror ${extents.join(",")} to ${toLuId}` : `${kind} ${extents.join(",")}`;
    this.onChange?.(kind);
    if (label === this.loseLeaseOn) return Promise.reject(new ControllerError("NOT_CONTROLLER", "lease lost"));
    this.changes.push(label);
    const rows: ExtentRow[] = [];
    for (const extent of extents) {
      const placement = this.placementOf(extent);
      if (kind === "mirror") {
        const areaIndex = this.nextArea.get(toLuId) ?? 0;
        this.nextArea.set(toLuId, areaIndex + 1);
        this.placements.set(extent, { ...placement, mirror: { luId: toLuId, areaIndex } });
        rows.push({ volume, extent_index: extent, mirror_area_index: areaIndex });
      } else {
        const { mirror } = placement;
        if (mirror === undefined) throw new Error(`extent ${extent} is not in mirror state`);
        this.placements.set(extent, kind === "switch" ? { luId: mirror.luId, areaIndex: mirror.areaIndex, mirror: undefined } : { ...placement, mirror: undefined });
      }
    }
    const startedAtMs = this.nowMs;
    this.nowMs += 10;
    const info: ChangeInfo = {
      id: `${kind}-1`, state: "CHANGE_STATE_COMMITTED", started_at_ms: startedAtMs, ended_at_ms: this.nowMs,
      reports: [{ phase: "hold", apparatus_id: "a0", ok: true, message: "", elapsed_ms: 1 }], fenced: kind === "mirror" ? ["a1"] : [],
    };
    return Promise.resolve({ info, rows });
  }
}

describe("MigrationRun", () => {
  it("moves the extents between device LUs in mirror state and ends with every row on the target", async () => {
    const world = new World(3, "lu0");
    const run = new MigrationRun(entry(3, "lu0", "lu1"), extentBytes, world);
    await run.run();
    expect(world.changes).toEqual(["mirror 0,1,2 to lu1", "switch 0,1,2"]);
    const info = run.info();
    expect(info.state).toBe("CHANGE_STATE_COMMITTED");
    expect(info.copy_progress?.map((row) => [row.state, row.destination_lu_id, row.destination_area_index])).toEqual([["done", "lu1", 0], ["done", "lu1", 1], ["done", "lu1", 2]]);
    expect(world.persisted.at(-1)?.state).toBe("CHANGE_STATE_COMMITTED");
  });

  it("moves extents between two external devices in two hops through a device LU, never by a copy under a hold", async () => {
    const world = new World(2, "ext1:disk");
    const run = new MigrationRun(entry(2, "ext1:disk", "ext2:disk"), extentBytes, world);
    await run.run();
    expect(world.changes).toEqual(["mirror 0,1 to lu0", "switch 0,1", "mirror 0,1 to ext2:disk", "switch 0,1"]);
    expect([world.placementOf(0).luId, world.placementOf(1).luId]).toEqual(["ext2:disk", "ext2:disk"]);
    const info = run.info();
    expect(info.state).toBe("CHANGE_STATE_COMMITTED");
    expect(info.copy_progress?.map((row) => [row.source_lu_id, row.destination_lu_id, row.state])).toEqual([["lu0", "ext2:disk", "done"], ["lu0", "ext2:disk", "done"]]);
    // The journal showed the first hop's destination while it ran: a successor knows where each extent is bound.
    expect(world.persisted.some((journaled) => journaled.copy_progress.every((row) => row.destination_lu_id === "lu0" && row.state === "copying"))).toBe(true);
  });

  it("stages only as many extents at a time as the device LU has free areas", async () => {
    const world = new World(3, "ext1:disk");
    world.stagingFreeAreas = 2;
    await new MigrationRun(entry(3, "ext1:disk", "ext2:disk"), extentBytes, world).run();
    expect(world.changes).toEqual([
      "mirror 0,1 to lu0", "switch 0,1", "mirror 0,1 to ext2:disk", "switch 0,1",
      "mirror 2 to lu0", "switch 2", "mirror 2 to ext2:disk", "switch 2",
    ]);
  });

  it("fails, moving nothing, when no device LU has a free area to stage through", async () => {
    const world = new World(2, "ext1:disk");
    world.stagingFreeAreas = 0;
    const run = new MigrationRun(entry(2, "ext1:disk", "ext2:disk"), extentBytes, world);
    await run.run();
    expect(world.changes).toEqual([]);
    expect(run.info().state).toBe("CHANGE_STATE_FAILED");
    expect(run.info().message).toMatch(/through a free 4194304-byte area of a device LU, and no device LU has one; the extents not switched stay where they are \(2 on ext1:disk\)/);
  });

  it("resumed after its first hop, takes each extent on from the device LU without copying it there again", async () => {
    const world = new World(1, "ext1:disk");
    await world.mirrors.change("mirror", "v", [0], "lu0");
    await world.mirrors.change("switch", "v", [0], "");
    world.changes.length = 0;
    const journaled = entry(1, "ext1:disk", "ext2:disk");
    Object.assign(journaled.copy_progress[0] ?? {}, { destination_lu_id: "lu0", destination_area_index: 0, state: "done" });
    const run = new MigrationRun(journaled, extentBytes, world);
    await run.run();
    expect(world.changes).toEqual(["mirror 0 to ext2:disk", "switch 0"]);
    expect(run.info().state).toBe("CHANGE_STATE_COMMITTED");
  });

  it("cancelled between the hops, says where the extents not moved are", async () => {
    const world = new World(2, "ext1:disk");
    const run = new MigrationRun(entry(2, "ext1:disk", "ext2:disk"), extentBytes, world);
    world.onChange = (kind) => {
      if (kind === "switch") run.cancel();
    };
    await run.run();
    expect(world.changes).toEqual(["mirror 0,1 to lu0", "switch 0,1"]);
    expect(run.info().state).toBe("CHANGE_STATE_CANCELLED");
    expect(run.info().message).toBe("cancelled: extents not yet switched stay where they are (2 on lu0)");
  });

  it("leaves the migration running, unrecorded, when this controller loses its lease", async () => {
    const world = new World(2, "ext1:disk");
    world.loseLeaseOn = "mirror 0,1 to ext2:disk";
    const run = new MigrationRun(entry(2, "ext1:disk", "ext2:disk"), extentBytes, world);
    await run.run();
    expect(world.persisted.at(-1)?.state).toBe("CHANGE_STATE_RUNNING");
    expect(run.info().state).toBe("CHANGE_STATE_RUNNING");
  });
});

describe("a volume move (a migration of one extent)", () => {
  it("shows its changes as its phases, mirror, copy, switch, with their reports and fences, and the destination in its summary", async () => {
    const world = new World(1, "lu0");
    const move = { ...entry(1, "lu0", "lu1"), change_id: "move-8-abc", kind: "move", summary: "move extent 0 of v from lu0:0 to lu1" };
    const run = new MigrationRun(move, extentBytes, world);
    await run.run();
    const info = run.info();
    expect(info.state).toBe("CHANGE_STATE_COMMITTED");
    expect(info.summary).toBe("move extent 0 of v from lu0:0 to lu1:0");
    expect(info.phases?.map((phase) => [phase.phase, phase.elapsed_ms])).toEqual([["mirror", 10], ["copy", 30], ["switch", 10]]);
    expect(info.reports?.map((report) => report.phase)).toEqual(["mirror hold", "switch hold"]);
    expect(info.fenced).toEqual(["a1"]);
  });

  it("between two external devices, keeps its first source in its summary and shows both hops as phases", async () => {
    const world = new World(1, "ext1:disk");
    const move = { ...entry(1, "ext1:disk", "ext2:disk"), change_id: "move-9-abc", kind: "move", summary: "move extent 0 of v from ext1:disk:0 to ext2:disk" };
    const run = new MigrationRun(move, extentBytes, world);
    await run.run();
    const info = run.info();
    expect(info.summary).toBe("move extent 0 of v from ext1:disk:0 to ext2:disk:0");
    expect(info.phases?.map((phase) => phase.phase)).toEqual(["mirror", "copy", "switch", "mirror", "copy", "switch"]);
  });
});
