// Child processes for the benchmark: running a tool to completion with a
// timeout, and starting and stopping long-lived servers. Every server is
// stopped through the handle that started it, and only that one.
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import { createServer } from "node:net";

// A server that ignores SIGTERM this long is hung; it gets SIGKILL.
export const serverStopTimeoutMs = 10_000;
// Polling interval for readiness checks: short against a multi-second run.
export const pollIntervalMs = 100;
// Output kept from a long-lived server for error messages.
const serverOutputKeptBytesMax = 16 * 1024;
// fio's JSON goes to a file; what a tool prints on stdout stays small.
const toolOutputBytesMax = 8 * 1024 * 1024;

export interface ToolResult {
  readonly command: string;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function describeTool(result: ToolResult): string {
  return `$ ${result.command}\nexit code ${String(result.exitCode)}\n${(result.stderr || result.stdout).trim()}`;
}

/** Runs a program (no shell) and resolves with its status; a missing program rejects. */
export function runTool(file: string, args: readonly string[], timeoutMs: number, cwd?: string): Promise<ToolResult> {
  const command = [file, ...args].join(" ");
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: toolOutputBytesMax, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ command, exitCode: 0, stdout, stderr });
        return;
      }
      if (error.code === "ENOENT") {
        reject(new Error(`required tool '${file}' is not on PATH; run scripts/setup.sh`, { cause: error }));
        return;
      }
      if (typeof error.code === "string") {
        reject(new Error(`${command}: ${error.message}`, { cause: error }));
        return;
      }
      const note = error.killed ? `\n(killed after the ${timeoutMs} ms timeout)` : "";
      resolve({ command, exitCode: typeof error.code === "number" ? error.code : null, stdout, stderr: stderr + note });
    });
  });
}

/** Runs a program and returns its stdout, throwing with its output unless it exits 0. */
export async function runToolChecked(file: string, args: readonly string[], timeoutMs: number, cwd?: string): Promise<string> {
  const result = await runTool(file, args, timeoutMs, cwd);
  if (result.exitCode !== 0) throw new Error(describeTool(result));
  return result.stdout;
}

export function sleep(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}

/**
 * A loopback port that was free a moment ago. nbdkit and qemu-nbd cannot
 * report an ephemeral port they chose, so one is picked here; the race with
 * another process taking it shows up as a server that fails to start.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      assert.ok(address !== null && typeof address === "object");
      server.close(() => { resolve(address.port); });
    });
  });
}

function isErrnoException(value: unknown): value is NodeJS.ErrnoException {
  return value instanceof Error && "code" in value;
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    if (isErrnoException(error) && error.code === "ESRCH") return false;
    throw error;
  }
}

// Servers still running if the benchmark dies: SIGKILLed on the way out.
const running = new Set<ServerProcess>();
process.on("exit", () => {
  for (const server of running) server.killNow();
});

/** A long-lived child: its output tail, its exit, and a bounded stop. */
export class ServerProcess {
  private outputTail = "";
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess & { pid: number },
    /** Started as a process group leader: stop() also ends what it forked. */
    private readonly ownGroup: boolean,
  ) {
    const keep = (chunk: Buffer): void => {
      this.outputTail = (this.outputTail + chunk.toString("utf8")).slice(-serverOutputKeptBytesMax);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => {
      child.once("exit", () => { resolve(); });
    });
    if (this.hasExited) this.exited = Promise.resolve();
    running.add(this);
  }

  /** `logPath`: every line the server prints is appended there, stamped with the wall-clock time it arrived (where a run's time went). */
  static async start(name: string, file: string, args: readonly string[], options: { ownGroup: boolean; logPath?: string }): Promise<ServerProcess> {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], detached: options.ownGroup });
    const spawnError = await new Promise<Error | null>((resolve) => {
      child.once("spawn", () => { resolve(null); });
      child.once("error", resolve);
    });
    if (spawnError !== null || child.pid === undefined) {
      throw new Error(`${name}: could not start ${file}: ${String(spawnError)}`, { cause: spawnError });
    }
    if (options.logPath !== undefined) stampLines(child, options.logPath);
    return new ServerProcess(name, Object.assign(child, { pid: child.pid }), options.ownGroup);
  }

  get pid(): number {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  get output(): string {
    return this.outputTail;
  }

  describeExit(): string {
    return `${this.name} (pid ${this.pid}) exited with code ${String(this.child.exitCode)}, signal ${String(this.child.signalCode)}\n${this.outputTail.trim()}`;
  }

  /** SIGTERM, a bounded wait, then SIGKILL. */
  async stop(): Promise<void> {
    if (!this.hasExited) {
      this.child.kill("SIGTERM");
      const timedOut = await Promise.race([this.exited.then(() => false), sleep(serverStopTimeoutMs).then(() => true)]);
      if (timedOut) this.killNow();
      await this.exited;
    }
    if (this.ownGroup && groupAlive(this.pid)) {
      process.kill(-this.pid, "SIGKILL");
      const deadlineMs = Date.now() + serverStopTimeoutMs;
      while (groupAlive(this.pid)) {
        if (Date.now() > deadlineMs) throw new Error(`${this.name}: process group ${this.pid} survived SIGKILL`);
        await sleep(pollIntervalMs);
      }
    }
    running.delete(this);
  }

  /** SIGKILL now, without waiting; for the exit handler and timeouts. */
  killNow(): void {
    try {
      if (this.ownGroup) process.kill(-this.pid, "SIGKILL");
      else if (!this.hasExited) this.child.kill("SIGKILL");
    } catch (error) {
      if (!(isErrnoException(error) && error.code === "ESRCH")) throw error;
    }
  }
}

/** Appends the child's output to `logPath`, each line after the ISO time it arrived and its pid. */
function stampLines(child: ChildProcess, logPath: string): void {
  const stamp = (chunk: Buffer): void => {
    const prefix = `${new Date().toISOString()} [${String(child.pid)}] `;
    const lines = chunk.toString("utf8").split("\n").filter((line) => line.length > 0);
    // Synchronous: a benchmark's logs are small, and a SIGKILLed server's last lines must not be lost on the way.
    appendFileSync(logPath, lines.map((line) => `${prefix}${line}\n`).join(""));
  };
  child.stdout?.on("data", stamp);
  child.stderr?.on("data", stamp);
}

/**
 * Waits until an NBD server completes a handshake for `uri` (nbdinfo --size
 * succeeds), failing early if the server exits.
 */
export async function waitForNbd(server: ServerProcess, uri: string, timeoutMs: number): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    if (server.hasExited) throw new Error(server.describeExit());
    const result = await runTool("nbdinfo", ["--size", uri], timeoutMs);
    if (result.exitCode === 0) return;
    if (Date.now() > deadlineMs) {
      throw new Error(`${server.name}: ${uri} not serving within ${timeoutMs} ms: ${result.stderr.trim()}\n${server.output.trim()}`);
    }
    await sleep(pollIntervalMs);
  }
}

/**
 * The benchmark's own arguments: `pnpm run SCRIPT -- --flag` hands the
 * script a literal "--" first, which would end the options before they begin.
 */
export function benchArguments(): string[] {
  const args = process.argv.slice(2);
  return args[0] === "--" ? args.slice(1) : args;
}
