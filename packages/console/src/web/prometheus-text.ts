/**
 * The Prometheus text exposition format (version 0.0.4), written by hand:
 * the apparatus keeps its counters as plain numbers and typed-array
 * histograms (io-stats.ts in @switchyard/apparatus), so what is left is
 * formatting, which needs no client library and no copy of the numbers into one.
 */
import type { HistogramFigures } from "./local-figures.js";

export const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

export interface HistogramSeries {
  readonly labels: Labels;
  readonly histogram: HistogramFigures;
}

/** Label values escape backslash, double quote and newline (exposition format spec). */
function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Collects metric families and renders them; each family is written once, with HELP and TYPE. */
export class PrometheusText {
  private readonly lines: string[] = [];

  private header(name: string, help: string, type: "counter" | "gauge" | "histogram"): void {
    this.lines.push(`# HELP ${name} ${help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}`, `# TYPE ${name} ${type}`);
  }

  counter(name: string, help: string, samples: readonly Sample[]): this {
    this.header(name, help, "counter");
    for (const sample of samples) this.lines.push(`${name}${labelText(sample.labels)} ${numberText(sample.value)}`);
    return this;
  }

  gauge(name: string, help: string, samples: readonly Sample[]): this {
    this.header(name, help, "gauge");
    for (const sample of samples) this.lines.push(`${name}${labelText(sample.labels)} ${numberText(sample.value)}`);
    return this;
  }

  /** Buckets are written cumulative, as the format requires, ending with le="+Inf" equal to _count. */
  histogram(name: string, help: string, series: readonly HistogramSeries[]): this {
    this.header(name, help, "histogram");
    for (const { labels, histogram } of series) {
      let cumulative = 0;
      histogram.counts.forEach((count, index) => {
        cumulative += count;
        const bound = histogram.boundsSeconds[index] ?? Infinity;
        this.lines.push(`${name}_bucket${labelText({ ...labels, le: numberText(bound) })} ${cumulative}`);
      });
      this.lines.push(`${name}_sum${labelText(labels)} ${numberText(histogram.sumSeconds)}`);
      this.lines.push(`${name}_count${labelText(labels)} ${histogram.count}`);
    }
    return this;
  }

  toString(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

export interface ParsedSample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

const sampleLinePattern = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const labelPairPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescapeLabelValue(value: string): string {
  return value.replace(/\\(.)/g, (_match, character: string) => (character === "n" ? "\n" : character));
}

/**
 * Reads the samples back from exposition text, for tests and tools: comment
 * lines are skipped, a line that is not a sample throws.
 */
export function parsePrometheusText(text: string): ParsedSample[] {
  const samples: ParsedSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = sampleLinePattern.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const [, name = "", labelBody = "", valueText = ""] = match;
    const labels: Record<string, string> = {};
    for (const pair of labelBody.matchAll(labelPairPattern)) labels[pair[1] ?? ""] = unescapeLabelValue(pair[2] ?? "");
    const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText);
    samples.push({ name, labels, value });
  }
  return samples;
}
