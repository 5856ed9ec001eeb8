// Goal: a committed change's final record (its release and end) is not an
// append of its own: the next commit carries it, or it is written by itself
// finalRecordDelayMs later (in its turn among the controller's store
// writes), or at close; until then the controller answers
// for the change from memory; a commit that fails gives the records back.
// Method: the executor with no apparatus in its control range and a store
// that records the deltas it is sent.
import { describe, expect, it } from "vitest";
import type { StoreDelta } from "@switchyard/proto";
import type { ChangePlan } from "./change-plans.js";
import { ChangeExecutor, finalRecordDelayMs } from "./change-executor.js";
import { processWarn, systemEntropy } from "./environment.js";
import { systemScheduler, type Scheduler } from "./scheduler.js";

/** A change that remaps nothing: it goes through every phase. */
function plan(baseGeneration: number): ChangePlan {
  return {
    kind: "switch", summary: `switch ${baseGeneration}`, baseGeneration,
    diff: { base_generation: baseGeneration, generation: baseGeneration + 1 },
    holdRanges: [], holdMode: "HOLD_MODE_WRITES", newAreas: [], volumesAfter: () => [],
  };
}

/** A clock that moves only when the test moves it, and its timers. */
function manualClock(): { scheduler: Scheduler; advance(ms: number): void } {
  let nowMs = 0;
  const timers: { atMs: number; fire: () => void; live: boolean }[] = [];
  return {
    scheduler: {
      now: () => nowMs,
      at: (atMs, fire) => {
        const timer = { atMs, fire, live: true };
        timers.push(timer);
        return () => {
          timer.live = false;
        };
      },
    },
    advance: (ms) => {
      nowMs += ms;
      for (const timer of timers.filter((candidate) => candidate.live && candidate.atMs <= nowMs)) {
        timer.live = false;
        timer.fire();
      }
    },
  };
}

function executor(commitDelta: (delta: StoreDelta) => Promise<void>, serialize = (work: () => Promise<void>): Promise<void> => work(), scheduler: Scheduler = systemScheduler): ChangeExecutor {
  return new ChangeExecutor({
    phaseTimeoutMs: 1_000,
    controlRange: () => [],
    fence: () => Promise.resolve(),
    apparatusLeaseMs: 0,
    commitDelta,
    serialize,
    storeGeneration: () => Promise.resolve(0),
    scheduler,
    entropy: systemEntropy,
    warn: processWarn,
  });
}

describe("final records", () => {
  it("ride on the next commit, and are answered from memory until then", async () => {
    const deltas: StoreDelta[] = [];
    const changes = executor((delta) => {
      deltas.push(delta);
      return Promise.resolve();
    });
    const first = await changes.run(plan(0), 1);
    expect((first.phases ?? []).map((phase) => phase.phase)).toContain("release");
    expect(deltas).toHaveLength(1);
    expect(deltas[0]?.earlier_journal_entries).toEqual([]);
    expect(changes.unrecordedChanges().map((change) => [change.id, change.state])).toEqual([[first.id, "CHANGE_STATE_COMMITTED"]]);
    const second = await changes.run(plan(1), 1);
    expect(deltas).toHaveLength(2);
    const carried = deltas[1]?.earlier_journal_entries ?? [];
    expect(carried.map((entry) => entry.change_id)).toEqual([first.id]);
    expect(carried[0]?.ended_at_ms).toBeGreaterThan(0);
    expect(carried[0]?.phases?.map((phase) => phase.phase)).toContain("release");
    expect(changes.unrecordedChanges().map((change) => change.id)).toEqual([second.id]);
    changes.close();
  });

  it("are written by themselves after finalRecordDelayMs, in their turn among store writes, and all at once at close", async () => {
    const deltas: StoreDelta[] = [];
    let turnsTaken = 0;
    const clock = manualClock();
    const changes = executor((delta) => {
      deltas.push(delta);
      return Promise.resolve();
    }, (work) => {
      turnsTaken += 1;
      return work();
    }, clock.scheduler);
    const first = await changes.run(plan(0), 1);
    clock.advance(finalRecordDelayMs - 1);
    expect(deltas).toHaveLength(1);
    clock.advance(1);
    expect(turnsTaken).toBe(1);
    expect(deltas.map((delta) => [delta.diff === undefined, delta.journal_entry?.change_id])).toEqual([[false, first.id], [true, first.id]]);
    expect(changes.unrecordedChanges()).toEqual([]);
    const second = await changes.run(plan(1), 1);
    const third = await changes.run(plan(2), 1);
    // The third change's commit carried the second's final record; its own waits for the close.
    expect(deltas.at(-1)?.earlier_journal_entries?.map((entry) => entry.change_id)).toEqual([second.id]);
    await changes.flushFinalRecords();
    const last = deltas.at(-1);
    expect([last?.diff, last?.journal_entry?.change_id, last?.earlier_journal_entries]).toEqual([undefined, third.id, []]);
    expect(changes.unrecordedChanges()).toEqual([]);
    changes.close();
  });

  it("go back to waiting when the commit that carried them fails", async () => {
    const deltas: StoreDelta[] = [];
    let refuse = false;
    const changes = executor((delta) => {
      deltas.push(delta);
      return refuse && delta.diff !== undefined ? Promise.reject(new Error("refused for the test")) : Promise.resolve();
    });
    const first = await changes.run(plan(0), 1);
    refuse = true;
    const second = await changes.run(plan(1), 1);
    expect(second.state).toBe("CHANGE_STATE_ABORTED");
    // The abort's own record is written at once, and carries the first change's final record again.
    const last = deltas.at(-1);
    expect([last?.diff, last?.journal_entry?.change_id, last?.earlier_journal_entries?.map((entry) => entry.change_id)]).toEqual([undefined, second.id, [first.id]]);
    expect(changes.unrecordedChanges()).toEqual([]);
    changes.close();
  });
});
