// Goal: /metrics text follows the Prometheus exposition format: HELP and TYPE
// once per family, escaped label values, cumulative histogram buckets ending
// in +Inf equal to _count; the parser reads back what the writer wrote; the
// change metrics count each finished change of the journal once. Method:
// write, parse, compare; no server.
import { describe, expect, it } from "vitest";
import { Histogram } from "@switchyard/apparatus";
import type { ChangeInfo__Output } from "@switchyard/proto";
import { ChangeMetrics } from "./metrics.js";
import { parsePrometheusText, PrometheusText } from "./prometheus-text.js";

function change(id: string, state: ChangeInfo__Output["state"], phases: [string, number][]): ChangeInfo__Output {
  return {
    id, kind: "move", summary: "", state, base_generation: 1, epoch: 1, started_at_ms: 0, ended_at_ms: 0,
    phases: phases.map(([phase, elapsed]) => ({ phase, started_at_ms: 0, elapsed_ms: elapsed })),
    reports: [], fenced: [], copy_progress: [], message: "", copied_bytes: 0, total_bytes: 0, hole_bytes_skipped: 0, chunks_copied_again: 0, hold_mode: "HOLD_MODE_UNSPECIFIED",
  };
}

describe("PrometheusText", () => {
  it("writes counters with escaped labels and cumulative histograms, and parses them back", () => {
    const histogram = new Histogram([0.1, 1]);
    histogram.observe(0.05);
    histogram.observe(0.5);
    histogram.observe(3);
    const text = new PrometheusText()
      .counter("c_total", "a counter", [{ labels: { volume: 'a"b\\c' }, value: 7 }])
      .histogram("h_seconds", "a histogram", [{ labels: { apparatus: "a0" }, histogram }])
      .toString();
    expect(text.match(/^# TYPE c_total counter$/gm)).toHaveLength(1);
    expect(text).toContain('c_total{volume="a\\"b\\\\c"} 7');
    const samples = parsePrometheusText(text);
    expect(samples.find((sample) => sample.name === "c_total")?.labels.volume).toBe('a"b\\c');
    const buckets = samples.filter((sample) => sample.name === "h_seconds_bucket").map((sample) => [sample.labels.le, sample.value]);
    expect(buckets).toEqual([["0.1", 1], ["1", 2], ["+Inf", 3]]);
    expect(samples.find((sample) => sample.name === "h_seconds_count")?.value).toBe(3);
    expect(samples.find((sample) => sample.name === "h_seconds_sum")?.value).toBeCloseTo(3.55);
  });

  it("refuses a line that is not a sample", () => {
    expect(() => parsePrometheusText("not a sample line at all\n")).toThrow(/not a Prometheus sample line/);
  });
});

describe("ChangeMetrics", () => {
  it("counts each finished change once, and none while it runs", () => {
    const metrics = new ChangeMetrics();
    const first = change("move-1", "CHANGE_STATE_COMMITTED", [["hold", 10], ["apply", 5]]);
    metrics.observe([first, change("move-2", "CHANGE_STATE_RUNNING", [["hold", 0]])]);
    metrics.observe([first, change("move-2", "CHANGE_STATE_ABORTED", [["hold", 2000], ["abort", 1]])]);
    const text = new PrometheusText();
    metrics.write(text);
    const samples = parsePrometheusText(text.toString());
    const value = (name: string, labels: Record<string, string>): number | undefined =>
      samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted))?.value;
    expect(value("switchyard_changes_total", { state: "committed" })).toBe(1);
    expect(value("switchyard_changes_total", { state: "aborted" })).toBe(1);
    expect(value("switchyard_change_phase_duration_seconds_count", { phase: "hold" })).toBe(2);
    expect(value("switchyard_change_phase_duration_seconds_sum", { phase: "hold" })).toBeCloseTo(2.01);
    expect(value("switchyard_change_phase_duration_seconds_bucket", { phase: "hold", le: "0.01" })).toBe(1);
  });

  it("writes failed migrations from 0, before any, so that the first is an increase to Prometheus", () => {
    const samplesOf = (metrics: ChangeMetrics): ReturnType<typeof parsePrometheusText> => {
      const text = new PrometheusText();
      metrics.write(text);
      return parsePrometheusText(text.toString());
    };
    const failed = (metrics: ChangeMetrics): number | undefined => samplesOf(metrics)
      .find((sample) => sample.name === "switchyard_changes_total" && sample.labels.kind === "migrate" && sample.labels.state === "failed")?.value;
    const metrics = new ChangeMetrics();
    expect(failed(metrics)).toBe(0);
    metrics.observe([{ ...change("migrate-1", "CHANGE_STATE_FAILED", []), kind: "migrate" }]);
    expect(failed(metrics)).toBe(1);
  });
});
