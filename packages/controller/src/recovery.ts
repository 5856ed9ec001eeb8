/**
 * What a new controller records about the change its predecessor left
 * (DESIGN.md "A new controller finishes or aborts whatever change its
 * predecessor left"). The table itself needs no decision: the committed
 * generation in the store is the truth, and every apparatus is made to load
 * it, which rolls an apparatus that applied an uncommitted diff back, rolls
 * one that had not yet been released forward, and ends every hold. This
 * module only says, from the journal and the apparatuses' own states, which
 * interrupted changes were rolled back, so `change list` shows them. Pure.
 */
import type { JournalEntry, StoreState__Output } from "@switchyard/proto";

export interface PendingReport {
  readonly apparatusId: string;
  readonly changeId: string;
  /** "held" or "applied". */
  readonly phase: string;
}

/** Journal entries for changes some apparatus was still in that the store never committed. */
export function rolledBackEntries(state: StoreState__Output, pending: readonly PendingReport[], takenOver: { controllerId: string; epoch: number; nowMs: number }): JournalEntry[] {
  const recorded = new Set(state.journal.map((entry) => entry.change_id));
  const byChange = new Map<string, PendingReport[]>();
  for (const report of pending) {
    if (report.changeId === "" || recorded.has(report.changeId)) continue;
    byChange.set(report.changeId, [...(byChange.get(report.changeId) ?? []), report]);
  }
  return [...byChange].map(([changeId, reports]) => ({
    change_id: changeId,
    // Change ids are KIND-GENERATION-RANDOM (change-executor.ts).
    kind: changeId.split("-")[0] ?? "",
    summary: "interrupted: its controller was lost before the commit",
    state: "CHANGE_STATE_ABORTED",
    base_generation: state.generation,
    epoch: takenOver.epoch,
    started_at_ms: 0,
    ended_at_ms: Math.round(takenOver.nowMs),
    message: `rolled back by ${takenOver.controllerId} (epoch ${takenOver.epoch}): ${reports.map((report) => `${report.apparatusId} was ${report.phase}`).join(", ")}`,
    phases: [],
    reports: [],
    fenced: [],
  }));
}
