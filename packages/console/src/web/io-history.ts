/**
 * The page's charts (issue 21): a bounded ring of I/O samples kept in the
 * console's process, per volume and per apparatus, taken from the same
 * counters /metrics renders (apparatus io-stats.ts). Each sample is the
 * difference between two readings of the cumulative counters divided by the
 * time between them: requests per second, bytes per second, and p50/p99
 * latency of the requests that finished in that interval, estimated from the
 * latency histogram's buckets as Prometheus's histogram_quantile does.
 *
 * The ring lives in memory only: it is a view of the last minutes, like a
 * Prometheus range query, and a restarted console starts it afresh (the
 * apparatus's counters restart with it anyway).
 */
import assert from "node:assert/strict";
import { holdDeadlineMsDefault } from "@switchyard/apparatus";
import type { ApparatusFigures, HistogramFigures } from "./local-figures.js";
import type { IoHistoryAnswer, IoSeriesJson } from "./snapshot-types.js";

/** One sample every 5 s: a person reads a rate over seconds, and a tick costs one pass over the counters. */
export const ioSampleIntervalMs = 5_000;
/** The charts show the last 15 minutes (issue 21). */
export const ioWindowMs = 15 * 60_000;
/** Samples kept per series: the window at the sample interval. */
export const ioSamplesMax = ioWindowMs / ioSampleIntervalMs;
/** Volume charts the page gets per request: a screen's worth; hundreds of volumes are paged and searched. */
export const volumeChartsPageMax = 6;
assert.ok(Number.isInteger(ioSamplesMax) && ioSamplesMax > 1);

/** What the ring reads of an apparatus: its id and its volumes' I/O counters (local-figures.ts). */
export type SampledApparatus = Pick<ApparatusFigures, "id" | "volumes">;

/** The cumulative counters of one series at the last reading. */
interface Reading {
  requests: number;
  bytes: number;
  readonly latencyCounts: Float64Array;
}

/** One series' ring: per sample, requests/s, bytes/s, p50 and p99 in ms (NaN: no request finished). */
class SeriesRing {
  readonly iops = new Float64Array(ioSamplesMax);
  readonly bytesPerSecond = new Float64Array(ioSamplesMax);
  readonly p50Ms = new Float64Array(ioSamplesMax).fill(Number.NaN);
  readonly p99Ms = new Float64Array(ioSamplesMax).fill(Number.NaN);
  previous: Reading | undefined;
}

/**
 * The latency under which `quantile` of the observations fall, in seconds,
 * interpolated linearly inside its bucket; observations above the last bound
 * count as the last bound (an estimate, as Prometheus's). NaN for no observations.
 */
export function histogramQuantileSeconds(boundsSeconds: readonly number[], counts: ArrayLike<number>, quantile: number): number {
  assert.ok(quantile > 0 && quantile < 1 && counts.length === boundsSeconds.length + 1);
  let total = 0;
  for (let index = 0; index < counts.length; index += 1) total += counts[index] ?? 0;
  if (total === 0) return Number.NaN;
  const rank = quantile * total;
  let below = 0;
  for (let index = 0; index < boundsSeconds.length; index += 1) {
    const inBucket = counts[index] ?? 0;
    if (below + inBucket >= rank) {
      const lower = index === 0 ? 0 : (boundsSeconds[index - 1] ?? 0);
      const upper = boundsSeconds[index] ?? lower;
      return lower + (upper - lower) * ((rank - below) / inBucket);
    }
    below += inBucket;
  }
  return boundsSeconds.at(-1) ?? Number.NaN;
}

/** Adds one histogram's counts into `into` (the series sums every operation, and every volume or apparatus). */
function addCounts(into: Float64Array, histogram: HistogramFigures): void {
  for (let index = 0; index < into.length; index += 1) into[index] = (into[index] ?? 0) + (histogram.counts[index] ?? 0);
}

export class IoHistory {
  /** When each slot was sampled (ms since the epoch); 0: not yet. */
  private readonly timesMs = new Float64Array(ioSamplesMax);
  /** Samples taken so far; the newest is at (taken - 1) % ioSamplesMax. */
  private taken = 0;
  private readonly volumes = new Map<string, SeriesRing>();
  private readonly apparatuses = new Map<string, SeriesRing>();
  private lastReadingMs: number | undefined;
  private readonly boundsSeconds: readonly number[];

  constructor(boundsSeconds: readonly number[]) {
    this.boundsSeconds = boundsSeconds;
  }

