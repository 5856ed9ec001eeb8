/**
 * For tests of other packages (`@switchyard/console/testing`): the built
 * `switchyard` CLI's servers (`device serve`, `apparatus serve`) started as
 * child processes, each resolved once it has printed its endpoints as JSON,
 * and all stopped together; and output captured from a command run in-process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { main } from "./main.js";

/** The built CLI, beside this file in dist/. */
export const cliPath = fileURLToPath(new URL("./cli.js", import.meta.url));
/** Its test build (testing/cli.ts): `up` and `apparatus serve` also take --test-fault, --test-crash-at, --test-stop-at. */
export const testingCliPath = fileURLToPath(new URL("./testing/cli.js", import.meta.url));
/** A process start and its first JSON, on a loaded 2-core machine. */
export const announceTimeoutMs = 20_000;

export class CliServers {
  private readonly children: ChildProcess[] = [];

  constructor(private readonly cli: string = cliPath) {}

  /** Starts `switchyard ARGV --json` and resolves with the JSON object it prints once it serves. */
  serve(argv: readonly string[]): Promise<Record<string, unknown>> {
    const child = spawn(process.execPath, [this.cli, ...argv, "--json"], { stdio: ["ignore", "pipe", "inherit"] });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      let text = "";
      const timer = setTimeout(() => {
        reject(new Error(`${argv.join(" ")}: no endpoints within ${announceTimeoutMs} ms`));
      }, announceTimeoutMs);
      child.stdout.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        try {
          const parsed: unknown = JSON.parse(text);
          clearTimeout(timer);
          resolve(parsed as Record<string, unknown>);
        } catch {
          // Not the whole object yet: wait for more output.
        }
      });
      child.once("close", (code) => {
        clearTimeout(timer);
        reject(new Error(`${argv.join(" ")} exited with ${String(code)}`));
      });
    });
  }

  /** SIGTERM to every server started so far, and waits for each to exit. */
  async stopAll(): Promise<void> {
    for (const child of this.children.splice(0)) {
      child.kill("SIGTERM");
      if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once("exit", resolve));
    }
  }
}

/** A command's two output streams, captured as text, for running a `main` in-process. */
export interface CapturedIo {
  readonly io: { readonly stdout: Writable; readonly stderr: Writable };
  readonly out: () => string;
  readonly err: () => string;
}

export function captureIo(): CapturedIo {
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

/** What one in-process `switchyard ARGV` gave: its exit code and its two streams. */
export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `switchyard ARGV` in this process, as the CLI would, and captures what it printed. */
export async function runCli(argv: readonly string[]): Promise<CliResult> {
  const { io, out, err } = captureIo();
  const code = await main([...argv], io);
  return { code, out: out(), err: err() };
}
