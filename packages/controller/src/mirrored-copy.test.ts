// Goal: a copy in mirror state puts pending extents in mirror state by one
// change, starts their device copies, switches those in sync by a change and
// marks them done; a failed device copy fails the migration and the rest go
// back to their sources; cancel does the same; a successor sorts rows left
// copying by where the table has them.
// Method: MirroredCopy with effects that stand for the controller and the
// device: a table of placements, a device whose copies progress per poll,
// and a fake clock.
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import type { ChangeInfo, CopyProgressRow, ExtentRow } from "@switchyard/proto";
import { deviceAbsenceMaxMs, MigrationFailure, MirroredCopy, mirroredExtentsMax, switchBatchMin, type MirrorEffects, type MirrorList, type MirrorReport, type Placement } from "./mirrored-copy.js";

const extentBytes = 4 << 20;
const pollStepMs = 20;

function pendingRows(count: number): CopyProgressRow[] {
  return Array.from({ length: count }, (_, index) => ({
    volume: "v", extent_index: index, source_lu_id: "lu0", source_area_index: index, destination_lu_id: "lu1", destination_area_index: 0, watermark_bytes: 0, state: "pending",
  }));
}

class FakeCluster implements MirrorEffects {
  nowMs = 0;
  readonly changes: { kind: string; extents: readonly number[] }[] = [];
  readonly placements = new Map<number, Placement>();
  /** Per extent being copied by the device: its watermark. */
  readonly copying = new Map<number, number>();
  persisted = 0;
  cancelled = false;
  progress = 0;
  /** The device's copy of this extent fails. */
  failingExtent: number | undefined;
  /** Bytes each device copy moves per poll. */
  stepBytes = extentBytes;
  /** StartMirror finds no device (gRPC UNAVAILABLE) until the fake clock reaches this. */
  deviceBackAtMs = 0;
  /** Extents whose copies move half as fast. */
  slowExtents: (extent: number) => boolean = () => false;

  constructor(extentCount: number) {
    for (let extent = 0; extent < extentCount; extent += 1) this.placements.set(extent, { luId: "lu0", areaIndex: extent, mirror: undefined });
  }

  change(kind: "mirror" | "switch" | "unmirror", _volume: string, extents: readonly number[]): Promise<{ info: ChangeInfo; rows: readonly ExtentRow[] }> {
    this.changes.push({ kind, extents });
    const rows = extents.map((extent) => {
      const placement = this.placements.get(extent);
      if (placement === undefined) throw new Error(`no extent ${extent}`);
      if (kind === "mirror") this.placements.set(extent, { ...placement, mirror: { luId: "lu1", areaIndex: 100 + extent } });
      else if (kind === "switch" && placement.mirror !== undefined) this.placements.set(extent, { ...placement.mirror, mirror: undefined });
      else this.placements.set(extent, { ...placement, mirror: undefined });
      if (kind !== "mirror") this.copying.delete(extent);
      return { volume: "v", extent_index: extent, mirror_area_index: 100 + extent };
    });
    return Promise.resolve({ info: { id: `${kind}-1`, state: "CHANGE_STATE_COMMITTED" }, rows });
  }

  startMirror(row: CopyProgressRow): Promise<MirrorReport> {
    if (this.nowMs < this.deviceBackAtMs) return Promise.reject(Object.assign(new Error("14 UNAVAILABLE: connect ECONNREFUSED"), { code: grpc.status.UNAVAILABLE }));
    const extent = row.extent_index ?? 0;
    if (!this.copying.has(extent)) this.copying.set(extent, Number(row.watermark_bytes ?? 0));
    return Promise.resolve(this.report(extent));
  }

  /** Each ask is answered after one step of every copy, which takes `pollStepMs` of the fake clock. */
  listMirrors(): Promise<MirrorList> {
    this.nowMs += pollStepMs;
    this.progress += 1;
    for (const [extent, watermark] of this.copying) {
      this.copying.set(extent, Math.min(extentBytes, watermark + (this.slowExtents(extent) ? this.stepBytes / 2 : this.stepBytes)));
    }
    return Promise.resolve({ reports: [...this.copying.keys()].map((extent) => this.report(extent)), progress: this.progress });
  }

  placement(_volume: string, extentIndex: number): Promise<Placement> {
    const placement = this.placements.get(extentIndex);
    if (placement === undefined) throw new Error(`no extent ${extentIndex}`);
    return Promise.resolve(placement);
  }

  persist(): Promise<void> {
    this.persisted += 1;
    return Promise.resolve();
  }

  sleep(ms: number): Promise<void> {
    this.nowMs += ms;
    return Promise.resolve();
  }

  now(): number {
    return this.nowMs;
  }

  isCancelled(): boolean {
    return this.cancelled;
  }

