/**
 * The page's charts (issue 21), drawn with uPlot, which the build copies
 * beside the page from its npm package (index.html maps "uplot" to it): per
 * apparatus and per volume, IOPS, throughput and p50/p99 latency over the
 * server's 15-minute ring (GET api/io-history); each running migration's
 * copy rate and time left; and the hold durations of recent changes as a
 * strip. Each chart is made once and given new data in place, so a poll
 * costs a redraw, not a rebuild.
 */
import uPlot from "uplot";
import type { ChangeSnapshot, IoHistoryAnswer, IoSeriesJson } from "../src/web/snapshot-types.js";

/** A chart's drawing size in CSS pixels: three fit side by side on a laptop screen. */
const chartWidthPx = 300;
/** Tall enough, under uPlot's two-line time labels, for three value ticks. */
const chartHeightPx = 160;
/** Room for a value label such as "1023.9 MiB/s" beside the plot. */
const valueAxisWidthPx = 80;
/** Pixels between value ticks: uPlot's default (30) leaves one tick on a chart this small. */
const valueTickSpacePx = 20;
/** Points kept per running migration: at the feed's 500 ms, ten minutes of its rate; older ones go first. */
const migrationPointsMax = 1_200;
/** The copy rate is measured over at least this long: two snapshots 500 ms apart give a jumpy rate. */
const rateSpanMs = 3_000;
/** Changes drawn in the hold strip, newest last: the journal keeps more than a strip reads well. */
const holdStripChangesMax = 60;

type Values = (number | null)[];

/** Creates an element with text and attributes; text is always text, never HTML. */
export function element(tag: string, text = "", attributes: Record<string, string> = {}): HTMLElement {
  const created = document.createElement(tag);
  created.textContent = text;
  for (const [name, value] of Object.entries(attributes)) created.setAttribute(name, value);
  return created;
}

