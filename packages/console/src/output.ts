/** What commands print: aligned tables for people, JSON or YAML for scripts (--output). */
import { createRequire } from "node:module";
import type { Writable } from "node:stream";
import { flag, stringOption, UsageError, type Options, type Parsed } from "./usage.js";

export interface Io {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export const outputFormats = ["table", "json", "yaml"] as const;
/** table: the text for people; json and yaml: the same data for scripts. */
export type OutputFormat = (typeof outputFormats)[number];
export type DataFormat = Exclude<OutputFormat, "table">;

/** The options every command that prints data takes: --output FORMAT, -o, and --json, its old name for json. */
export const outputOptions: Options = {
  output: { type: "string", short: "o" },
  json: { type: "boolean" },
};

export const outputOptionsHelp = `  --output FORMAT, -o   table (default), json or yaml
  --json                the same as --output json`;

function isOutputFormat(text: string): text is OutputFormat {
  return (outputFormats as readonly string[]).includes(text);
}

export function outputFormat(parsed: Parsed): OutputFormat {
  const text = stringOption(parsed, "output");
  const json = flag(parsed, "json");
  if (text === undefined) return json ? "json" : "table";
  if (!isOutputFormat(text)) throw new UsageError(`--output must be ${outputFormats.join(", ")}, not ${JSON.stringify(text)}`);
  if (json && text !== "json") throw new UsageError(`--json means --output json; it cannot go with --output ${text}`);
  return text;
}

/** The data format asked for, or undefined for the table people read. */
export function dataFormat(parsed: Parsed): DataFormat | undefined {
  const format = outputFormat(parsed);
  return format === "table" ? undefined : format;
}

/** The yaml package, loaded when YAML is first asked for: most commands never print any, and it costs a tenth of a second to load. */
function yamlStringify(value: unknown): string {
  const yaml = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  return yaml.stringify(value, { lineWidth: 0 });
}

/** One value as a JSON text or a YAML document, ending in a newline. */
export function formatData(format: DataFormat, value: unknown): string {
  // JSON's own conversion first (a Date to its string, undefined fields dropped), so both formats hold the same data.
  const plain: unknown = JSON.parse(JSON.stringify(value));
  return format === "json" ? `${JSON.stringify(plain, null, 2)}\n` : yamlStringify(plain);
}

export function printData(io: Io, format: DataFormat, value: unknown): void {
  io.stdout.write(formatData(format, value));
}

/**
 * One update of a stream of values (change watch): a JSON text on one line,
 * or a YAML document opened by "---", so a reader splits them without
 * knowing where one ends.
 */
export function formatDataUpdate(format: DataFormat, value: unknown): string {
  return format === "json" ? `${JSON.stringify(value)}\n` : `---\n${formatData("yaml", value)}`;
}

/** Prints rows under a header, each column as wide as its widest cell. */
export function printTable(io: Io, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd();
  io.stdout.write(`${line(header)}\n`);
  for (const row of rows) io.stdout.write(`${line(row)}\n`);
}

/** Cells of a progress bar. */
export const progressBarCells = 30;

/** "[#########.....................]  30%": a text bar of `fraction`, clamped to 0..1. */
export function progressBar(fraction: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(clamped * progressBarCells);
  return `[${"#".repeat(filled)}${".".repeat(progressBarCells - filled)}] ${String(Math.floor(clamped * 100)).padStart(3)}%`;
}
