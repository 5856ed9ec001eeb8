/**
 * What a device follows of the registrations at etcd (issue 18 item 3), as
 * a pure mirror of two key families: `registration/<id>` (the key the
 * apparatus presents on I/O) and `fenced/<id>` (present while it is
 * fenced). The watch driver (etcd-registrations.ts) feeds it a fresh read
 * (`reset`) and then the watch's events one revision at a time (`apply`);
 * it answers with where each apparatus touched now stands, which the device
 * applies to its per-I/O check.
 *
 * Where an apparatus stands follows the coordination's own reading
 * (etcd-coordination.ts registrationStatus): fenced while its fenced key
 * exists, whatever else; else registered under its registration key; else
 * unknown. A fence Txn writes both keys at one revision, and etcd sends a
 * revision's events together, so the mirror never shows half a fence once
 * a revision's events are applied together.
 */
import assert from "node:assert/strict";
import type { RegistrationState, RegistrationUpdate } from "./coordination.js";

/**
 * Events in one watch answer: one revision's Txn writes two keys, and etcd
 * sends a few revisions per answer under load. More is a broken watch, not
 * a busy cluster.
 */
export const registrationEventsMax = 4096;

export interface RegistrationEvent {
  readonly family: "registration" | "fenced";
  readonly apparatusId: string;
  /** A put carries the key's value; a delete none. */
  readonly change: "put" | "delete";
  /** The registration key (registration family); empty for fenced keys. */
  readonly value: string;
}

export class RegistrationMirror {
  private readonly keys = new Map<string, string>();
  private readonly fenced = new Set<string>();
  private revisionSeen = 0;

  /** The revision the mirror is at: a watch resumes after it. */
  get revision(): number {
    return this.revisionSeen;
  }

  /** Replaces everything with a fresh read at `revision`; names every apparatus known before or now. */
  reset(keys: ReadonlyMap<string, string>, fenced: ReadonlySet<string>, revision: number): RegistrationUpdate {
    assert.ok(Number.isSafeInteger(revision) && revision >= this.revisionSeen, `a fresh read at revision ${revision} is older than ${this.revisionSeen}`);
    const touched = new Set([...this.keys.keys(), ...this.fenced, ...keys.keys(), ...fenced]);
    this.keys.clear();
    this.fenced.clear();
    for (const [apparatusId, key] of keys) this.keys.set(apparatusId, key);
    for (const apparatusId of fenced) this.fenced.add(apparatusId);
    this.revisionSeen = revision;
    return this.updateOf(touched, true);
  }

  /** Applies one watch answer's events (revision: the answer's last); names the apparatuses they touched. */
  apply(revision: number, events: readonly RegistrationEvent[]): RegistrationUpdate {
    assert.ok(Number.isSafeInteger(revision) && revision >= this.revisionSeen, `watch revision ${revision} went back from ${this.revisionSeen}`);
    assert.ok(events.length <= registrationEventsMax, `${events.length} events in one watch answer (limit ${registrationEventsMax})`);
    const touched = new Set<string>();
    for (const event of events) {
      touched.add(event.apparatusId);
      this.applyOne(event);
    }
    this.revisionSeen = revision;
    return this.updateOf(touched, false);
  }

  /** Where `apparatusId` stands now. */
  stateOf(apparatusId: string): RegistrationState {
    if (this.fenced.has(apparatusId)) return { kind: "fenced" };
    const registrationKey = this.keys.get(apparatusId);
    return registrationKey === undefined ? { kind: "unknown" } : { kind: "registered", registrationKey };
  }

  private applyOne(event: RegistrationEvent): void {
    if (event.family === "fenced") {
      if (event.change === "put") this.fenced.add(event.apparatusId);
      else this.fenced.delete(event.apparatusId);
      return;
    }
    if (event.change === "put") this.keys.set(event.apparatusId, event.value);
    else this.keys.delete(event.apparatusId);
  }

  private updateOf(touched: ReadonlySet<string>, complete: boolean): RegistrationUpdate {
    return { revision: this.revisionSeen, complete, states: new Map([...touched].map((apparatusId) => [apparatusId, this.stateOf(apparatusId)])) };
  }
}
