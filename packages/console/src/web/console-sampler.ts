/**
 * Drives the charts' ring and the events observer: every ioSampleIntervalMs,
 * whether or not a page is open (the charts show the last 15 minutes, not
 * the minutes since a page opened), it reads this process's counters, and
 * the cluster status and journal through the Controller service with the
 * reader's short deadline. A read that fails skips the observer's look at
 * the cluster, never the I/O sample. The counters come from a
 * LocalFiguresSource: this thread's, or the host I/O thread's when the
 * console runs on a thread of its own (console-thread.ts).
 */
import { ioLatencyBucketsSeconds } from "@switchyard/apparatus";
import type { ChangeInfo__Output, ClusterStatus__Output } from "@switchyard/proto";
import type { ConsoleClient } from "../controller-client.js";
import { EventObserver, journalEvents, mergedEvents, type LocalCounters } from "./cluster-events.js";
import { IoHistory, ioSampleIntervalMs } from "./io-history.js";
import type { LocalFigures, LocalFiguresSource } from "./local-figures.js";
import type { EventsAnswer } from "./snapshot-types.js";

export class ConsoleSampler {
  readonly history = new IoHistory(ioLatencyBucketsSeconds);
  private readonly observer = new EventObserver();
  private readonly timer: NodeJS.Timeout;
  private sampling = false;

  constructor(
    private readonly reader: ConsoleClient,
    private readonly figures: LocalFiguresSource,
  ) {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), ioSampleIntervalMs);
    // The console's server keeps the process alive; this timer alone must not.
    this.timer.unref();
  }

  private static counters(figures: LocalFigures): LocalCounters {
    return {
      holdsExpired: new Map(figures.apparatuses.map((apparatus) => [apparatus.id, apparatus.holds.expired])),
      storeWriteErrors: new Map(figures.devices.map((device) => [device.id, device.storeWriteErrors])),
      luIoErrors: new Map(figures.devices.flatMap((device) => device.lus.map((lu) => [`${device.id}/${lu.id}`, { count: lu.errorsTotal, lastError: lu.lastError }]))),
    };
  }

  private async tick(): Promise<void> {
    // Read through a MessagePort, the figures fail only when the console closes: that tick takes no sample.
    const figures = await this.figures().catch(() => undefined);
    if (figures === undefined) return;
    this.history.sample(figures.apparatuses, Date.now());
    // A slow controller must not stack reads: a tick that finds the last still reading skips its look.
    if (this.sampling) return;
    this.sampling = true;
    try {
      const [cluster, changes] = await this.read();
      this.observer.observe(cluster, ConsoleSampler.counters(figures), changes === undefined ? [] : journalEvents(changes), Date.now());
    } finally {
      this.sampling = false;
    }
  }

  private async read(): Promise<[ClusterStatus__Output | undefined, ChangeInfo__Output[] | undefined]> {
    const [cluster, changes] = await Promise.allSettled([this.reader.clusterStatus(), this.reader.listChanges()]);
    return [cluster.status === "fulfilled" ? cluster.value : undefined, changes.status === "fulfilled" ? changes.value : undefined];
  }

  /** The events panel's list: from the journal, read now, and what this console observed. */
  async events(): Promise<EventsAnswer> {
    const changes = await this.reader.listChanges().then((value) => value, () => undefined);
    return { events: mergedEvents(changes === undefined ? [] : journalEvents(changes), this.observer.observed), journal_readable: changes !== undefined };
  }

  close(): void {
    clearInterval(this.timer);
  }
}
