// Goal: the events panel tells fences, failovers, failed migrations and disk
// faults from the persisted journal alone (so the same journal, read after a
// restart, gives the same events), including those the controller records
// there itself (rejoins, operators' fences, expired holds), and observes what
// the journal does not record (yet) without reporting anything twice. Method: journal entries and cluster
// states built by hand, compared with the events they must give.
import type { ChangeInfo__Output, ClusterStatus__Output } from "@switchyard/proto";
import { describe, expect, it } from "vitest";
import { EventObserver, isEventRecord, journalEvents, mergedEvents, type LocalCounters } from "./cluster-events.js";

function change(fields: Partial<ChangeInfo__Output> & { id: string }): ChangeInfo__Output {
  return {
    kind: "move", summary: "move extent 0 of vm1", state: "CHANGE_STATE_COMMITTED", base_generation: 1, epoch: 1,
    started_at_ms: 1_000, ended_at_ms: 2_000, phases: [], reports: [], fenced: [], copy_progress: [], message: "", copied_bytes: 0, total_bytes: 0, hole_bytes_skipped: 0, chunks_copied_again: 0, hold_mode: "HOLD_MODE_UNSPECIFIED",
    ...fields,
  };
}

const journal: readonly ChangeInfo__Output[] = [
  change({ id: "move-1", fenced: ["a1"], reports: [{ phase: "hold", apparatus_id: "a1", ok: false, message: "no answer within 2000 ms", elapsed_ms: 2000 }] }),
  change({ id: "migrate-2", kind: "migrate", summary: "migrate 3 extents of vm1 to lu1", state: "CHANGE_STATE_FAILED", message: "copy of extent 2: EIO reading lu0 area 7", started_at_ms: 3_000, ended_at_ms: 4_000 }),
  change({ id: "move-3", epoch: 2, started_at_ms: 5_000, ended_at_ms: 6_000 }),
  change({ id: "move-4", epoch: 2, state: "CHANGE_STATE_RUNNING", started_at_ms: 7_000, ended_at_ms: 0 }),
];

describe("journalEvents", () => {
  it("derives fences with their cause, failed migrations, disk faults and failovers", () => {
    const events = journalEvents(journal);
    expect(events.map((event) => [event.kind, event.subject])).toEqual([
      ["fence", "a1"], ["migration-failed", "migrate-2"], ["disk-fault", "migrate-2"], ["failover", "epoch 2"],
    ]);
    expect(events[0]?.cause).toBe("fenced by change move-1 (move extent 0 of vm1): hold: no answer within 2000 ms");
    expect(events[0]?.at).toBe(new Date(2_000).toISOString());
    expect(events[3]?.cause).toMatch(/from epoch 1 to 2 .*first change under it: move-3$/);
    expect(events.every((event) => event.source === "journal" && !event.cause.includes("\n"))).toBe(true);
  });

  it("gives the events the controller recorded (rejoins, operators' fences, expired holds) as they were, and no change for them", () => {
    const records = [
      change({ id: "event-8000-ab", kind: "event", summary: "hold-expired a2", message: "a hold on a2 passed its deadline with no Release: it shut vm1 until the controller loaded the table", started_at_ms: 8_000, ended_at_ms: 8_000 }),
      change({ id: "event-8001-cd", kind: "event", summary: "rejoin a2", message: "a2 stopped serving on its own and loaded the table at generation 7 again", started_at_ms: 8_001, ended_at_ms: 8_001 }),
      change({ id: "event-9000-ef", kind: "event", summary: "fence a1", message: "a1 was fenced by an operator", started_at_ms: 9_000, ended_at_ms: 9_000 }),
      change({ id: "event-9500-01", kind: "event", summary: "unknown a1", message: "a kind this console does not know is left out", started_at_ms: 9_500, ended_at_ms: 9_500 }),
    ];
    const events = journalEvents(records);
    expect(events.map((event) => [event.kind, event.subject, event.at])).toEqual([
      ["hold-expired", "a2", new Date(8_000).toISOString()], ["rejoin", "a2", new Date(8_001).toISOString()], ["fence", "a1", new Date(9_000).toISOString()],
    ]);
    expect(events[0]?.cause).toBe("a hold on a2 passed its deadline with no Release: it shut vm1 until the controller loaded the table");
    expect(events.every((event) => event.source === "journal")).toBe(true);
    expect(records.every(isEventRecord)).toBe(true);
    expect(journal.some(isEventRecord)).toBe(false);
  });

  it("gives the same events from the same journal, as after a restart, and none for a quiet one", () => {
    expect(journalEvents(journal)).toEqual(journalEvents([...journal]));
    expect(journalEvents([change({ id: "move-9" })])).toEqual([]);
  });
});

