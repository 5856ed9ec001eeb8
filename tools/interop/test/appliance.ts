// Test helper for the interop suite: starts the real `switchyard up` in a
// fresh temporary folder with ephemeral ports, runs `switchyard` commands and
// external NBD clients as child processes (execFile, never a shell), and tears
// everything down. Every wait is bounded, and every failure message carries
// the child's own stderr so a red test says why without a rerun.
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { endOnWorkerExit } from "./worker-exit.js";

/**
 * The CLI under test, found from this file so the suite runs from any cwd.
 * SWITCHYARD_CLI may name another build of it when running vitest by hand
 * (turbo's strict environment mode does not pass it through).
 */
export const cliPath = process.env.SWITCHYARD_CLI ?? fileURLToPath(new URL("../../../packages/console/dist/cli.js", import.meta.url));
/**
 * Its test build (packages/console/src/testing/cli.ts), for the tests that
 * plant a bug or a crash point with its test flags; SWITCHYARD_TESTING_CLI
 * overrides it as SWITCHYARD_CLI does the CLI.
 */
export const testingCliPath = process.env.SWITCHYARD_TESTING_CLI ?? fileURLToPath(new URL("../../../packages/console/dist/testing/cli.js", import.meta.url));

// `switchyard up` creates two sparse LU files and binds a handful of ports;
// 20 s is generous on a loaded 2-core CI machine and still fails fast.
export const applianceStartTimeoutMs = 20_000;
// SIGTERM asks for a clean exit; a process that ignores it for this long is
// treated as hung and SIGKILLed so teardown always finishes.
export const applianceStopTimeoutMs = 10_000;
// endpoints.json is polled, not watched: fs.watch misses renames on some
// filesystems, and 50 ms adds little to a multi-second start.
const endpointsPollIntervalMs = 50;
// `up` prints its endpoints around the time it writes endpoints.json; a
// printout this late after the file is missing.
const stdoutWaitTimeoutMs = 5_000;
// CLI commands talk to a local appliance over loopback gRPC.
export const cliTimeoutMs = 15_000;
// stdout/stderr kept from long-lived children: enough for a stack trace,
// bounded so a chatty child cannot grow the test process without limit.
const childOutputKeptBytesMax = 64 * 1024;
// execFile buffers; qemu-io and fio print little, but fio's JSON can be large.
const toolOutputBytesMax = 16 * 1024 * 1024;

export const kibibyte = 1024;
export const mebibyte = 1024 * kibibyte;
export const gibibyte = 1024 * mebibyte;

// The tests place data on both sides of an extent boundary, so they fix the
// extent size instead of depending on the CLI's default.
export const extentSizeBytes = 4 * mebibyte;

export interface CommandResult {
  readonly command: string;
  /** null when the process was ended by a signal (a timeout included). */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A one-paragraph description of a finished command, for assertion messages. */
export function describeResult(result: CommandResult): string {
  return [
    `$ ${result.command}`,
    `exit code ${String(result.exitCode)}, signal ${String(result.signal)}`,
    `stdout: ${result.stdout.trim() || "(empty)"}`,
    `stderr: ${result.stderr.trim() || "(empty)"}`,
  ].join("\n");
}

/** Asserts a zero exit code, with the whole command and its output on failure. */
export function assertSucceeded(result: CommandResult): void {
  assert.equal(result.exitCode, 0, describeResult(result));
}

/** Asserts how the CLI refuses: exit code `exitCode` and exactly one line on stderr, matching `pattern`. */
export function assertOneLineFailure(result: CommandResult, exitCode: number, pattern: RegExp): void {
  assert.equal(result.exitCode, exitCode, describeResult(result));
  const lines = result.stderr.split("\n").filter((line) => line.trim() !== "");
  assert.equal(lines.length, 1, describeResult(result));
  assert.match(lines[0] ?? "", pattern, describeResult(result));
}

/** What a command that succeeded printed, parsed as JSON. */
export function jsonOfSuccess(result: CommandResult): unknown {
  assertSucceeded(result);
  return JSON.parse(result.stdout) as unknown;
}

/**
 * Runs a program without a shell and resolves with its exit status and output
 * whatever the status is; callers assert on it. A program missing from PATH
 * rejects: a missing tool fails the test, it is never a skip.
 */
export function runTool(
  file: string,
  args: readonly string[],
  options: { timeoutMs: number; cwd?: string },
): Promise<CommandResult> {
  const command = [file, ...args].map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word}'`)).join(" ");
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs,
        killSignal: "SIGKILL",
        maxBuffer: toolOutputBytesMax,
        encoding: "utf8",
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ command, exitCode: 0, signal: null, stdout, stderr });
          return;
        }
        if (error.code === "ENOENT") {
          reject(new Error(`required tool '${file}' is not on PATH; run scripts/setup.sh`, { cause: error }));
          return;
        }
        if (typeof error.code === "string") {
          // maxBuffer exceeded, EACCES and the like: the run itself broke.
          reject(new Error(`${command}: ${error.message}`, { cause: error }));
          return;
        }
        const exitCode = typeof error.code === "number" ? error.code : null;
        const signal = error.signal ?? null;
        const note = error.killed ? `\n(killed after the ${options.timeoutMs} ms timeout)` : "";
        resolve({ command, exitCode, signal, stdout, stderr: stderr + note });
      },
    );
  });
}

