/**
 * A follower's watch on the lease holder's process (issue 18's failover
 * speed), as a sans-I/O core: the decisions here, the probes and the
 * coordinator's call in lease-driver.ts.
 *
 * On etcd a holder's term ends at the coordinator one term after its last
 * renewal (2 to 3 s after a SIGKILL with a 3 s term). A holder whose
 * controller address refuses connections has no process listening there:
 * the Controller service listens before its candidate campaigns
 * (controller-serve.ts) and stops only with the process. A follower that
 * sees that twice in a row, holderGoneRefusalsMin probes apart, ends the
 * holder's term at the coordinator at once (etcd: revokes its lease), and
 * the vacancy watch starts the campaign.
 *
 * Only a refused connection counts. A probe that times out (a partition,
 * a stopped process whose kernel still accepts connections) proves
 * nothing, and the term runs out by itself as before. Ending a live
 * holder's term would still be safe (its writes carry its token, which
 * the coordinator then refuses, and it stops acting at its next renewal);
 * it would only cost a failover.
 */

/** Probes of the holder's address, this far apart while following, in milliseconds. */
export const holderProbeIntervalMs = 200;
/** Refused connections in a row before the holder is taken as gone: one refusal could be a listener's restart in place. */
export const holderGoneRefusalsMin = 2;

/** What a probe of an address found. */
export type ProbeOutcome = "refused" | "answered" | "unknown";

/** What the watch asks for. */
export type HolderWatchCommand =
  /** Probe the holder's address. */
  | { readonly kind: "probe"; readonly address: string; readonly epoch: number }
  /** End the term at `epoch` at the coordinator: its holder's process is gone. */
  | { readonly kind: "end-term"; readonly address: string; readonly epoch: number };

interface Watched {
  readonly address: string;
  readonly epoch: number;
  refusals: number;
  /** The term was asked ended: nothing more to do for it. */
  ended: boolean;
}

export class HolderWatchCore {
  private watched: Watched | undefined;

  /** @param ownAddress this controller's own address, never probed. */
  constructor(private readonly ownAddress: string) {}

  /** A lost campaign named the holder: watch it (again, if it is the same term). */
  follow(address: string, epoch: number): void {
    if (address === "" || address === this.ownAddress || epoch <= 0) {
      this.watched = undefined;
      return;
    }
    if (this.watched?.address === address && this.watched.epoch === epoch) return;
    this.watched = { address, epoch, refusals: 0, ended: false };
  }

  /** This controller leads, or stops: nothing to watch. */
  stop(): void {
    this.watched = undefined;
  }

  /** The next probe due, if any holder is watched. */
  next(): HolderWatchCommand | undefined {
    const watched = this.watched;
    if (watched === undefined || watched.ended) return undefined;
    return { kind: "probe", address: watched.address, epoch: watched.epoch };
  }

  /** A probe's outcome; ends the term once the holder refused often enough in a row. */
  onProbe(address: string, epoch: number, outcome: ProbeOutcome): HolderWatchCommand | undefined {
    const watched = this.watched;
    if (watched === undefined || watched.address !== address || watched.epoch !== epoch || watched.ended) return undefined;
    watched.refusals = outcome === "refused" ? watched.refusals + 1 : 0;
    if (watched.refusals < holderGoneRefusalsMin) return undefined;
    watched.ended = true;
    return { kind: "end-term", address, epoch };
  }
}