  private report(extent: number): MirrorReport {
    const watermarkBytes = this.copying.get(extent) ?? 0;
    const failure = extent === this.failingExtent ? "reading lu0 failed: EIO" : "";
    // Half of what it copies reads as holes on both sides, and extent i had i chunks copied again: the device reports both, the rows keep them.
    const destination = this.placements.get(extent)?.mirror ?? { luId: "lu1", areaIndex: 100 + extent };
    return { volume: "v", extentIndex: extent, destination, watermarkBytes, synced: failure === "" && watermarkBytes >= extentBytes, failure, holeBytesSkipped: watermarkBytes / 2, chunksCopiedAgain: extent };
  }
}

describe("MirroredCopy", () => {
  it("mirrors the pending extents by one change, switches them once in sync, and marks them done, with the holes the device skipped and the chunks it copied again", async () => {
    const cluster = new FakeCluster(3);
    const rows = pendingRows(3);
    expect(await new MirroredCopy(rows, "m", 0, extentBytes, cluster).run()).toBe("done");
    expect(cluster.changes).toEqual([{ kind: "mirror", extents: [0, 1, 2] }, { kind: "switch", extents: [0, 1, 2] }]);
    expect(rows.map((row) => [row.state, row.destination_area_index, row.watermark_bytes])).toEqual([0, 1, 2].map((extent) => ["done", 100 + extent, extentBytes]));
    // The device's count of holes it skipped, kept per row for the console.
    expect(rows.map((row) => row.hole_bytes_skipped)).toEqual([extentBytes / 2, extentBytes / 2, extentBytes / 2]);
    // And of its chunks copied again (here: as many as the extent's index).
    expect(rows.map((row) => row.chunks_copied_again)).toEqual([0, 1, 2]);
    expect([...cluster.placements.values()].every((placement) => placement.luId === "lu1" && placement.mirror === undefined)).toBe(true);
    expect(cluster.persisted).toBeGreaterThanOrEqual(2);
  });

  it("switches in batches while others still copy when extents wait for room, and all at once otherwise", async () => {
    const rowCount = mirroredExtentsMax + switchBatchMin;
    const cluster = new FakeCluster(rowCount);
    cluster.stepBytes = extentBytes / 4;
    cluster.slowExtents = (extent) => extent % 2 === 1;
    const rows = pendingRows(rowCount);
    await new MirroredCopy(rows, "m", 0, extentBytes, cluster).run();
    const switches = cluster.changes.filter((change) => change.kind === "switch");
    expect(switches.flatMap((change) => change.extents).sort((a, b) => a - b)).toEqual(rows.map((row) => row.extent_index));
    // The first switch made room: the fast half of the first batch, while the slow half still copied.
    expect(switches[0]?.extents).toEqual(Array.from({ length: mirroredExtentsMax / 2 }, (_, index) => 2 * index));
    expect(rows.every((row) => row.state === "done")).toBe(true);

    // More than a batch syncs first, and still no early switch: nothing waits for room.
    const small = new FakeCluster(2 * switchBatchMin + 1);
    small.stepBytes = extentBytes / 4;
    small.slowExtents = (extent) => extent % 2 === 1;
    await new MirroredCopy(pendingRows(2 * switchBatchMin + 1), "m", 0, extentBytes, small).run();
    expect(small.changes.map((change) => change.kind)).toEqual(["mirror", "switch"]);
  });

  it("fails when the device's copy fails, and abandon takes the extents still copying back to their sources", async () => {
    const cluster = new FakeCluster(2);
    cluster.failingExtent = 1;
    const rows = pendingRows(2);
    const copy = new MirroredCopy(rows, "m", 0, extentBytes, cluster);
    await expect(copy.run()).rejects.toThrow(new MigrationFailure("extent 1: the copy from lu0 failed: reading lu0 failed: EIO"));
    await copy.abandon();
    expect(cluster.changes.at(-1)).toEqual({ kind: "unmirror", extents: [0, 1] });
    expect([...cluster.placements.values()].every((placement) => placement.luId === "lu0" && placement.mirror === undefined)).toBe(true);
  });

  it("starts its copies on a device that stays unreachable for a while, and fails once it has been gone deviceAbsenceMaxMs", async () => {
    // Restarted twice in a row, the device was gone for more than the five tries of a refused step (CI, seed 752388).
    const back = new FakeCluster(2);
    back.deviceBackAtMs = 10_000;
    const rows = pendingRows(2);
    expect(await new MirroredCopy(rows, "m", 0, extentBytes, back).run()).toBe("done");
    expect(rows.every((row) => row.state === "done")).toBe(true);

    const gone = new FakeCluster(2);
    gone.deviceBackAtMs = Number.POSITIVE_INFINITY;
    await expect(new MirroredCopy(pendingRows(2), "m", 0, extentBytes, gone).run()).rejects.toThrow(/could not start copying extent 0: 14 UNAVAILABLE/);
    expect(gone.nowMs).toBeGreaterThan(deviceAbsenceMaxMs);
    // Two copies start at once, and each pause of theirs moves the one fake clock.
    expect(gone.nowMs).toBeLessThanOrEqual(deviceAbsenceMaxMs + 2 * 1_000);
  });

  it("on cancel, takes the extents copying out of mirror state and leaves them pending", async () => {
    const cluster = new FakeCluster(2);
    cluster.stepBytes = extentBytes / 8;
    const rows = pendingRows(2);
    const copy = new MirroredCopy(rows, "m", 0, extentBytes, cluster);
    const listed = cluster.listMirrors.bind(cluster);
    cluster.listMirrors = () => {
      cluster.cancelled = true;
      return listed();
    };
    expect(await copy.run()).toBe("cancelled");
    expect(cluster.changes.map((change) => change.kind)).toEqual(["mirror", "unmirror"]);
    expect(rows.map((row) => row.state)).toEqual(["pending", "pending"]);
  });

  it("resumes rows a predecessor left copying from where the table has them", async () => {
    const cluster = new FakeCluster(3);
    // 0: switched before the predecessor died; 1: still mirrored, half copied; 2: its mirror change never committed.
    cluster.placements.set(0, { luId: "lu1", areaIndex: 100, mirror: undefined });
    cluster.placements.set(1, { luId: "lu0", areaIndex: 1, mirror: { luId: "lu1", areaIndex: 101 } });
    const rows: CopyProgressRow[] = pendingRows(3).map((row) => ({
      ...row, state: "copying", destination_area_index: 100 + (row.extent_index ?? 0), watermark_bytes: row.extent_index === 1 ? extentBytes / 2 : 0,
    }));
    expect(await new MirroredCopy(rows, "m", 0, extentBytes, cluster).run()).toBe("done");
    expect(cluster.changes).toEqual([{ kind: "mirror", extents: [2] }, { kind: "switch", extents: [1, 2] }]);
    expect(rows.every((row) => row.state === "done")).toBe(true);
  });

  it("resumes rows a predecessor left pending after committing their mirror change, without mirroring them again", async () => {
    const cluster = new FakeCluster(2);
    // 0: its mirror change committed, then the predecessor died before persisting the row; 1: never mirrored.
    cluster.placements.set(0, { luId: "lu0", areaIndex: 0, mirror: { luId: "lu1", areaIndex: 100 } });
    const rows = pendingRows(2);
    expect(await new MirroredCopy(rows, "m", 0, extentBytes, cluster).run()).toBe("done");
    expect(cluster.changes).toEqual([{ kind: "mirror", extents: [1] }, { kind: "switch", extents: [0, 1] }]);
    expect(rows.map((row) => [row.state, row.destination_area_index])).toEqual([["done", 100], ["done", 101]]);
  });

  it("takes no report of another copy of its extent for its own: an 'in sync' towards another area neither syncs nor switches the row", async () => {
    const cluster = new FakeCluster(1);
    cluster.stepBytes = extentBytes / 4;
    const foreign: MirrorReport = { volume: "v", extentIndex: 0, destination: { luId: "lu2", areaIndex: 7 }, watermarkBytes: extentBytes, synced: true, failure: "", holeBytesSkipped: 0, chunksCopiedAgain: 0 };
    const listed = cluster.listMirrors.bind(cluster);
    // Listed first, as the device lists mirrors in the order they began.
    cluster.listMirrors = async () => {
      const list = await listed();
      return { ...list, reports: [foreign, ...list.reports] };
    };
    const change = cluster.change.bind(cluster);
    let watermarkAtSwitch: number | undefined;
    cluster.change = (kind: "mirror" | "switch" | "unmirror", volume: string, extents: readonly number[]) => {
      if (kind === "switch") watermarkAtSwitch = cluster.copying.get(0);
      return change(kind, volume, extents);
    };
    expect(await new MirroredCopy(pendingRows(1), "m", 0, extentBytes, cluster).run()).toBe("done");
    expect(watermarkAtSwitch).toBe(extentBytes);
  });

  it("fails a resumed row whose extent the table mirrors towards another area, naming both", async () => {
    const cluster = new FakeCluster(1);
    cluster.placements.set(0, { luId: "lu0", areaIndex: 0, mirror: { luId: "lu2", areaIndex: 7 } });
    const rows = pendingRows(1).map((row) => ({ ...row, state: "copying", destination_area_index: 100 }));
    await expect(new MirroredCopy(rows, "m", 0, extentBytes, cluster).run()).rejects.toThrow(
      new MigrationFailure("extent 0 is in mirror state towards lu2 area 7, not towards this migration's lu1 area 100: another change put it there"),
    );
    expect(cluster.copying.size).toBe(0);
  });
});
