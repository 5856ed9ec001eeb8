/** What commands print: aligned tables for people, JSON for scripts. */
import type { Writable } from "node:stream";

export interface Io {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
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