/** Fails (rejects) unless every named program is on PATH. */
export async function requireTools(names: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const name of names) {
    const result = await runTool("sh", ["-c", 'command -v "$1"', "sh", name], { timeoutMs: 5_000 });
    if (result.exitCode !== 0) missing.push(name);
  }
  assert.deepEqual(missing, [], `required tools missing from PATH: ${missing.join(", ")}; run scripts/setup.sh`);
}

/** Runs `switchyard ARGS` with the same Node that runs the tests. */
export function runCli(args: readonly string[], timeoutMs: number = cliTimeoutMs): Promise<CommandResult> {
  return runTool(process.execPath, [cliPath, ...args], { timeoutMs });
}

export interface ApparatusEndpoint {
  readonly id: string;
  readonly nbd: string;
  readonly grpc: string;
}

/** DIR/endpoints.json as `switchyard up` writes it. */
export interface Endpoints {
  readonly pid: number;
  readonly device: { readonly id: string; readonly grpc: string; readonly nbd: string };
  readonly controller: { readonly grpc: string };
  readonly apparatuses: readonly ApparatusEndpoint[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const loopbackAddressPattern = /^127\.0\.0\.1:[1-9][0-9]{0,4}$/;

function readAddress(record: Record<string, unknown>, key: string, where: string): string {
  const value = record[key];
  assert.ok(typeof value === "string" && loopbackAddressPattern.test(value), `${where}.${key} is not a 127.0.0.1:port address: ${JSON.stringify(value)}`);
  return value;
}

function readString(record: Record<string, unknown>, key: string, where: string): string {
  const value = record[key];
  assert.ok(typeof value === "string" && value.length > 0, `${where}.${key} is not a non-empty string: ${JSON.stringify(value)}`);
  return value;
}

/** Checks the shape the contract gives for endpoints.json and types it. */
export function parseEndpoints(text: string): Endpoints {
  const value: unknown = JSON.parse(text);
  assert.ok(isRecord(value), "endpoints.json is not an object");
  const { pid, device, controller, apparatuses } = value;
  assert.ok(typeof pid === "number" && Number.isInteger(pid) && pid > 0, `endpoints.json pid is not a positive integer: ${JSON.stringify(pid)}`);
  assert.ok(isRecord(device), "endpoints.json device is not an object");
  assert.ok(isRecord(controller), "endpoints.json controller is not an object");
  assert.ok(Array.isArray(apparatuses), "endpoints.json apparatuses is not an array");
  return {
    pid,
    device: {
      id: readString(device, "id", "device"),
      grpc: readAddress(device, "grpc", "device"),
      nbd: readAddress(device, "nbd", "device"),
    },
    controller: { grpc: readAddress(controller, "grpc", "controller") },
    apparatuses: apparatuses.map((entry: unknown, index) => {
      const where = `apparatuses[${index}]`;
      assert.ok(isRecord(entry), `${where} is not an object`);
      return { id: readString(entry, "id", where), nbd: readAddress(entry, "nbd", where), grpc: readAddress(entry, "grpc", where) };
    }),
  };
}

function sleep(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}

function isErrnoException(value: unknown): value is NodeJS.ErrnoException {
  return value instanceof Error && "code" in value;
}

/** True while any process of the group led by `pid` is alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    if (isErrnoException(error) && error.code === "ESRCH") return false;
    throw error;
  }
}

// Appliances still running when the worker exits or is ended (a hook that
// timed out, say): their process groups are SIGKILLed so no test leaves
// servers behind.
const liveGroupLeaders = new Set<number>();
endOnWorkerExit(() => {
  for (const pid of liveGroupLeaders) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch (error) {
      if (!(isErrnoException(error) && error.code === "ESRCH")) throw error;
    }
  }
});

class OutputTail {
  private text = "";
  append(chunk: Buffer): void {
    this.text = (this.text + chunk.toString("utf8")).slice(-childOutputKeptBytesMax);
  }
  toString(): string {
    return this.text;
  }
}

export interface ApplianceOptions {
  /** Reuse a data folder (a restart); by default a fresh temporary one. */
  readonly dir?: string;
  readonly apparatusCount?: number;
  /** Extra `switchyard up` arguments, e.g. ["--lu-size", "256MiB"]. */
  readonly extraArgs?: readonly string[];
  /** The port options; by default every port is a free one (freePortArgs). */
  readonly portArgs?: readonly string[];
  /** Flags of the test build (["--test-fault", "hold-nothing"]): given any, the test build runs. */
  readonly testFlags?: readonly string[];
  /**
   * Plain gRPC (`up --insecure`) for a test whose own gRPC clients carry no
   * certificate; by default the appliance runs as `up` does, with mutual TLS,
   * and `cli` finds the operator certificate through --dir.
   */
  readonly plain?: boolean;
}

/** Every port of `switchyard up` a free one, so tests never collide with each other or with 8080. */
export const freePortArgs: readonly string[] = ["--nbd-port", "0", "--grpc-port", "0", "--device-nbd-port", "0"];

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * One `switchyard up` process. It is started in its own process group so that
 * stop() and kill() also reach any helper processes it forked, and only those.
 */
export class Appliance {
  private constructor(
    readonly dir: string,
    readonly ownsDir: boolean,
    private readonly child: ChildProcess & { pid: number },
    private readonly exited: Promise<ExitStatus>,
    private readonly stdoutTail: OutputTail,
    private readonly stderrTail: OutputTail,
    readonly endpoints: Endpoints,
  ) {}

