/**
 * The events panel (issue 21): fences, rejoins, failovers, expired holds,
 * failed migrations and disk faults, each with its time and a one-line cause.
 *
 * Most are derived from the change journal, which the configuration store
 * persists, so they survive every restart with no store of their own: a
 * change's `fenced` list and the failed report that caused each fence; a
 * migration that ended failed; a change aborted with its message; an epoch
 * that first appears in the journal (a new controller took the lease); a
 * message that names an I/O error (a disk fault); and the events the
 * controller records there itself (controller event-records.ts: rejoins,
 * operators' fences, holds that passed their deadline, failed I/O of an
 * LU's file).
 *
 * The rest are not in the journal, so this console observes them while it
 * runs and keeps a bounded list in memory (marked "observed"; a restarted
 * console starts it afresh): a rejoin or fence the controller has not
 * recorded (yet), a controller epoch not yet in the journal, holds that
 * passed their deadline (the apparatus's counter behind
 * switchyard_holds_expired_total) and failed writes of the configuration
 * store.
 */
import { eventRecordKind } from "@switchyard/controller";
import type { ChangeInfo__Output, ClusterStatus__Output } from "@switchyard/proto";
import type { ClusterEventJson, ClusterEventKind } from "./snapshot-types.js";

/** Observed events kept: days of a troubled cluster's fences and rejoins, a few hundred kilobytes at most. */
export const observedEventsMax = 1_000;
/** Events the panel gets, newest first: the journal is bounded too (journalEntriesMax), this caps the sum. */
export const eventsAnswerMax = 500;
/** A fence or rejoin observed this close to one the journal recorded is the same one, seen twice. */
export const fenceMatchWindowMs = 60_000;

/** Messages that name a storage error: the errnos and gRPC codes device and apparatus use for a failed read or write. */
const diskFaultPattern = /\b(EIO|ENOSPC|EROFS|DATA_LOSS|I\/O error|input\/output error|no space left)\b/i;

