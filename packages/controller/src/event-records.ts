/**
 * Cluster events the controller sees outside any change (a rejoin, an
 * operator's fence, a hold that passed its deadline, a failed read or write
 * of an LU's file: disk-fault-watch.ts), recorded in the change
 * journal so that the console's events panel shows them after any restart
 * (issue 21): one journal entry each, of kind "event", whose summary is the
 * event's kind and subject ("rejoin a1") and whose message is its cause.
 * The journal is bounded (journalEntriesMax) and such events are rare.
 */
import type { JournalEntry } from "@switchyard/proto";

/** The journal kind of an event record; `change list` leaves them out. */
export const eventRecordKind = "event";

/** What the controller records; the console's events panel has more kinds of its own. */
export type RecordedEventKind = "rejoin" | "fence" | "hold-expired" | "disk-fault";

export interface EventContext {
  readonly epoch: number;
  readonly nowMs: number;
  /** A few random hex digits: two events of one millisecond get two ids. */
  readonly suffix: string;
}

export function eventRecord(kind: RecordedEventKind, subject: string, cause: string, context: EventContext): JournalEntry {
  const atMs = Math.round(context.nowMs);
  return {
    change_id: `${eventRecordKind}-${atMs}-${context.suffix}`,
    kind: eventRecordKind,
    summary: `${kind} ${subject}`,
    state: "CHANGE_STATE_COMMITTED",
    base_generation: 0,
    epoch: context.epoch,
    started_at_ms: atMs,
    ended_at_ms: atMs,
    message: cause,
    phases: [],
    reports: [],
    fenced: [],
  };
}