  static async start(options: ApplianceOptions = {}): Promise<Appliance> {
    const ownsDir = options.dir === undefined;
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "switchyard-interop-")));
    try {
      return await Appliance.startIn(dir, ownsDir, options);
    } catch (error) {
      // Nothing will dispose() an appliance that never started.
      if (ownsDir) await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  private static async startIn(dir: string, ownsDir: boolean, options: ApplianceOptions): Promise<Appliance> {
    const endpointsPath = join(dir, "endpoints.json");
    // A file left by a killed run names dead ports; never read it as ours.
    await rm(endpointsPath, { force: true });
    const testFlags = options.testFlags ?? [];
    const args = [
      testFlags.length === 0 ? cliPath : testingCliPath, "up", "--dir", dir,
      "--apparatuses", String(options.apparatusCount ?? 2),
      ...(options.portArgs ?? freePortArgs),
      "--extent-size", `${extentSizeBytes / mebibyte}MiB`,
      ...(options.extraArgs ?? []),
      ...(options.plain === true ? ["--insecure"] : []),
      ...testFlags,
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    const stdoutTail = new OutputTail();
    const stderrTail = new OutputTail();
    child.stdout.on("data", (chunk: Buffer) => { stdoutTail.append(chunk); });
    child.stderr.on("data", (chunk: Buffer) => { stderrTail.append(chunk); });
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once("exit", (code, signal) => { resolve({ code, signal }); });
    });
    const spawnError = await new Promise<Error | null>((resolve) => {
      child.once("spawn", () => { resolve(null); });
      child.once("error", resolve);
    });
    if (spawnError !== null || child.pid === undefined) {
      throw new Error(`could not start ${process.execPath} ${cliPath}`, { cause: spawnError });
    }
    const pid = child.pid;
    liveGroupLeaders.add(pid);
    const describe = (why: string): string =>
      `switchyard up (pid ${pid}, dir ${dir}): ${why}\nstderr:\n${stderrTail.toString() || "(empty)"}\nstdout:\n${stdoutTail.toString() || "(empty)"}`;

    const deadlineMs = Date.now() + applianceStartTimeoutMs;
    let endpoints: Endpoints | null = null;
    let lastProblem = "endpoints.json not written yet";
    while (endpoints === null) {
      if (hasExited(child)) {
        await killGroup(pid, child);
        liveGroupLeaders.delete(pid);
        throw new Error(describe(`exited before it was ready (code ${String(child.exitCode)}, signal ${String(child.signalCode)})`));
      }
      if (Date.now() > deadlineMs) {
        await killGroup(pid, child);
        liveGroupLeaders.delete(pid);
        throw new Error(describe(`not ready within ${applianceStartTimeoutMs} ms: ${lastProblem}`));
      }
      try {
        const parsed = parseEndpoints(await readFile(endpointsPath, "utf8"));
        if (parsed.pid === pid) endpoints = parsed;
        else lastProblem = `endpoints.json names pid ${parsed.pid}, not ${pid}`;
      } catch (error) {
        if (!(isErrnoException(error) && error.code === "ENOENT")) lastProblem = String(error);
        await sleep(endpointsPollIntervalMs);
      }
    }
    return new Appliance(dir, ownsDir, Object.assign(child, { pid }), exited, stdoutTail, stderrTail, endpoints);
  }

  get pid(): number {
    return this.child.pid;
  }

  get stderr(): string {
    return this.stderrTail.toString();
  }

  get stdout(): string {
    return this.stdoutTail.toString();
  }

  /**
   * Waits until stdout contains `text` or the time is up; the contract does
   * not order the printout and the endpoints.json write. Resolves either way:
   * the caller asserts on `stdout`.
   */
  async waitForStdout(text: string, timeoutMs: number = stdoutWaitTimeoutMs): Promise<void> {
    const deadlineMs = Date.now() + timeoutMs;
    while (!this.stdout.includes(text) && Date.now() < deadlineMs) await sleep(endpointsPollIntervalMs);
  }

  get endpointsPath(): string {
    return join(this.dir, "endpoints.json");
  }

  /** nbd://127.0.0.1:PORT/VOLUME on the given apparatus. */
  nbdUri(volume: string, apparatusIndex = 0): string {
    const apparatus = this.endpoints.apparatuses[apparatusIndex];
    assert.ok(apparatus !== undefined, `no apparatus ${apparatusIndex}; endpoints list ${this.endpoints.apparatuses.length}`);
    return `nbd://${apparatus.nbd}/${volume}`;
  }

  /** Runs `switchyard ARGS --dir DIR`. */
  cli(args: readonly string[], timeoutMs: number = cliTimeoutMs): Promise<CommandResult> {
    return runCli([...args, "--dir", this.dir], timeoutMs);
  }

  /**
   * Asks for a clean exit with `signal`, waits, then SIGKILLs whatever of the
   * group is left. Resolves with how the leader exited.
   */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<ExitStatus> {
    if (!hasExited(this.child)) {
      this.child.kill(signal);
      const timedOut = await Promise.race([this.exited.then(() => false), sleep(applianceStopTimeoutMs).then(() => true)]);
      if (timedOut) await killGroup(this.pid, this.child);
    }
    const status = await this.exited;
    if (groupAlive(this.pid)) await killGroup(this.pid, this.child);
    liveGroupLeaders.delete(this.pid);
    return status;
  }

  /** A crash: SIGKILL to the whole group, no chance to clean up. */
  async kill(): Promise<ExitStatus> {
    await killGroup(this.pid, this.child);
    liveGroupLeaders.delete(this.pid);
    return this.exited;
  }

  /** stop(), then remove the data folder if this appliance created it. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function killGroup(pid: number, child: ChildProcess): Promise<void> {
  if (groupAlive(pid)) process.kill(-pid, "SIGKILL");
  const deadlineMs = Date.now() + applianceStopTimeoutMs;
  while (!hasExited(child) || groupAlive(pid)) {
    assert.ok(Date.now() < deadlineMs, `process group ${pid} still alive ${applianceStopTimeoutMs} ms after SIGKILL`);
    await sleep(endpointsPollIntervalMs);
  }
}

/** A fresh temporary folder for test files; the caller removes it. */
export function makeScratchDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "switchyard-interop-scratch-"));
}