  /** Reads every counter now and stores the rates since the last reading; the first reading only sets the baseline. */
  sample(apparatuses: readonly SampledApparatus[], nowMs: number): void {
    const readings = this.read(apparatuses);
    const elapsedSeconds = this.lastReadingMs === undefined ? 0 : (nowMs - this.lastReadingMs) / 1000;
    this.lastReadingMs = nowMs;
    const slot = this.taken % ioSamplesMax;
    if (elapsedSeconds > 0) {
      this.timesMs[slot] = nowMs;
      this.taken += 1;
    }
    this.store(this.volumes, readings.volumes, slot, elapsedSeconds);
    this.store(this.apparatuses, readings.apparatuses, slot, elapsedSeconds);
  }

  private read(apparatuses: readonly SampledApparatus[]): { volumes: Map<string, Reading>; apparatuses: Map<string, Reading> } {
    const volumes = new Map<string, Reading>();
    const byApparatus = new Map<string, Reading>();
    const readingOf = (map: Map<string, Reading>, key: string): Reading => {
      const known = map.get(key);
      if (known !== undefined) return known;
      const created = { requests: 0, bytes: 0, latencyCounts: new Float64Array(this.boundsSeconds.length + 1) };
      map.set(key, created);
      return created;
    };
    for (const apparatus of apparatuses) {
      const ofApparatus = readingOf(byApparatus, apparatus.id);
      for (const volume of apparatus.volumes) {
        const ofVolume = readingOf(volumes, volume.volume);
        for (const counters of volume.operations) {
          for (const reading of [ofVolume, ofApparatus]) {
            reading.requests += counters.requests;
            reading.bytes += counters.bytes;
            addCounts(reading.latencyCounts, counters.latency);
          }
        }
      }
    }
    return { volumes, apparatuses: byApparatus };
  }

  private store(rings: Map<string, SeriesRing>, readings: Map<string, Reading>, slot: number, elapsedSeconds: number): void {
    for (const [key, reading] of readings) {
      let ring = rings.get(key);
      if (ring === undefined) {
        ring = new SeriesRing();
        rings.set(key, ring);
      }
      const previous = ring.previous;
      ring.previous = reading;
      // A series first seen in this reading has no earlier one to differ from; slots it missed stay 0.
      if (elapsedSeconds === 0) continue;
      // A counter that went back (its apparatus restarted in this process) restarts the series at 0.
      const delta = (now: number, before: number | undefined): number => Math.max(0, now - (before ?? 0));
      ring.iops[slot] = delta(reading.requests, previous?.requests) / elapsedSeconds;
      ring.bytesPerSecond[slot] = delta(reading.bytes, previous?.bytes) / elapsedSeconds;
      const latency = reading.latencyCounts.map((count, index) => delta(count, previous?.latencyCounts[index]));
      ring.p50Ms[slot] = histogramQuantileSeconds(this.boundsSeconds, latency, 0.5) * 1000;
      ring.p99Ms[slot] = histogramQuantileSeconds(this.boundsSeconds, latency, 0.99) * 1000;
    }
    // Series with no reading now (never, as counters are kept) would keep stale values: clear their slot.
    for (const [key, ring] of rings) if (!readings.has(key)) clearSlot(ring, slot);
  }

  /** The window, oldest first, with every apparatus and one page of the volumes whose name contains `search`. */
  answer(search: string, offset: number): IoHistoryAnswer {
    const count = Math.min(this.taken, ioSamplesMax);
    const order = Array.from({ length: count }, (_, index) => (this.taken - count + index) % ioSamplesMax);
    const names = [...this.volumes.keys()].filter((name) => name.includes(search)).sort();
    const start = Math.max(0, Math.min(offset, Math.max(0, names.length - 1)));
    const page = names.slice(start, start + volumeChartsPageMax);
    const series = (id: string, ring: SeriesRing): IoSeriesJson => ({
      id,
      iops: order.map((slot) => ring.iops[slot] ?? 0),
      bytes_per_second: order.map((slot) => ring.bytesPerSecond[slot] ?? 0),
      // JSON has no NaN: an interval with no request has no latency (null draws a gap).
      p50_ms: order.map((slot) => finiteOrNull(ring.p50Ms[slot])),
      p99_ms: order.map((slot) => finiteOrNull(ring.p99Ms[slot])),
    });
    return {
      sample_interval_ms: ioSampleIntervalMs,
      window_ms: ioWindowMs,
      hold_deadline_ms: holdDeadlineMsDefault,
      times_ms: order.map((slot) => this.timesMs[slot] ?? 0),
      apparatuses: [...this.apparatuses].map(([id, ring]) => series(id, ring)),
      volumes: { matched: names.length, offset: start, page_size: volumeChartsPageMax, items: page.map((name) => series(name, this.volumes.get(name) ?? new SeriesRing())) },
    };
  }
}

function clearSlot(ring: SeriesRing, slot: number): void {
  ring.iops[slot] = 0;
  ring.bytesPerSecond[slot] = 0;
  ring.p50Ms[slot] = Number.NaN;
  ring.p99Ms[slot] = Number.NaN;
}

function finiteOrNull(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : value;
}
