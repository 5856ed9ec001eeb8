// Goal: progress is redrawn in place on a terminal and written as plain
// lines, without control characters, when piped; a wait shows a ticking
// line on a terminal only, erased when the work ends.
// Method: a Writable that records what is written, with and without isTTY.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Io } from "./output.js";
import { isTerminal, progressTickMs, ProgressLine, whileWaiting } from "./progress.js";

class Recorder extends Writable {
  readonly chunks: string[] = [];
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.chunks.push(chunk.toString("utf8"));
    done();
  }
  get text(): string {
    return this.chunks.join("");
  }
}

const ioOf = (stdout: Recorder): Io => ({ stdout, stderr: new Recorder(false) });

describe("ProgressLine", () => {
  it("on a terminal redraws one line and ends it once", () => {
    const terminal = new Recorder(true);
    expect(isTerminal(terminal)).toBe(true);
    const line = new ProgressLine(terminal);
    line.update("10%");
    line.update("20%");
    line.finish();
    expect(terminal.text).toBe("\r\u001b[2K10%\r\u001b[2K20%\n");
  });

  it("piped writes each update as a plain line", () => {
    const pipe = new Recorder(false);
    expect(isTerminal(pipe)).toBe(false);
    const line = new ProgressLine(pipe);
    line.update("10%");
    line.update("20%");
    line.finish();
    expect(pipe.text).toBe("10%\n20%\n");
    expect(pipe.text.includes("\r") || pipe.text.includes("\u001b")).toBe(false);
  });
});

describe("whileWaiting", () => {
  const work = (): Promise<string> => new Promise((resolve) => setTimeout(() => { resolve("done"); }, 3 * progressTickMs));

  it("on a terminal ticks the elapsed time and erases the line at the end", async () => {
    const terminal = new Recorder(true);
    expect(await whileWaiting(ioOf(terminal), "resizing vm1", work())).toBe("done");
    const redraws = terminal.chunks.filter((chunk) => chunk.startsWith("\r\u001b[2Kresizing vm1… "));
    expect(redraws.length).toBeGreaterThanOrEqual(3);
    expect(terminal.chunks.at(-1)).toBe("\r\u001b[2K");
  });

  it("piped adds nothing", async () => {
    const pipe = new Recorder(false);
    expect(await whileWaiting(ioOf(pipe), "resizing vm1", work())).toBe("done");
    expect(pipe.text).toBe("");
  });

  it("erases its line when the work fails too", async () => {
    const terminal = new Recorder(true);
    await expect(whileWaiting(ioOf(terminal), "moving", Promise.reject(new Error("refused")))).rejects.toThrow("refused");
    expect(terminal.chunks.at(-1)).toBe("\r\u001b[2K");
  });
});
