/**
 * A device follows the registrations and fences at etcd itself (issue 18
 * item 3), so apparatus renewals no longer pass through it and losing a
 * device stops only I/O to its LUs. One range read of the registration/
 * and fenced/ keys (one Txn, one revision), then one etcd watch from the
 * next revision; each watch answer's events go through the pure mirror
 * (registration-mirror.ts) to the listener, in etcd's revision order.
 *
 * The etcd client re-establishes a watch after a disconnection by itself,
 * from the last revision it delivered. What it cannot mend (its watch
 * cancelled by etcd, as when the revision to resume from was compacted) is
 * a final error: then this reads everything again and watches from the new
 * revision, and the listener hears every apparatus known before or after,
 * so nothing that changed in the gap is missed.
 */
import assert from "node:assert/strict";
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from "etcd3";
import { CoordinationError, type RegistrationListener } from "./coordination.js";
import { asCoordinationError } from "./etcd-errors.js";
import type { EtcdKeys } from "./etcd-keys.js";
import { RegistrationMirror, type RegistrationEvent } from "./registration-mirror.js";

/** Registrations (and, apart, fences) read at once: the device keeps at most 1024 (device-registrations.ts registrationsMax). */
export const registrationsReadMax = 1024;
/**
 * Between a failed read or watch and the next try: long enough not to spin
 * on an etcd that is down, short against an apparatus's 3 s lease. The
 * follower never gives up (a device follows for as long as it runs), so
 * its retries are paced, not counted.
 */
export const rewatchDelayMs = 500;

export class RegistrationsWatch {
  private readonly mirror = new RegistrationMirror();
  private watcher: Watcher | undefined;
  private stopped = false;
  /** The follow loop; resolves once stopped. */
  private readonly following: Promise<void>;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    private readonly listener: RegistrationListener,
  ) {
    // One watch covers both families only because nothing else of ours sorts between them (etcd-keys.ts).
    assert.ok(Buffer.compare(keys.fences.prefix, keys.registrations.prefix) < 0, "fenced/ sorts before registration/");
    this.following = this.follow();
  }

  /** Stops the watch; resolves once etcd's watch is cancelled (or the client is gone). */
  async stop(): Promise<void> {
    this.stopped = true;
    const watcher = this.watcher;
    this.watcher = undefined;
    // A cancel that fails leaves only a stream the closing client ends.
    await watcher?.cancel().catch(() => undefined);
    await this.following;
  }

  /** A method, not the field: stop() flips it while the loop awaits. */
  private running(): boolean {
    return !this.stopped;
  }

  private async follow(): Promise<void> {
    while (this.running()) {
      try {
        await this.readThenWatch();
      } catch (error) {
        // etcd unreachable or a client closing: try again after a pause; anything else is a broken invariant.
        asCoordinationError("watchRegistrations", error);
      }
      if (this.running()) await pause(rewatchDelayMs);
    }
  }

  /** One read and one watch from the revision after it; resolves when the watch ends for good. */
  private async readThenWatch(): Promise<void> {
    const revision = await this.read();
    if (!this.running()) return;
    const { fences, registrations } = this.keys;
    const watcher = await this.client.watch().inRange({ start: fences.prefix, end: registrations.end }).startRevision(String(revision + 1)).create();
    if (!this.running()) {
      await watcher.cancel().catch(() => undefined);
      return;
    }
    this.watcher = watcher;
    await new Promise<void>((resolve) => {
      watcher.on("data", (response) => {
        this.received(response);
      });
      watcher.on("error", () => {
        resolve();
      });
      watcher.on("end", () => {
        resolve();
      });
    });
    if (this.watcher === watcher) this.watcher = undefined;
  }

  /** Both families at one revision; tells the listener; resolves with that revision. */
  private async read(): Promise<number> {
    const { fences, registrations } = this.keys;
    const answer = await this.client.kv.txn({
      success: [
        { request_range: { key: registrations.prefix, range_end: registrations.end, limit: registrationsReadMax + 1 } },
        { request_range: { key: fences.prefix, range_end: fences.end, limit: registrationsReadMax + 1 } },
      ],
    });
    const [registered, fenced] = answer.responses;
    assert.ok(registered !== undefined && fenced !== undefined, "a Txn answers each of its requests");
    const keys = new Map(this.idsOf(registered.response_range.kvs).map(({ apparatusId, value }) => [apparatusId, value]));
    const fencedIds = new Set(this.idsOf(fenced.response_range.kvs).map(({ apparatusId }) => apparatusId));
    const revision = Number(answer.header.revision);
    this.listener(this.mirror.reset(keys, fencedIds, revision));
    return revision;
  }

  private idsOf(kvs: readonly IKeyValue[]): { apparatusId: string; value: string }[] {
    if (kvs.length > registrationsReadMax) {
      throw new CoordinationError("LIMIT_EXCEEDED", `over ${registrationsReadMax} registrations or fences at etcd (limit)`);
    }
    return kvs.flatMap((kv) => {
      const named = this.keys.registrationKeyOf(kv.key);
      return named === undefined ? [] : [{ apparatusId: named.apparatusId, value: kv.value.toString("utf8") }];
    });
  }

  private received(response: IWatchResponse): void {
    const events: RegistrationEvent[] = [];
    let revision = this.mirror.revision;
    for (const event of response.events) {
      revision = Math.max(revision, Number(event.kv.mod_revision));
      const named = this.keys.registrationKeyOf(event.kv.key);
      if (named === undefined) continue;
      const change = event.type === "Put" ? "put" : "delete";
      events.push({ ...named, change, value: change === "put" ? event.kv.value.toString("utf8") : "" });
    }
    // A progress notice, or only keys of ours between the two families: nothing to tell.
    if (events.length === 0) return;
    this.listener(this.mirror.apply(revision, events));
  }
}

function pause(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs).unref());
}
