/**
 * Followers learn that the holder's term ended as etcd ends it (issue 18:
 * p50 under 3 s from a controller's SIGKILL to the next commit), instead of
 * at their next campaign step: one etcd watch on the election prefix, and a
 * deletion of the holder's key (its lease expired or was revoked) tells the
 * listeners at once. The campaign steps stay as they were, the fallback for a
 * watch that is down or an event that came before the holder was known.
 *
 * Only the holder's key counts. Every candidate that loses a campaign
 * revokes its own key at once (etcd-coordination.ts), so waking on any
 * deletion would make followers wake each other in turn for ever.
 *
 * It grants nothing: a follower woken here still campaigns, and etcd's
 * create revisions still decide who holds the term.
 */
import { type Etcd3, type IKeyValue, type Watcher } from "etcd3";

/**
 * Election keys whose deletion is remembered for a holder named just after:
 * a campaign's range and the watch are two streams, so the holder's deletion
 * can arrive before the campaign that named it answers. Between those two
 * moments only a few candidates withdraw (one key each), so a handful is
 * plenty; an older deletion falls back to the next campaign step.
 */
export const recentDeletionsMax = 16;

export type VacancyListener = () => void;

export class ElectionVacancyWatch {
  private watcher: Watcher | undefined;
  private starting = false;
  private closed = false;
  /** The holder's key as the last campaign that lost named it. */
  private holderKey: Buffer | undefined;
  private readonly recentDeletions: Buffer[] = [];
  private readonly listeners = new Set<VacancyListener>();

  constructor(
    private readonly client: Etcd3,
    private readonly electionPrefix: Buffer,
  ) {}

  /** Calls `listener` whenever the holder's key is deleted; returns what stops it. */
  subscribe(listener: VacancyListener): () => void {
    this.listeners.add(listener);
    this.start();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The holder a lost campaign named (undefined: this client holds, or nobody is known). */
  follow(holderKey: Buffer | undefined): void {
    this.holderKey = holderKey;
    this.start();
    if (holderKey !== undefined && this.recentDeletions.some((key) => key.equals(holderKey))) this.vacate();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.cancel();
  }

  /** Starts the watch once there is a listener; a watch that failed is started again at the next campaign (follow). */
  private start(): void {
    if (this.closed || this.starting || this.watcher !== undefined || this.listeners.size === 0) return;
    this.starting = true;
    this.client.watch().prefix(this.electionPrefix).only("delete").create().then((watcher) => {
      this.starting = false;
      if (this.closed) {
        // Closed while it started: nothing listens any more, and a cancel that fails leaves only a closed client's stream.
        void watcher.cancel().catch(() => undefined);
        return;
      }
      this.watcher = watcher;
      watcher.on("delete", (kv) => {
        this.deleted(kv);
      });
      // The client reconnects a watch by itself after a disconnection; an error is final: the campaign steps remain.
      watcher.on("error", () => {
        if (this.watcher === watcher) this.watcher = undefined;
      });
    }, () => {
      // etcd not answering: followers campaign at their steps as before the watch existed.
      this.starting = false;
    });
  }

  private deleted(kv: IKeyValue): void {
    this.recentDeletions.push(kv.key);
    if (this.recentDeletions.length > recentDeletionsMax) this.recentDeletions.shift();
    if (this.holderKey !== undefined && kv.key.equals(this.holderKey)) this.vacate();
  }

  private vacate(): void {
    this.holderKey = undefined;
    for (const listener of this.listeners) listener();
  }
}