export interface VolumeExtent {
  readonly index: number;
  readonly lu: string;
  readonly area: number;
}

export interface VolumeListing {
  readonly name: string;
  readonly size_bytes: number;
  readonly extents: readonly VolumeExtent[];
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/** Checks one entry of `volume list --json` (also the `volume create --json` output). */
export function parseVolume(value: unknown, where: string): VolumeListing {
  assert.ok(isRecord(value), `${where} is not an object: ${JSON.stringify(value)}`);
  const { name, size_bytes: sizeBytes, extents } = value;
  assert.ok(typeof name === "string", `${where}.name is not a string`);
  assert.ok(isNonNegativeInteger(sizeBytes), `${where}.size_bytes is not a non-negative integer: ${JSON.stringify(sizeBytes)}`);
  assert.ok(Array.isArray(extents), `${where}.extents is not an array`);
  return {
    name,
    size_bytes: sizeBytes,
    extents: extents.map((extent: unknown, position) => {
      const at = `${where}.extents[${position}]`;
      assert.ok(isRecord(extent), `${at} is not an object`);
      const { index, lu, area } = extent;
      assert.ok(isNonNegativeInteger(index), `${at}.index is not a non-negative integer: ${JSON.stringify(index)}`);
      assert.ok(typeof lu === "string", `${at}.lu is not a string: ${JSON.stringify(lu)}`);
      assert.ok(isNonNegativeInteger(area), `${at}.area is not a non-negative integer: ${JSON.stringify(area)}`);
      return { index, lu, area };
    }),
  };
}

/** `switchyard volume list --json`, checked and typed. */
export async function listVolumes(appliance: Appliance): Promise<VolumeListing[]> {
  const result = await appliance.cli(["volume", "list", "--json"]);
  assertSucceeded(result);
  const value: unknown = JSON.parse(result.stdout);
  assert.ok(Array.isArray(value), `volume list --json is not an array: ${result.stdout}`);
  return value.map((entry: unknown, index) => parseVolume(entry, `volumes[${index}]`));
}

/** `switchyard volume create NAME --size SIZE`, asserting success. */
export async function createVolume(appliance: Appliance, name: string, size: string, extraArgs: readonly string[] = []): Promise<void> {
  assertSucceeded(await appliance.cli(["volume", "create", name, "--size", size, ...extraArgs]));
}

export { isRecord };

// One qemu-io or nbdinfo call on loopback takes well under a second; the
// margin covers a loaded CI machine.
export const qemuIoTimeoutMs = 30_000;

/**
 * `qemu-io -f raw -c C1 -c C2 ... URI`. qemu-io exits 1 when a command fails,
 * a `read -P` pattern mismatch included; the caller asserts the exit code.
 */
export function qemuIo(uri: string, commands: readonly string[]): Promise<CommandResult> {
  return runTool("qemu-io", ["-f", "raw", ...commands.flatMap((command) => ["-c", command]), uri], { timeoutMs: qemuIoTimeoutMs });
}

/** Asserts success and that qemu-io printed no verification failure. */
export function assertQemuIoClean(result: CommandResult): void {
  assertSucceeded(result);
  assert.doesNotMatch(result.stdout + result.stderr, /verification failed|error|failed/i, describeResult(result));
}

/** Random data is written in pieces this big. */
const randomChunkBytes = 1024 * 1024;

/** Writes `sizeBytes` of random data to `path`; its SHA-256, hex. */
export async function writeRandomFile(path: string, sizeBytes: number): Promise<string> {
  assert.equal(sizeBytes % randomChunkBytes, 0, "random files are whole mebibytes");
  const hash = createHash("sha256");
  const file = await open(path, "w");
  try {
    for (let offsetBytes = 0; offsetBytes < sizeBytes; offsetBytes += randomChunkBytes) {
      const chunk = randomBytes(randomChunkBytes);
      hash.update(chunk);
      await file.write(chunk, 0, chunk.length, offsetBytes);
    }
  } finally {
    await file.close();
  }
  return hash.digest("hex");
}

export async function sha256OfFile(path: string): Promise<string> {
  return createHash("sha256").update(await readFile(path)).digest("hex");
}
