// Goal: the charts' ring turns cumulative counters into per-interval rates
// and latency percentiles, keeps exactly the last ioSamplesMax samples in
// time order, and pages and searches the volumes. Method: real IoStats
// counters fed by hand, samples taken at chosen times (no clock), and the
// answer compared with the numbers the counters imply.
import { IoStats, ioLatencyBucketsSeconds } from "@switchyard/apparatus";
import { describe, expect, it } from "vitest";
import { histogramQuantileSeconds, IoHistory, ioSampleIntervalMs, ioSamplesMax, volumeChartsPageMax, type SampledApparatus } from "./io-history.js";

describe("histogramQuantileSeconds", () => {
  it("interpolates inside the bucket that holds the rank, as Prometheus does", () => {
    expect(histogramQuantileSeconds([1, 2, 4], [0, 10, 0, 0], 0.5)).toBeCloseTo(1.5);
    expect(histogramQuantileSeconds([1, 2, 4], [10, 0, 0, 0], 0.5)).toBeCloseTo(0.5);
    expect(histogramQuantileSeconds([1, 2, 4], [50, 0, 49, 1], 0.99)).toBeCloseTo(4);
  });

  it("is NaN with no observations and the last bound above every bucket", () => {
    expect(histogramQuantileSeconds([1, 2], [0, 0, 0], 0.5)).toBeNaN();
    expect(histogramQuantileSeconds([1, 2], [0, 0, 5], 0.5)).toBe(2);
  });
});

/** Each request below took this long: inside the (2.5 ms, 5 ms] bucket. */
const requestLatencyMs = 3;
/** The counters' clock: fixed, so a busy machine cannot push a request into the next bucket (CI met it with performance.now()). */
const clockMs = 1_000;

function fixedStats(): IoStats {
  return new IoStats(() => clockMs);
}

/** `count` requests of `bytes` each on `volume`. */
function requests(stats: IoStats, volume: string, count: number, bytes: number): void {
  for (let index = 0; index < count; index += 1) stats.record(volume, "read", bytes, clockMs - requestLatencyMs, false);
}

/** An apparatus as the ring reads it, its volumes read from `stats` at each sample. */
function sampled(id: string, stats: IoStats): SampledApparatus {
  return { id, get volumes() { return stats.snapshot(); } };
}

describe("IoHistory", () => {
  it("gives requests/s, bytes/s and latency per interval, per volume and per apparatus", () => {
    const a0 = fixedStats();
    const a1 = fixedStats();
    const history = new IoHistory(ioLatencyBucketsSeconds);
    const apparatuses = [sampled("a0", a0), sampled("a1", a1)];
    history.sample(apparatuses, 0);
    requests(a0, "vm1", 50, 4096);
    requests(a1, "vm1", 25, 4096);
    requests(a1, "vm2", 10, 512);
    history.sample(apparatuses, 5_000);
    history.sample(apparatuses, 10_000);
    const answer = history.answer("", 0);
    expect(answer.times_ms).toEqual([5_000, 10_000]);
    const vm1 = answer.volumes.items.find((series) => series.id === "vm1");
    expect(vm1?.iops).toEqual([15, 0]);
    expect(vm1?.bytes_per_second).toEqual([(75 * 4096) / 5, 0]);
    // Every request is in the (2.5 ms, 5 ms] bucket: p50 half-way through it, p99 near its top.
    expect(vm1?.p50_ms[0]).toBeCloseTo(3.75);
    expect(vm1?.p99_ms[0]).toBeCloseTo(4.975);
    expect(vm1?.p50_ms[1]).toBeNull();
    expect(answer.apparatuses.map((series) => [series.id, series.iops[0]])).toEqual([["a0", 10], ["a1", 7]]);
  });

  it("keeps the last ioSamplesMax samples, oldest first", () => {
    const stats = fixedStats();
    const history = new IoHistory(ioLatencyBucketsSeconds);
    const apparatuses = [sampled("a0", stats)];
    const extra = 7;
    for (let index = 0; index <= ioSamplesMax + extra; index += 1) {
      requests(stats, "vm1", index, 1);
      history.sample(apparatuses, index * ioSampleIntervalMs);
    }
    const answer = history.answer("", 0);
    expect(answer.times_ms).toHaveLength(ioSamplesMax);
    expect(answer.times_ms[0]).toBe((extra + 1) * ioSampleIntervalMs);
    expect(answer.times_ms.at(-1)).toBe((ioSamplesMax + extra) * ioSampleIntervalMs);
    // The rate in each slot is the requests of its own interval: index of them over 5 s.
    expect(answer.volumes.items[0]?.iops.at(-1)).toBeCloseTo((ioSamplesMax + extra) / (ioSampleIntervalMs / 1000));
    expect(answer.volumes.items[0]?.iops[0]).toBeCloseTo((extra + 1) / (ioSampleIntervalMs / 1000));
  });

  it("pages and searches hundreds of volumes", () => {
    const stats = fixedStats();
    const history = new IoHistory(ioLatencyBucketsSeconds);
    const volumeCount = 300;
    for (let index = 0; index < volumeCount; index += 1) requests(stats, `vol-${String(index).padStart(3, "0")}`, 1, 1);
    history.sample([sampled("a0", stats)], 0);
    history.sample([sampled("a0", stats)], 5_000);
    const second = history.answer("", volumeChartsPageMax);
    expect(second.volumes).toMatchObject({ matched: volumeCount, offset: volumeChartsPageMax, page_size: volumeChartsPageMax });
    expect(second.volumes.items.map((series) => series.id)).toEqual(Array.from({ length: volumeChartsPageMax }, (_, index) => `vol-${String(volumeChartsPageMax + index).padStart(3, "0")}`));
    const searched = history.answer("vol-29", 0);
    expect(searched.volumes.matched).toBe(10);
    expect(searched.volumes.items).toHaveLength(volumeChartsPageMax);
    // An offset past the end shows the last page rather than nothing.
    expect(history.answer("vol-29", 1_000).volumes.items.map((series) => series.id)).toEqual(["vol-299"]);
  });
});