function event(atMs: number, kind: ClusterEventKind, subject: string, cause: string, source: ClusterEventJson["source"]): ClusterEventJson {
  return { at: new Date(atMs).toISOString(), kind, subject, cause: oneLine(cause), source };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function changeEndMs(change: ChangeInfo__Output): number {
  return change.ended_at_ms > 0 ? change.ended_at_ms : change.started_at_ms;
}

/** Each apparatus the change fenced, with the failed report that says why when there is one. */
function fencesOf(change: ChangeInfo__Output): ClusterEventJson[] {
  return change.fenced.map((apparatusId) => {
    const report = change.reports.find((candidate) => candidate.apparatus_id === apparatusId && !candidate.ok);
    const why = report === undefined ? "it did not answer in time" : `${report.phase}: ${report.message === "" ? "refused" : report.message}`;
    return event(changeEndMs(change), "fence", apparatusId, `fenced by change ${change.id} (${change.summary}): ${why}`, "journal");
  });
}

/** What the change's end says: a failed migration, an abort, a disk fault. */
function outcomeOf(change: ChangeInfo__Output): ClusterEventJson[] {
  const events: ClusterEventJson[] = [];
  const atMs = changeEndMs(change);
  const why = change.message === "" ? "no message recorded" : change.message;
  if (change.state === "CHANGE_STATE_FAILED" && change.kind === "migrate") events.push(event(atMs, "migration-failed", change.id, `${change.summary}: ${why}`, "journal"));
  else if (change.state === "CHANGE_STATE_ABORTED" || change.state === "CHANGE_STATE_FAILED") events.push(event(atMs, "change-aborted", change.id, `${change.summary}: ${why}`, "journal"));
  const faulty = [change.message, ...change.reports.filter((report) => !report.ok).map((report) => `${report.apparatus_id} ${report.phase}: ${report.message}`)].find((text) => diskFaultPattern.test(text));
  if (faulty !== undefined) events.push(event(atMs, "disk-fault", change.id, faulty, "journal"));
  return events;
}

/** A new epoch in the journal means a controller took the lease: a failover, or the first controller after a restart. */
function failoversOf(changes: readonly ChangeInfo__Output[]): ClusterEventJson[] {
  const ordered = [...changes].filter((change) => change.epoch > 0).sort((left, right) => changeEndMs(left) - changeEndMs(right));
  const events: ClusterEventJson[] = [];
  let highest = ordered[0]?.epoch ?? 0;
  for (const change of ordered) {
    if (change.epoch <= highest) continue;
    // A change the new controller rolled back says who took over; otherwise its first change is the first sign.
    const cause = change.message.startsWith("rolled back by ") ? change.message : `the lease passed from epoch ${highest} to ${change.epoch} (a failover or a restart); first change under it: ${change.id}`;
    events.push(event(changeEndMs(change), "failover", `epoch ${change.epoch}`, cause, "journal"));
    highest = change.epoch;
  }
  return events;
}

export function isEventRecord(change: ChangeInfo__Output): boolean {
  return change.kind === eventRecordKind;
}

const recordedKinds: ReadonlySet<string> = new Set<ClusterEventKind>(["fence", "rejoin", "hold-expired", "disk-fault"]);

/** An event the controller recorded: its summary is "KIND SUBJECT", its message the cause. */
function recordedEvent(record: ChangeInfo__Output): ClusterEventJson[] {
  const [kind = "", ...subject] = record.summary.split(" ");
  if (!recordedKinds.has(kind)) return [];
  return [event(changeEndMs(record), kind as ClusterEventKind, subject.join(" "), record.message, "journal")];
}

/** Every event the journal shows. Pure: the same journal gives the same events, after any restart. */
export function journalEvents(changes: readonly ChangeInfo__Output[]): ClusterEventJson[] {
  const finished = changes.filter((change) => change.state !== "CHANGE_STATE_RUNNING" && !isEventRecord(change));
  const recorded = changes.filter(isEventRecord).flatMap(recordedEvent);
  return [...finished.flatMap((change) => [...fencesOf(change), ...outcomeOf(change)]), ...recorded, ...failoversOf(changes)];
}

/** What one look at this process's apparatuses and devices counts. */
export interface LocalCounters {
  /** Per apparatus id: holds that passed their deadline so far. */
  readonly holdsExpired: ReadonlyMap<string, number>;
  /** Per device id: failed writes of its configuration store so far. */
  readonly storeWriteErrors: ReadonlyMap<string, number>;
  /** Per "DEVICE/LU": failed reads, writes and flushes of the LU's file so far, and the last one's message. */
  readonly luIoErrors: ReadonlyMap<string, { readonly count: number; readonly lastError: string }>;
}

/** Watches for what the journal does not record; see the file's comment. */
export class EventObserver {
  private readonly events: ClusterEventJson[] = [];
  private states = new Map<string, string>();
  private epoch = 0;
  private counters: LocalCounters = { holdsExpired: new Map(), storeWriteErrors: new Map(), luIoErrors: new Map() };
  private first = true;

  /** Compares with the last look; the first look only sets what is known, so a restart reports nothing twice. */
  observe(cluster: ClusterStatus__Output | undefined, counters: LocalCounters, journal: readonly ClusterEventJson[], nowMs: number): void {
    if (cluster !== undefined) this.observeCluster(cluster, journal, nowMs);
    if (!this.first) this.observeCounters(counters, nowMs);
    this.counters = counters;
    this.first = false;
  }

  private observeCluster(cluster: ClusterStatus__Output, journal: readonly ClusterEventJson[], nowMs: number): void {
    const states = new Map(cluster.apparatuses.map((apparatus) => [apparatus.id, apparatus.state] as const));
    for (const [id, state] of states) {
      const before = this.states.get(id);
      if (before === undefined || before === state) continue;
      const recorded = (kind: ClusterEventKind): boolean => journal.some((known) => known.kind === kind && known.subject === id && nowMs - Date.parse(known.at) < fenceMatchWindowMs);
      if (before === "APPARATUS_STATUS_FENCED" && state !== "APPARATUS_STATUS_DOWN" && !recorded("rejoin")) this.add(event(nowMs, "rejoin", id, `${id} loaded the whole table and serves again`, "observed"));
      if (state === "APPARATUS_STATUS_FENCED" && !recorded("fence")) this.add(event(nowMs, "fence", id, `${id} was fenced outside any change (by an operator, or at a takeover)`, "observed"));
    }
    this.states = states;
    const epoch = cluster.controller?.epoch ?? 0;
    if (!this.first && epoch > this.epoch && this.epoch > 0) {
      this.add(event(nowMs, "failover", `epoch ${epoch}`, `controller ${cluster.controller?.id ?? "?"} took the lease (epoch ${this.epoch} to ${epoch})`, "observed"));
    }
    if (epoch > 0) this.epoch = epoch;
  }

  private observeCounters(counters: LocalCounters, nowMs: number): void {
    for (const [id, count] of counters.holdsExpired) {
      const more = count - (this.counters.holdsExpired.get(id) ?? 0);
      if (more > 0) this.add(event(nowMs, "hold-expired", id, `${more} hold${more === 1 ? "" : "s"} on ${id} passed the deadline with no Release: its volumes wait for a controller to load the table`, "observed"));
    }
    for (const [id, count] of counters.storeWriteErrors) {
      const more = count - (this.counters.storeWriteErrors.get(id) ?? 0);
      if (more > 0) this.add(event(nowMs, "disk-fault", id, `${more} write${more === 1 ? "" : "s"} of device ${id}'s configuration store failed: each refused a change; it retries at the next write`, "observed"));
    }
    for (const [id, { count, lastError }] of counters.luIoErrors) {
      const more = count - (this.counters.luIoErrors.get(id)?.count ?? 0);
      if (more > 0) this.add(event(nowMs, "disk-fault", id, `${more} I/O${more === 1 ? "" : "s"} of LU ${id} failed, the last: ${lastError}`, "observed"));
    }
  }

  private add(observed: ClusterEventJson): void {
    this.events.push(observed);
    if (this.events.length > observedEventsMax) this.events.shift();
  }

  get observed(): readonly ClusterEventJson[] {
    return this.events;
  }
}

/** The panel's list: journal and observed events, newest first, at most eventsAnswerMax. */
export function mergedEvents(journal: readonly ClusterEventJson[], observed: readonly ClusterEventJson[]): ClusterEventJson[] {
  // The controller records a rejoin or a fence a few seconds after this console may have seen it: one line, the journal's.
  const seenTwice = (seen: ClusterEventJson): boolean => journal.some((known) => known.kind === seen.kind && known.subject === seen.subject && Math.abs(Date.parse(known.at) - Date.parse(seen.at)) < fenceMatchWindowMs);
  const onlyObserved = observed.filter((seen) => !seenTwice(seen));
  return [...journal, ...onlyObserved].sort((left, right) => Date.parse(right.at) - Date.parse(left.at)).slice(0, eventsAnswerMax);
}