function cluster(states: Readonly<Record<string, string>>, epoch: number): ClusterStatus__Output {
  return {
    devices: [],
    generation: 1,
    controller: { id: "a0", epoch, lease_expires_at_ms: 0, pid: 1, thread_id: 0 },
    apparatuses: Object.entries(states).map(([id, state]) => ({ id, nbd: "", grpc: "", pid: 1, generation: 1, state: state as ClusterStatus__Output["apparatuses"][number]["state"] })),
    coordination: { backend: "embedded", members: [{ name: "dev0", endpoint: "127.0.0.1:1", healthy: true, leader: true }] },
  };
}

function counters(holdsExpired: number, storeWriteErrors: number): LocalCounters {
  return { holdsExpired: new Map([["a0", holdsExpired]]), storeWriteErrors: new Map([["d0", storeWriteErrors]]), luIoErrors: new Map() };
}

describe("EventObserver", () => {
  it("reports nothing on its first look, however the cluster stands", () => {
    const observer = new EventObserver();
    observer.observe(cluster({ a0: "APPARATUS_STATUS_SERVING", a1: "APPARATUS_STATUS_FENCED" }, 5), counters(3, 1), [], 10_000);
    expect(observer.observed).toEqual([]);
  });

  it("observes a fence outside any change, the rejoin, a new epoch, expired holds and store write errors", () => {
    const observer = new EventObserver();
    observer.observe(cluster({ a0: "APPARATUS_STATUS_SERVING", a1: "APPARATUS_STATUS_SERVING" }, 1), counters(0, 0), [], 10_000);
    observer.observe(cluster({ a0: "APPARATUS_STATUS_SERVING", a1: "APPARATUS_STATUS_FENCED" }, 1), counters(0, 0), [], 15_000);
    observer.observe(cluster({ a0: "APPARATUS_STATUS_SERVING", a1: "APPARATUS_STATUS_SERVING" }, 2), counters(2, 1), [], 20_000);
    expect(observer.observed.map((event) => [event.kind, event.subject, event.at])).toEqual([
      ["fence", "a1", new Date(15_000).toISOString()],
      ["rejoin", "a1", new Date(20_000).toISOString()],
      ["failover", "epoch 2", new Date(20_000).toISOString()],
      ["hold-expired", "a0", new Date(20_000).toISOString()],
      ["disk-fault", "d0", new Date(20_000).toISOString()],
    ]);
    expect(observer.observed[3]?.cause).toMatch(/^2 holds on a0 passed the deadline/);
  });

  it("observes an LU's failed I/O, naming the device and the LU, with the last error", () => {
    const observer = new EventObserver();
    const withLuErrors = (count: number): LocalCounters => ({ ...counters(0, 0), luIoErrors: new Map([["dev0/lu1", { count, lastError: count === 0 ? "" : "IO_FAILED: reading lu1 at 4194304 failed: EIO: i/o error" }]]) });
    observer.observe(cluster({ a0: "APPARATUS_STATUS_SERVING" }, 1), withLuErrors(0), [], 1_000);
    observer.observe(cluster({ a0: "APPARATUS_STATUS_SERVING" }, 1), withLuErrors(3), [], 6_000);
    observer.observe(cluster({ a0: "APPARATUS_STATUS_SERVING" }, 1), withLuErrors(3), [], 11_000);
    expect(observer.observed.map((event) => [event.kind, event.subject, event.cause])).toEqual([
      ["disk-fault", "dev0/lu1", "3 I/Os of LU dev0/lu1 failed, the last: IO_FAILED: reading lu1 at 4194304 failed: EIO: i/o error"],
    ]);
  });

  it("does not observe a fence the journal recorded", () => {
    const observer = new EventObserver();
    observer.observe(cluster({ a1: "APPARATUS_STATUS_SERVING" }, 1), counters(0, 0), [], 1_000);
    const recorded = journalEvents(journal);
    observer.observe(cluster({ a1: "APPARATUS_STATUS_FENCED" }, 1), counters(0, 0), recorded, 6_000);
    expect(observer.observed).toEqual([]);
    expect(mergedEvents(recorded, observer.observed).map((event) => event.subject)).toEqual(["epoch 2", "migrate-2", "migrate-2", "a1"]);
  });

  it("shows a rejoin it saw once, as the journal's, when the controller records it a few seconds later", () => {
    const observer = new EventObserver();
    observer.observe(cluster({ a1: "APPARATUS_STATUS_FENCED" }, 1), counters(0, 0), [], 1_000);
    observer.observe(cluster({ a1: "APPARATUS_STATUS_SERVING" }, 1), counters(0, 0), [], 2_000);
    expect(observer.observed.map((event) => [event.kind, event.source])).toEqual([["rejoin", "observed"]]);
    const recorded = journalEvents([change({ id: "event-5000-ab", kind: "event", summary: "rejoin a1", message: "a1 loaded the whole table at generation 3 and serves again", started_at_ms: 5_000, ended_at_ms: 5_000 })]);
    expect(mergedEvents(recorded, observer.observed).map((event) => [event.kind, event.subject, event.source])).toEqual([["rejoin", "a1", "journal"]]);
  });
});
