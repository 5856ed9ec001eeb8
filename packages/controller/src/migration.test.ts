// Goal: the migration engine moves each pending extent once, in order,
// persists its progress table after each, keeps under its rate limit, stops
// after the extent in hand when cancelled, marks a failed extent and stops,
// and leaves a migration whose lease was lost running for the next controller;
// a volume move (a migration of one extent) shows its changes as its phases.
// Method: MigrationRun with effects that record calls, on a fake clock.
import { describe, expect, it } from "vitest";
import type { ChangeInfo, CopyProgressRow, JournalEntry } from "@switchyard/proto";
import { ControllerError } from "./errors.js";
import { MigrationRun, type DeviceMirrorEffects, type MigrationEffects } from "./migration.js";
import { stepAttemptsMax, stepRetryPauseMs } from "./migration-retry.js";

const extentBytes = 4 * 1024 * 1024;

function rows(count: number): CopyProgressRow[] {
  return Array.from({ length: count }, (_, index) => ({
    volume: "v", extent_index: index, source_lu_id: "lu0", source_area_index: index, destination_lu_id: "lu1", destination_area_index: 0, watermark_bytes: 0, state: "pending",
  }));
}

function entry(count: number, rateBytesPerSecond = 0): JournalEntry & { copy_progress: CopyProgressRow[] } {
  return { change_id: "migrate-1-abc", kind: "migrate", state: "CHANGE_STATE_RUNNING", copy_progress: rows(count), rate_bytes_per_second: rateBytesPerSecond, total_bytes: count * extentBytes };
}

class Recorder implements MigrationEffects {
  nowMs = 1_000;
  moved: number[] = [];
  persisted: { state: string; done: number }[] = [];
  slept: number[] = [];
  moveMs = 10;
  failAt: number | undefined;
  loseLeaseAt: number | undefined;
  refuseAt: number | undefined;
  /** Journal writes of an ended migration are refused (this controller was deposed). */
  refuseEnd = false;
  onMove: ((extentIndex: number) => void) | undefined;

  moveExtent(_volume: string, extentIndex: number): Promise<{ info: ChangeInfo; destinationAreaIndex: number }> {
    this.onMove?.(extentIndex);
    if (extentIndex === this.loseLeaseAt) return Promise.reject(new ControllerError("NOT_CONTROLLER", "lease lost"));
    if (extentIndex === this.refuseAt) return Promise.reject(new ControllerError("NO_SPACE", "lu1 has 0 free areas"));
    this.nowMs += this.moveMs;
    this.moved.push(extentIndex);
    const state = extentIndex === this.failAt ? "CHANGE_STATE_ABORTED" : "CHANGE_STATE_COMMITTED";
    return Promise.resolve({ info: { id: `move-${extentIndex}`, state, message: "an apparatus refused" }, destinationAreaIndex: 100 + extentIndex });
  }

  persist(journaled: JournalEntry): Promise<void> {
    if (this.refuseEnd && journaled.state !== "CHANGE_STATE_RUNNING") return Promise.reject(new ControllerError("FAILED_PRECONDITION", "epoch 3 is below the arbiter's 4"));
    this.persisted.push({ state: String(journaled.state ?? ""), done: (journaled.copy_progress ?? []).filter((row) => row.state === "done").length });
    return Promise.resolve();
  }

  sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.nowMs += ms;
    return Promise.resolve();
  }

  now(): number {
    return this.nowMs;
  }
}

