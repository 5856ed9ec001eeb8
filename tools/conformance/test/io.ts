/** Captured output for running main() in-process. */
import { Writable } from "node:stream";
import type { Io } from "../src/main.js";

export interface Captured {
  readonly io: Io;
  out(): string;
  err(): string;
}

export function capture(): Captured {
  let out = "";
  let err = "";
  const sink = (append: (text: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  return { io: { stdout: sink((text) => (out += text)), stderr: sink((text) => (err += text)) }, out: () => out, err: () => err };
}

/** The ids of the cases a TAP run reported as failed. */
export function failedIds(tap: string): string[] {
  return Array.from(tap.matchAll(/^not ok \d+ - ([a-z0-9-]+):/gm), (match) => match[1] ?? "");
}
