// The parts of the appliance as separate processes, for the tests that need
// the protocol to cross process boundaries: `switchyard device serve` and
// three `switchyard apparatus serve` children on ephemeral ports (a1, started
// first, wins the controller lease; the others are candidates). Every child is ended through the cluster that started it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NbdClient } from "@switchyard/device/nbd";
import { assertSucceeded, cliPath, runCli } from "./appliance.js";

/** How long a child may take to print its endpoints, and the cluster to have every apparatus serving. */
export const startTimeoutMs = 20_000;
/** Polling interval while waiting for apparatuses to serve. */
const servingPollMs = 250;
/** A host connection waits this long for one answer before it counts as broken. */
const hostTimeoutMs = 30_000;
export const apparatusIds = ["a1", "a2", "a3"] as const;
export type ApparatusId = (typeof apparatusIds)[number];

export interface ClusterOptions {
  /** A planted bug (`--test-fault`) per apparatus. */
  readonly faults?: Partial<Record<ApparatusId, string>>;
  /** More arguments for one apparatus's `apparatus serve`. */
  readonly extraArgs?: Partial<Record<ApparatusId, readonly string[]>>;
  readonly luSize?: string;
}

interface Served {
  readonly nbd: string;
  readonly grpc: string;
  readonly pid: number;
}

export class ProcessCluster {
  private readonly children: ChildProcess[] = [];
  private readonly served = new Map<ApparatusId, Served>();
  private constructor(readonly dir: string) {}

  static async start(options: ClusterOptions = {}): Promise<ProcessCluster> {
    const cluster = new ProcessCluster(await mkdtemp(join(tmpdir(), "switchyard-processes-")));
    try {
      await cluster.startChildren(options);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  private async startChildren(options: ClusterOptions): Promise<void> {
    const deviceArgs = ["device", "serve", "--dir", join(this.dir, "dev"), "--grpc-port", "0", "--nbd-port", "0", "--lu-size", options.luSize ?? "128MiB"];
    const device = (await this.startServing(deviceArgs)) as { device: { grpc: string } };
    for (const id of apparatusIds) {
      const fault = options.faults?.[id];
      const args = [
        "apparatus", "serve", "--id", id, "--device", device.device.grpc, "--nbd-port", "0", "--grpc-port", "0",
        ...(fault === undefined ? [] : ["--test-fault", fault]),
        ...(options.extraArgs?.[id] ?? []),
      ];
      this.served.set(id, (await this.startServing(args)) as Served);
    }
    await this.waitUntilServing(apparatusIds);
  }

  /** Starts `switchyard ARGS --json` and resolves with the JSON it prints once serving. */
  private startServing(args: readonly string[]): Promise<unknown> {
    const child = spawn(process.execPath, [cliPath, ...args, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      let out = "";
      let err = "";
      const timer = setTimeout(() => {
        reject(new Error(`${args.join(" ")}: nothing within ${startTimeoutMs} ms\n${err}`));
      }, startTimeoutMs);
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        try {
          const parsed: unknown = JSON.parse(out);
          clearTimeout(timer);
          resolve(parsed);
        } catch {
          // Not all of it yet.
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${args.join(" ")} exited ${code}\n${err}`));
      });
    });
  }

  private apparatus(id: ApparatusId): Served {
    const served = this.served.get(id);
    if (served === undefined) throw new Error(`apparatus ${id} was not started`);
    return served;
  }

  /** The gRPC address of a1, which wins the first election (any apparatus passes console calls on to the controller). */
  get controller(): string {
    return this.apparatus("a1").grpc;
  }

  pid(id: ApparatusId): number {
    return this.apparatus(id).pid;
  }

  grpc(id: ApparatusId): string {
    return this.apparatus(id).grpc;
  }

  connect(id: ApparatusId, exportName: string): Promise<NbdClient> {
    const [host = "", port = ""] = this.apparatus(id).nbd.split(":");
    return NbdClient.connect({ host, port: Number(port), exportName, timeoutMs: hostTimeoutMs });
  }

  async apparatusStates(via: ApparatusId = "a1"): Promise<Map<string, string>> {
    const result = await runCli(["cluster", "status", "--json", "--endpoint", this.grpc(via)]);
    assertSucceeded(result);
    const status = JSON.parse(result.stdout) as { apparatuses: { id: string; state: string }[] };
    return new Map(status.apparatuses.map((apparatus) => [apparatus.id, apparatus.state]));
  }

  async waitUntilServing(ids: readonly ApparatusId[], via: ApparatusId = "a1"): Promise<void> {
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      const states = await this.apparatusStates(via);
      if (ids.every((id) => states.get(id) === "serving")) return;
      if (Date.now() > deadline) throw new Error(`not all serving: ${JSON.stringify([...states])}`);
      await new Promise((resolve) => setTimeout(resolve, servingPollMs));
    }
  }

  /** Ends every child this cluster started (a stopped one is resumed first) and removes its folder. */
  async stop(): Promise<void> {
    for (const child of this.children) {
      if (child.pid !== undefined && child.exitCode === null) {
        child.kill("SIGCONT");
        child.kill("SIGKILL");
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A block whose first 4 bytes name the write that put it there; the rest is filler. */
export function stamp(value: number, blockBytes: number): Buffer {
  const buffer = Buffer.alloc(blockBytes, value & 0xff);
  buffer.writeUInt32BE(value, 0);
  return buffer;
}