describe("MigrationRun", () => {
  it("moves every pending extent once, in order, persisting the table after each", async () => {
    const effects = new Recorder();
    const started = entry(3);
    started.copy_progress[1] = { ...started.copy_progress[1], state: "done", watermark_bytes: extentBytes };
    const run = new MigrationRun(started, extentBytes, effects);
    await run.run();
    expect(effects.moved).toEqual([0, 2]);
    expect(effects.persisted).toEqual([{ state: "CHANGE_STATE_RUNNING", done: 2 }, { state: "CHANGE_STATE_RUNNING", done: 3 }, { state: "CHANGE_STATE_COMMITTED", done: 3 }]);
    const info = run.info();
    expect([info.copied_bytes, info.total_bytes]).toEqual([3 * extentBytes, 3 * extentBytes]);
    expect(info.copy_progress?.map((row) => row.destination_area_index)).toEqual([100, 0, 102]);
  });

  it("keeps its average rate under the limit", async () => {
    const effects = new Recorder();
    const rate = 40 * 1024 * 1024;
    await new MigrationRun(entry(4, rate), extentBytes, effects).run();
    // 4 MiB at 40 MiB/s is 100 ms per extent; each move itself took 10 ms.
    expect(effects.slept.map((ms) => Math.round(ms))).toEqual([90, 90, 90, 90]);
    expect(effects.nowMs - 1_000).toBe(400);
  });

  it("stops after the extent in hand when cancelled, and says which stay on their sources", async () => {
    const effects = new Recorder();
    const run = new MigrationRun(entry(4), extentBytes, effects);
    effects.onMove = (extentIndex) => {
      if (extentIndex === 1) run.cancel();
    };
    await run.run();
    expect(effects.moved).toEqual([0, 1]);
    const info = run.info();
    expect(info.state).toBe("CHANGE_STATE_CANCELLED");
    expect(info.copy_progress?.map((row) => row.state)).toEqual(["done", "done", "pending", "pending"]);
    expect(info.message).toMatch(/stay on their sources/);
  });

  it("tries a move that did not commit again, and fails the migration there after the last try", async () => {
    const effects = new Recorder();
    effects.failAt = 1;
    const run = new MigrationRun(entry(3), extentBytes, effects);
    await run.run();
    expect(effects.moved).toEqual([0, ...Array<number>(stepAttemptsMax).fill(1)]);
    expect(effects.slept).toEqual(Array<number>(stepAttemptsMax - 1).fill(stepRetryPauseMs));
    expect(run.info().state).toBe("CHANGE_STATE_FAILED");
    expect(run.info().copy_progress?.map((row) => row.state)).toEqual(["done", "failed", "pending"]);
    expect(run.info().message).toMatch(/extent 1: its move move-1 did not commit: an apparatus refused/);
  });

  it("goes on when a retried move commits", async () => {
    const effects = new Recorder();
    effects.failAt = 1;
    effects.onMove = (extentIndex) => {
      if (extentIndex === 1 && effects.moved.filter((moved) => moved === 1).length === 2) effects.failAt = undefined;
    };
    const run = new MigrationRun(entry(3), extentBytes, effects);
    await run.run();
    expect(effects.moved).toEqual([0, 1, 1, 1, 2]);
    expect(run.info().state).toBe("CHANGE_STATE_COMMITTED");
  });

  it("fails at once on a refusal no retry changes", async () => {
    const effects = new Recorder();
    effects.refuseAt = 1;
    const run = new MigrationRun(entry(3), extentBytes, effects);
    await run.run();
    expect(effects.slept).toEqual([]);
    expect(run.info().state).toBe("CHANGE_STATE_FAILED");
    expect(run.info().message).toMatch(/extent 1: lu1 has 0 free areas/);
  });

  it("leaves the migration running, unrecorded, when this controller loses its lease", async () => {
    const effects = new Recorder();
    effects.loseLeaseAt = 1;
    const run = new MigrationRun(entry(3), extentBytes, effects);
    await run.run();
    expect(effects.moved).toEqual([0]);
    expect(effects.persisted.at(-1)?.state).toBe("CHANGE_STATE_RUNNING");
    expect(run.info().state).toBe("CHANGE_STATE_RUNNING");
  });

  it("shows no outcome the journal refused: a deposed controller's failure stays its own", async () => {
    const effects = new Recorder();
    effects.refuseAt = 1;
    effects.refuseEnd = true;
    const run = new MigrationRun(entry(3), extentBytes, effects);
    await expect(run.run()).rejects.toThrow(/epoch 3 is below/);
    expect(run.info().state).toBe("CHANGE_STATE_RUNNING");
  });
});


describe("a volume move (a migration of one extent)", () => {
  it("shows its changes as its phases, mirror, copy, switch, with their reports and fences, and the destination in its summary", async () => {
    const effects = new Recorder();
    const changed: string[] = [];
    const move = { ...entry(1), change_id: "move-8-abc", kind: "move", summary: "move extent 0 of v from lu0:0 to lu1" };
    const mirrors: DeviceMirrorEffects = {
      change: (kind, volume, extents) => {
        changed.push(kind);
        const startedAtMs = effects.nowMs;
        effects.nowMs += 10;
        const info: ChangeInfo = {
          id: `${kind}-1`, state: "CHANGE_STATE_COMMITTED", started_at_ms: startedAtMs, ended_at_ms: effects.nowMs,
          reports: [{ phase: "hold", apparatus_id: "a0", ok: true, message: "", elapsed_ms: 1 }], fenced: kind === "mirror" ? ["a1"] : [],
        };
        const rows = extents.map((extent) => ({ volume, extent_index: extent, mirror_area_index: 7 }));
        return Promise.resolve({ info, rows });
      },
      startMirror: (row) => Promise.resolve({ volume: row.volume ?? "", extentIndex: row.extent_index ?? 0, watermarkBytes: 0, synced: false, failure: "" }),
      listMirrors: () => {
        effects.nowMs += 30;
        return Promise.resolve({ reports: [{ volume: "v", extentIndex: 0, watermarkBytes: extentBytes, synced: true, failure: "" }], progress: 1 });
      },
      placement: () => Promise.resolve({ luId: "lu0", areaIndex: 0, mirror: changed.includes("mirror") ? { luId: "lu1", areaIndex: 7 } : undefined }),
    };
    const run = new MigrationRun(move, extentBytes, Object.assign(effects, { mirrors }));
    await run.run();
    expect(changed).toEqual(["mirror", "switch"]);
    const info = run.info();
    expect(info.state).toBe("CHANGE_STATE_COMMITTED");
    expect(info.summary).toBe("move extent 0 of v from lu0:0 to lu1:7");
    expect(info.phases?.map((phase) => [phase.phase, phase.elapsed_ms])).toEqual([["mirror", 10], ["copy", 30], ["switch", 10]]);
    expect(info.reports?.map((report) => report.phase)).toEqual(["mirror hold", "switch hold"]);
    expect(info.fenced).toEqual(["a1"]);
  });
});
