/**
 * Counters of one apparatus's host I/O and holds, for the console's /metrics.
 * They are plain numbers and typed-array histograms updated in place: the I/O
 * path pays two clock reads, a map lookup and a few additions per request,
 * and no metrics library, allocation or label string is on it. The console
 * turns them into the Prometheus text format when it is scraped.
 */
import assert from "node:assert/strict";

export type IoOperation = "read" | "write" | "write_zeroes" | "trim" | "flush" | "block_status";
export const ioOperations: readonly IoOperation[] = ["read", "write", "write_zeroes", "trim", "flush", "block_status"];

/**
 * Upper bounds of the latency buckets, in seconds: from 50 µs (a page-cache
 * read) to 10 s (a request held through a slow change), about three buckets
 * per decade, as Prometheus's default histogram spacing.
 */
export const ioLatencyBucketsSeconds: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** Holds last from a millisecond (a move with no copy) to many seconds (a copy of a large area under the hold). */
export const holdDurationBucketsSeconds: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Volumes whose I/O is counted separately; more than a cluster may hold (volumesMax) so none is ever lumped. */
export const volumesCountedMax = 4_096;

function ascending(bounds: readonly number[]): boolean {
  return bounds.every((bound, index) => index === 0 || bound > (bounds[index - 1] ?? 0));
}
assert.ok(ascending(ioLatencyBucketsSeconds) && ascending(holdDurationBucketsSeconds));

/** A cumulative-on-read histogram: counts per bucket (the last is +Inf), sum and count. */
export class Histogram {
  readonly boundsSeconds: readonly number[];
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  readonly counts: Float64Array;
  sumSeconds = 0;
  count = 0;

  constructor(boundsSeconds: readonly number[]) {
    this.boundsSeconds = boundsSeconds;
    this.counts = new Float64Array(boundsSeconds.length + 1);
  }

  observe(seconds: number): void {
    let index = 0;
    while (index < this.boundsSeconds.length && seconds > (this.boundsSeconds[index] ?? Infinity)) index += 1;
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.sumSeconds += seconds;
    this.count += 1;
  }
}

/** One volume's counters for one operation. */
export class OperationStats {
  requests = 0;
  bytes = 0;
  errors = 0;
  readonly latency = new Histogram(ioLatencyBucketsSeconds);
}

export class VolumeIoStats {
  readonly volume: string;
  /** Indexed like ioOperations. */
  readonly operations: readonly OperationStats[] = ioOperations.map(() => new OperationStats());

  constructor(volume: string) {
    this.volume = volume;
  }
}

const operationIndex: Readonly<Record<IoOperation, number>> = { read: 0, write: 1, write_zeroes: 2, trim: 3, flush: 4, block_status: 5 };

export class IoStats {
  private readonly volumes = new Map<string, VolumeIoStats>();

  /** `now`: the clock latencies end on, performance.now() unless a test fixes it (startedMs is on the same clock). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Counts one finished request; `startedMs` is its performance.now() on arrival, so a held request's wait is in its latency. */
  record(volume: string, operation: IoOperation, lengthBytes: number, startedMs: number, failed: boolean): void {
    const stats = this.volumeStats(volume);
    if (stats === undefined) return;
    const counters = stats.operations[operationIndex[operation]];
    assert.ok(counters !== undefined);
    counters.requests += 1;
    if (failed) counters.errors += 1;
    else counters.bytes += lengthBytes;
    counters.latency.observe((this.now() - startedMs) / 1000);
  }

  private volumeStats(volume: string): VolumeIoStats | undefined {
    const known = this.volumes.get(volume);
    if (known !== undefined) return known;
    // Requests for names beyond the bound are not counted rather than grow the map without limit.
    if (this.volumes.size >= volumesCountedMax) return undefined;
    const created = new VolumeIoStats(volume);
    this.volumes.set(volume, created);
    return created;
  }

  /** Every volume that has had I/O, in first-seen order. */
  snapshot(): readonly VolumeIoStats[] {
    return [...this.volumes.values()];
  }
}

/** Holds installed on one apparatus and how long each lasted (claim 4: a hold must end within a bound). */
export class HoldStats {
  holdsInstalled = 0;
  holdsActive = 0;
  /** Holds that passed their deadline with no Release, Abort or whole table (apparatus.ts holdDeadlineMsDefault). */
  holdsExpired = 0;
  /** Host requests that waited at a hold until its release. */
  heldRequests = 0;
  readonly duration = new Histogram(holdDurationBucketsSeconds);

  installed(): void {
    this.holdsInstalled += 1;
    this.holdsActive += 1;
  }

  released(installedAtMs: number, heldRequests: number): void {
    assert.ok(this.holdsActive > 0, "a hold released that was never installed");
    this.holdsActive -= 1;
    this.heldRequests += heldRequests;
    this.duration.observe((performance.now() - installedAtMs) / 1000);
  }
}
