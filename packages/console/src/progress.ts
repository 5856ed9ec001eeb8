/**
 * Progress of a long command (migrate --watch, change watch, volume move,
 * volume resize): on a terminal one line redrawn in place; piped or
 * redirected, plain lines a script or a log can read, and no control
 * characters.
 */
import type { Writable } from "node:stream";
import type { Io } from "./output.js";

/** Redraws of a waiting line: four a second moves visibly without flicker. */
export const progressTickMs = 250;

/** Carriage return, then ANSI "erase in line" (CSI 2 K): the next text replaces the line. */
const redrawLine = "\r\u001b[2K";

/** True when `stream` is a terminal a person watches (process.stdout on a tty). */
export function isTerminal(stream: Writable): boolean {
  return "isTTY" in stream && stream.isTTY === true;
}

/** One line of progress: redrawn in place on a terminal, a new line each update otherwise. */
export class ProgressLine {
  private shown = false;

  constructor(private readonly stream: Writable, private readonly terminal: boolean = isTerminal(stream)) {}

  update(text: string): void {
    this.stream.write(this.terminal ? `${redrawLine}${text}` : `${text}\n`);
    this.shown = true;
  }

  /** Ends the redrawn line, so what follows starts on a line of its own. */
  finish(): void {
    if (this.terminal && this.shown) this.stream.write("\n");
    this.shown = false;
  }

  /** Removes the redrawn line (its final result is printed in full instead). */
  clear(): void {
    if (this.terminal && this.shown) this.stream.write(redrawLine);
    this.shown = false;
  }
}

/**
 * Waits for `work`, showing "label… 1.5 s" redrawn on a terminal while it
 * runs, erased when it ends; piped, it adds nothing (the command prints its
 * result as before).
 */
export async function whileWaiting<T>(io: Io, label: string, work: Promise<T>): Promise<T> {
  if (!isTerminal(io.stdout)) return work;
  const line = new ProgressLine(io.stdout, true);
  const startedMs = Date.now();
  const draw = (): void => {
    line.update(`${label}… ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
  };
  draw();
  const timer = setInterval(draw, progressTickMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    line.clear();
  }
}
