// A Switchyard cluster of separate processes on loopback for the change
// benchmarks: one `switchyard device serve` and N `switchyard apparatus
// serve` (every one a controller candidate; the first started wins the lease),
// each started and stopped through its own ServerProcess handle; or, for the
// pause benchmark, the embedded appliance (`switchyard up`, one process).
// Changes are submitted over the controller's gRPC service (no CLI start-up
// per change).
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConsoleClient } from "@switchyard/console";
import { ServerProcess, pollIntervalMs, sleep } from "./processes.js";

/** Start-up of one process: it creates sparse LU files and the store, or enrolls with the device. */
const processStartTimeoutMs = 30_000;
/** Until the controller has taken every apparatus into the control range: it probes every 2 s. */
const clusterReadyTimeoutMs = 60_000;

/**
 * Node flags for every server process, from SWITCHYARD_BENCH_NODE_FLAGS
 * (space-separated), for profiling a benchmark's servers: Node refuses
 * --cpu-prof in NODE_OPTIONS. For example
 * SWITCHYARD_BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
 */
function serverNodeFlags(): string[] {
  const flags = process.env.SWITCHYARD_BENCH_NODE_FLAGS ?? "";
  return flags.split(" ").filter((flag) => flag !== "");
}

/** This checkout's CLI, or another build's (SWITCHYARD_BENCH_CLI=/path/to/cli.js) to compare before and after a change. */
export const cliPath = process.env.SWITCHYARD_BENCH_CLI ?? fileURLToPath(new URL("../../../packages/console/dist/cli.js", import.meta.url));

export interface ClusterOptions {
  readonly dir: string;
  readonly apparatusCount: number;
  readonly luSize: string;
  readonly extentSize: string;
  /** Coordinate on this etcd (client URLs, comma-separated): the apparatuses find the device there. Embedded if absent. */
  readonly etcdUrls?: string;
  /** The embedded appliance with its default certificates (mutual TLS on every gRPC call; hosts' NBD stays plain on loopback). */
  readonly tls?: boolean;
}

export interface ApparatusProcess {
  readonly id: string;
  readonly nbd: string;
  readonly grpc: string;
  readonly process: ServerProcess;
}

/** The first JSON object a `--json` server prints once it serves. */
export async function announcement(server: ServerProcess): Promise<Record<string, unknown>> {
  const deadlineMs = Date.now() + processStartTimeoutMs;
  for (;;) {
    if (server.hasExited) throw new Error(server.describeExit());
    const start = server.output.indexOf("{");
    const end = server.output.indexOf("\n}");
    if (start >= 0 && end > start) return JSON.parse(server.output.slice(start, end + 2)) as Record<string, unknown>;
    if (Date.now() > deadlineMs) throw new Error(`${server.name} did not announce itself: ${server.output}`);
    await sleep(pollIntervalMs);
  }
}

export function field(object: unknown, key: string): string {
  assert.ok(typeof object === "object" && object !== null && key in object, `no ${key} in ${JSON.stringify(object)}`);
  const value: unknown = (object as Record<string, unknown>)[key];
  assert.ok(typeof value === "string", `${key} is not a string`);
  return value;
}

export class Cluster {
  private constructor(
    readonly device: ServerProcess,
    readonly apparatuses: readonly ApparatusProcess[],
    readonly console: ConsoleClient,
    /** The operator's certificate folder, for an appliance with TLS. */
    readonly operatorFolder?: string,
  ) {}

  /**
   * The embedded appliance, as `switchyard up` runs it: the device, N
   * apparatuses and the controller in one process. `device` and every
   * apparatus's `process` are that one process.
   */
  static async startEmbedded(options: ClusterOptions): Promise<Cluster> {
    const appliance = await ServerProcess.start("appliance", process.execPath, [
      ...serverNodeFlags(), cliPath, "up", "--dir", join(options.dir, "appliance"), "--apparatuses", String(options.apparatusCount),
      "--grpc-port", "0", "--nbd-port", "0", "--device-nbd-port", "0", "--lu-size", options.luSize, "--extent-size", options.extentSize, "--json",
      // Plain control unless asked, as the separate processes of startProcesses.
      ...(options.tls === true ? [] : ["--insecure"]),
    ], { ownGroup: false });
    try {
      const endpoints = await announcement(appliance);
      const announced = endpoints.apparatuses;
      assert.ok(Array.isArray(announced), "switchyard up --json names no apparatuses");
      const apparatuses = announced.map((entry: unknown) => ({ id: field(entry, "id"), nbd: field(entry, "nbd"), grpc: field(entry, "grpc"), process: appliance }));
      const via = apparatuses[0]?.grpc ?? "";
      const operatorFolder = options.tls === true ? field(endpoints.tls, "client_dir") : undefined;
      const client = operatorFolder === undefined ? ConsoleClient.plain(via) : ConsoleClient.withCertificate(via, operatorFolder);
      const cluster = new Cluster(appliance, apparatuses, client, operatorFolder);
      await cluster.waitUntilServing();
      return cluster;
    } catch (error) {
      await appliance.stop();
      throw error;
    }
  }