export function formatRate(bytesPerSecond: number): string {
  const units = ["B/s", "KiB/s", "MiB/s", "GiB/s"];
  let value = bytesPerSecond;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit] ?? "B/s"}`;
}

/** One uPlot chart of one or two lines against time (seconds, as uPlot's x axis wants). */
function makeChart(title: string, lines: readonly { label: string; colour: string }[], format: (value: number) => string, into: HTMLElement): uPlot {
  const series: uPlot.Series[] = [{}, ...lines.map((line) => ({ label: line.label, stroke: line.colour, width: 1.5, spanGaps: false }))];
  const options: uPlot.Options = {
    title,
    width: chartWidthPx,
    height: chartHeightPx,
    series,
    axes: [{}, { size: valueAxisWidthPx, space: valueTickSpacePx, values: (_chart, ticks) => ticks.map(format) }],
    legend: { show: true, live: false },
    cursor: { show: false },
  };
  return new uPlot(options, [[], ...lines.map(() => [])], into);
}

/** The three charts of one apparatus or volume, kept between polls. */
class SeriesCard {
  readonly box: HTMLElement;
  private readonly iops: uPlot;
  private readonly throughput: uPlot;
  private readonly latency: uPlot;

  constructor(kind: "apparatus" | "volume", id: string) {
    this.box = element("div", "", { class: "chart-card", "data-kind": kind, "data-series": id });
    this.box.append(element("div", `${kind} ${id}`, { class: "chart-title" }));
    const row = element("div", "", { class: "chart-row" });
    this.box.append(row);
    this.iops = makeChart("IOPS", [{ label: "requests/s", colour: "#2563eb" }], (value) => value.toFixed(0), row);
    this.throughput = makeChart("throughput", [{ label: "bytes/s", colour: "#059669" }], formatRate, row);
    this.latency = makeChart("latency (ms)", [{ label: "p50", colour: "#d97706" }, { label: "p99", colour: "#dc2626" }], (value) => value.toFixed(value < 1 ? 2 : 1), row);
  }

  update(timesSeconds: readonly number[], series: IoSeriesJson): void {
    const x = [...timesSeconds];
    this.iops.setData([x, [...series.iops]]);
    this.throughput.setData([x, [...series.bytes_per_second]]);
    this.latency.setData([x, [...series.p50_ms] as Values, [...series.p99_ms] as Values]);
    // For tests and for a person hovering: how many samples are drawn and the newest rates.
    this.box.dataset.samples = String(x.length);
    this.box.dataset.lastIops = String(Math.round(series.iops.at(-1) ?? 0));
    this.box.dataset.lastBytesPerSecond = String(Math.round(series.bytes_per_second.at(-1) ?? 0));
    this.box.title = `last ${formatRate(series.bytes_per_second.at(-1) ?? 0)}, ${Math.round(series.iops.at(-1) ?? 0)} IOPS`;
  }

  destroy(): void {
    this.iops.destroy();
    this.throughput.destroy();
    this.latency.destroy();
    this.box.remove();
  }
}

/** Keeps one card per shown series in `container`, in the answer's order, making and dropping cards as the page of series changes. */
export class ChartBoard {
  private readonly cards = new Map<string, SeriesCard>();

  constructor(private readonly container: HTMLElement, private readonly kind: "apparatus" | "volume") {}

  show(answer: IoHistoryAnswer, series: readonly IoSeriesJson[]): void {
    const timesSeconds = answer.times_ms.map((ms) => ms / 1000);
    const wanted = new Set(series.map((entry) => entry.id));
    for (const [id, card] of this.cards) {
      if (wanted.has(id)) continue;
      card.destroy();
      this.cards.delete(id);
    }
    for (const entry of series) {
      let card = this.cards.get(entry.id);
      if (card === undefined) {
        card = new SeriesCard(this.kind, entry.id);
        this.cards.set(entry.id, card);
      }
      this.container.append(card.box);
      card.update(timesSeconds, entry);
    }
    if (series.length === 0) this.container.replaceChildren(element("p", this.kind === "volume" ? "no volume with I/O matches" : "no I/O yet", { class: "empty" }));
    else this.container.querySelector(":scope > p.empty")?.remove();
  }
}

/** A running migration's copy rate, measured between snapshots, and the time left at that rate. */
export class MigrationCharts {
  private readonly points = new Map<string, { timesMs: number[]; copiedBytes: number[] }>();
  private readonly charts = new Map<string, { box: HTMLElement; chart: uPlot }>();

  constructor(private readonly container: HTMLElement) {}

  show(changes: readonly ChangeSnapshot[], nowMs: number): void {
    const running = changes.filter((change) => change.kind === "migrate" && change.state === "running" && change.total_bytes > 0);
    const runningIds = new Set(running.map((change) => change.id));
    for (const [id, entry] of this.charts) {
      if (runningIds.has(id)) continue;
      entry.chart.destroy();
      entry.box.remove();
      this.charts.delete(id);
      this.points.delete(id);
    }
    for (const change of running) this.showOne(change, nowMs);
    if (running.length === 0) this.container.replaceChildren(element("p", "no migration running", { class: "empty" }));
    else this.container.querySelector(":scope > p.empty")?.remove();
  }

  private showOne(change: ChangeSnapshot, nowMs: number): void {
    const points = this.points.get(change.id) ?? { timesMs: [], copiedBytes: [] };
    this.points.set(change.id, points);
    points.timesMs.push(nowMs);
    points.copiedBytes.push(change.copied_bytes);
    if (points.timesMs.length > migrationPointsMax) {
      points.timesMs.shift();
      points.copiedBytes.shift();
    }
    const rates = points.timesMs.map((timeMs, index) => rateAt(points, index, timeMs));
    const rate = rates.at(-1) ?? 0;
    const leftBytes = change.total_bytes - change.copied_bytes;
    const left = rate > 0 ? `about ${Math.ceil(leftBytes / rate)} s left` : "time left not known yet";
    let entry = this.charts.get(change.id);
    if (entry === undefined) {
      const box = element("div", "", { class: "chart-card migration", "data-change-id": change.id });
      box.append(element("div", "", { class: "chart-title" }));
      entry = { box, chart: makeChart("copy rate", [{ label: "bytes/s", colour: "#7c3aed" }], formatRate, box) };
      this.charts.set(change.id, entry);
      this.container.append(box);
    }
    const title = entry.box.querySelector(".chart-title");
    if (title !== null) title.textContent = `${change.id}: ${change.summary}: ${formatRate(rate)}, ${left}`;
    entry.box.dataset.rateBytesPerSecond = String(Math.round(rate));
    entry.chart.setData([points.timesMs.map((ms) => ms / 1000), rates]);
  }
}

/** Bytes per second from the newest point at least rateSpanMs before `index` (or the first) to it. */
function rateAt(points: { timesMs: number[]; copiedBytes: number[] }, index: number, timeMs: number): number {
  let from = index;
  while (from > 0 && timeMs - (points.timesMs[from] ?? timeMs) < rateSpanMs) from -= 1;
  const seconds = (timeMs - (points.timesMs[from] ?? timeMs)) / 1000;
  return seconds > 0 ? ((points.copiedBytes[index] ?? 0) - (points.copiedBytes[from] ?? 0)) / seconds : 0;
}

/**
 * How long each recent change held I/O, as the controller timed it: from the
 * start of its first phase to the end of its last (change-run.ts: hold,
 * apply, commit, release, or abort), with the controller's time between
 * phases, which a sum of the phases would leave out.
 */
export function holdMs(change: ChangeSnapshot): number {
  if (change.phases.length === 0) return 0;
  const startMs = Math.min(...change.phases.map((phase) => phase.started_at_ms));
  const endMs = Math.max(...change.phases.map((phase) => phase.started_at_ms + phase.elapsed_ms));
  return endMs - startMs;
}

/**
 * The strip: one bar per finished change that held I/O, its height by hold
 * duration, red when past the apparatus's hold deadline. A switch within one
 * device held nothing (held "nothing": the device's mirror took both faces'
 * I/O), so it has no bar.
 */
export function renderHoldStrip(container: HTMLElement, changes: readonly ChangeSnapshot[], holdDeadlineMs: number): void {
  const held = changes.filter((change) => change.state !== "running" && change.held !== "nothing" && change.phases.some((phase) => phase.phase === "hold")).slice(-holdStripChangesMax);
  if (held.length === 0) {
    container.replaceChildren(element("p", "no change has held I/O yet", { class: "empty" }));
    return;
  }
  const longestMs = Math.max(1, ...held.map(holdMs));
  container.replaceChildren(
    ...held.map((change) => {
      const ms = holdMs(change);
      const bar = element("div", "", { "data-change-id": change.id, "data-hold-ms": String(ms), title: `${change.id}: held ${ms} ms (${change.summary})` });
      bar.style.height = `${Math.max(4, Math.round((ms / longestMs) * 100))}%`;
      if (holdDeadlineMs > 0 && ms >= holdDeadlineMs) bar.classList.add("over");
      return bar;
    }),
  );
}