  /** Each server process by name ("device", "a0", ...; "appliance" when embedded), for CPU accounting. */
  serverPids(): Map<string, number> {
    if (this.apparatuses.every((apparatus) => apparatus.process === this.device)) return new Map([["appliance", this.device.pid]]);
    return new Map([["device", this.device.pid], ...this.apparatuses.map((apparatus) => [apparatus.id, apparatus.process.pid] as const)]);
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const started: ServerProcess[] = [];
    try {
      const etcdArgs = options.etcdUrls === undefined ? [] : ["--etcd", options.etcdUrls];
      const device = await ServerProcess.start("device", process.execPath, [
        ...serverNodeFlags(), cliPath, "device", "serve", "--dir", join(options.dir, "device"), "--grpc-port", "0", "--nbd-port", "0",
        "--lu-size", options.luSize, "--extent-size", options.extentSize, ...etcdArgs, "--json",
      ], { ownGroup: false });
      started.push(device);
      const deviceGrpc = field((await announcement(device)).device, "grpc");
      // On etcd an apparatus finds the device where it published itself, as an operator's would.
      const where = options.etcdUrls === undefined ? ["--device", deviceGrpc] : etcdArgs;
      const apparatuses: ApparatusProcess[] = [];
      for (let index = 0; index < options.apparatusCount; index += 1) {
        const id = `a${index}`;
        const server = await ServerProcess.start(id, process.execPath, [
          ...serverNodeFlags(), cliPath, "apparatus", "serve", "--id", id, ...where, "--nbd-port", "0", "--grpc-port", "0",
          "--json",
        ], { ownGroup: false });
        started.push(server);
        const announced = await announcement(server);
        apparatuses.push({ id, nbd: field(announced, "nbd"), grpc: field(announced, "grpc"), process: server });
      }
      const cluster = new Cluster(device, apparatuses, ConsoleClient.plain(apparatuses[0]?.grpc ?? ""));
      await cluster.waitUntilServing();
      return cluster;
    } catch (error) {
      await Promise.allSettled(started.map((server) => server.stop()));
      throw error;
    }
  }

  private async waitUntilServing(): Promise<void> {
    const deadlineMs = Date.now() + clusterReadyTimeoutMs;
    for (;;) {
      const status = await this.console.clusterStatus().catch(() => undefined);
      const serving = status?.apparatuses.filter((apparatus) => apparatus.state === "APPARATUS_STATUS_SERVING").length ?? 0;
      if (serving === this.apparatuses.length) return;
      if (Date.now() > deadlineMs) throw new Error(`${serving} of ${this.apparatuses.length} apparatuses serving after ${clusterReadyTimeoutMs} ms`);
      await sleep(pollIntervalMs * 5);
    }
  }

  /**
   * Waits until every apparatus serves the controller's generation: a
   * whole table (after a volume create) takes a while to load, and a change
   * sent before would find an apparatus behind and abort.
   */
  async waitUntilCurrent(): Promise<void> {
    const deadlineMs = Date.now() + clusterReadyTimeoutMs;
    for (;;) {
      const status = await this.console.clusterStatus();
      const behind = status.apparatuses.filter((apparatus) => apparatus.state !== "APPARATUS_STATUS_SERVING" || apparatus.generation !== status.generation);
      if (behind.length === 0) return;
      if (Date.now() > deadlineMs) throw new Error(`not at generation ${status.generation}: ${behind.map((apparatus) => `${apparatus.id} ${apparatus.state} ${apparatus.generation}`).join(", ")}`);
      await sleep(pollIntervalMs);
    }
  }

  async stop(): Promise<void> {
    this.console.close();
    const processes = new Set([...this.apparatuses.map((apparatus) => apparatus.process), this.device]);
    await Promise.allSettled([...processes].map((server) => server.stop()));
  }
}

/** Hold sent to Release acknowledged: from the change's first phase's start to its last one's end, the time between phases included. */
export function holdToReleaseMs(change: { readonly state: string; readonly phases: readonly { readonly phase: string; readonly started_at_ms: number; readonly elapsed_ms: number }[] }): number {
  if (change.state !== "CHANGE_STATE_COMMITTED") throw new Error(`the change did not commit: ${JSON.stringify(change)}`);
  if (change.phases.length === 0) return 0;
  const startMs = Math.min(...change.phases.map((phase) => phase.started_at_ms));
  return Math.max(...change.phases.map((phase) => phase.started_at_ms + phase.elapsed_ms)) - startMs;
}

export function percentile(values: readonly number[], fraction: number): number {
  assert.ok(values.length > 0 && fraction >= 0 && fraction <= 1);
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
}
